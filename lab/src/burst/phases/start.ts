import { LabError } from '@pushpull/common';
import { hostMemory } from '../../core/host.ts';
import { planLines } from '../../core/resources.ts';
import { ProbeLoop } from '../../probe/loop.ts';
import { capabilitiesOf } from '../../runtime/capabilities.ts';
import type { ProducerOptions } from '../../runtime/types.ts';
import type { RunContext } from '../context.ts';
import { watchPushAgents } from '../push-agents.ts';
import { replicaProbeTargets, replicaStackOptions } from '../replicas.ts';
import { readReuseBaseline } from './reuse.ts';
import { selfCheckStart } from './self-check.ts';
import { warmupLimitMs } from './warmup.ts';

// Start: clear leftovers of earlier runs, bring the stack up, scale the fleet, and start probing.

/** The run stops when the host's MemAvailable drops below max(1 GiB, 8 % of RAM): a shared machine survives. */
function minHostMemAvailable(): number {
  const m = hostMemory();
  return Math.max(2 ** 30, 0.08 * (m?.totalBytes ?? 0));
}

export async function start(ctx: RunContext): Promise<void> {
  const { config, runtime, deps, progress, signal } = ctx;
  // A shared stack was reaped (if at all) by the run that brought it up.
  const reaped = deps.stack
    ? []
    : await deps.factory.reap(deps.keepRunIds).catch((e: Error) => [`(reaper failed: ${e.message})`]);
  if (reaped.length > 0) progress.note(`removed leftovers of earlier runs: ${reaped.join(', ')}`);
  await ctx.setPhase('start', `${runtime.kind} runtime, work dir ${ctx.workDir}`);
  if (config.resources)
    progress.note(
      `resources (--cpus, --cpuset, --memory):\n  ${planLines(config.resources, config.store ?? 'shared').join('\n  ')}`,
    );
  checkPullTopology(ctx);
  ctx.endpoints = await runtime.up({
    runId: deps.stack?.runId ?? ctx.runId,
    workDir: ctx.workDir,
    scrapeIntervalMs: config.scrapeIntervalMs,
    // A runtime without node-exporter reads the kernel's UDP counters from the collector itself.
    withNodeExporter: config.nodeExporter && capabilitiesOf(runtime.kind).nodeExporter,
    collectorFlags: ctx.budget.collectorFlags,
    ...(config.resources ? { resources: config.resources } : {}),
    store: config.store ?? 'shared',
    ...replicaStackOptions(ctx),
    ...(config.pullTopology ? { pullTopology: config.pullTopology } : {}),
    ...(config.pushTopology === 'agent' ? { pushTopology: 'agent' as const } : {}), // #27: push's budget split
    ...producerScrape(ctx),
    log: (m) => progress.note(m),
    persistent: false,
    signal,
  });
  ctx.checkFatal();
  await selfCheckStart(ctx);
  if (deps.stack?.reused) ctx.reuse = await readReuseBaseline(ctx);
  ctx.members = await runtime.scale(config.producers, producerOptions(config));
  ctx.fleetStartMs = Date.now();
  startProbe(ctx);
  watchPushAgents(
    ctx,
    warmupLimitMs(config) + config.leadMs + config.durationMs + 6 * config.scrapeIntervalMs + 120_000,
  );
}

/** The fleet's options (a shared stack's teardown scales to 0 with them). */
export function producerOptions(config: RunContext['config']): ProducerOptions {
  return {
    podsPerProducer: config.podsPerProducer,
    totalPods: config.pods,
    seed: config.seed,
    pushMode: config.pushMode,
    jitter: config.jitter,
    transport: config.transport,
    ...(config.otlpTemporality ? { otlpTemporality: config.otlpTemporality } : {}),
    heartbeatMs: config.heartbeatMs,
    flushIntervalMs: config.flushIntervalMs,
    fleetPods: config.fleetPods,
    ...(config.testClockSkew ? { testClockSkew: config.testClockSkew } : {}),
    ...(config.pushTopology === 'agent' ? { pushTopology: 'agent' as const } : {}),
  };
}

/**
 * The producers job's limits, and --pull off (the pods are not scraped). Without a budget the lab lifts the
 * sample_limit of prometheus/prometheus.yml (50,000 per pod, a cautious team's limit for compose users) to
 * none (0), as it lifts the collector's caps: by default neither path has a limit the other has not.
 */
function producerScrape(ctx: RunContext): {
  producerScrape: { sampleLimit: number; off?: boolean; stableInstance?: boolean };
} {
  const off = ctx.config.pull === false;
  const stable = ctx.deps.stack ? { stableInstance: true } : {};
  return { producerScrape: { sampleLimit: ctx.sampleLimit ?? 0, ...(off ? { off: true } : stable) } };
}

/** Probes every second from here to teardown; each sample goes to the progress output. */
function startProbe(ctx: RunContext): void {
  const { config, runtime, progress } = ctx;
  const endpoints = ctx.stack;
  const probe = new ProbeLoop(
    {
      prom: ctx.prom(),
      promSlow: ctx.prom(15_000),
      pushProm: ctx.store('push'),
      collectorUrl: endpoints.collectorHttpUrl,
      nodeExporterUrl: endpoints.nodeExporterUrl,
      members: () => ctx.members,
      cpuSeconds: () => runtime.cpuSeconds(),
      ...(runtime.rssBytes ? { rssBytes: () => runtime.rssBytes!() } : {}),
      ...(runtime.resourceCounters ? { resourceCounters: () => runtime.resourceCounters!() } : {}),
      minHostMemAvailable: minHostMemAvailable(),
      dead: () => runtime.dead(),
      ...(runtime.logs ? { logs: (n: string) => runtime.logs!(n) } : {}),
      scrapeIntervalMs: config.scrapeIntervalMs,
      ...replicaProbeTargets(ctx),
      ...(config.pullTopology === 'agent' && runtime.pullAgents
        ? { agents: () => runtime.pullAgents!() }
        : {}),
    },
    {
      maxDurationMs:
        warmupLimitMs(config) + config.leadMs + config.durationMs + 6 * config.scrapeIntervalMs + 120_000,
    },
  );
  probe.onSample = (s) =>
    progress.sample(s, {
      burstAtMs: ctx.burstAtMs,
      scrapeIntervalMs: config.scrapeIntervalMs,
      pods: config.pods,
    });
  ctx.probe = probe;
  probe.start();
}

/** #29: a runtime that cannot run pull agents refuses `--pull-topology agent` rather than run the central one. */
function checkPullTopology(ctx: RunContext): void {
  if (ctx.config.pullTopology === 'agent' && !ctx.runtime.pullAgents)
    throw new LabError(
      'LAB_ERR_CONFIG',
      `--pull-topology agent: the ${ctx.runtime.kind} runtime cannot run pull agents yet (use --runtime process or docker)`,
      { runtime: ctx.runtime.kind },
    );
  if (ctx.config.pullTopology === 'agent')
    ctx.notes.push(
      `pull topology agent: a Prometheus in agent mode per producer host scrapes that host's pods and remote-writes to pull's store (prometheus, --web.enable-remote-write-receiver); ${ctx.runtime.kind === 'process' ? "the agents share pull's budget (the prometheus cgroup: the central store and every agent)" : "pull's budget split: the central store half, the agents the other half in equal shares (docker limits each container)"}`,
    );
}
