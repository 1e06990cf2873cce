import { hostMemory } from '../../core/host.ts';
import { planLines } from '../../core/resources.ts';
import { ProbeLoop } from '../../probe/loop.ts';
import { capabilitiesOf } from '../../runtime/capabilities.ts';
import type { RunContext } from '../context.ts';
import { pushAgentTopologyOn, watchPushAgents } from '../push-agents.ts';
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
  const reaped = await deps.factory
    .reap(deps.keepRunIds)
    .catch((e: Error) => [`(reaper failed: ${e.message})`]);
  if (reaped.length > 0) progress.note(`removed leftovers of earlier runs: ${reaped.join(', ')}`);
  await ctx.setPhase('start', `${runtime.kind} runtime, work dir ${ctx.workDir}`);
  if (config.resources)
    progress.note(
      `resources (--cpus, --cpuset, --memory):\n  ${planLines(config.resources, config.store ?? 'shared').join('\n  ')}`,
    );
  ctx.endpoints = await runtime.up({
    runId: ctx.runId,
    workDir: ctx.workDir,
    scrapeIntervalMs: config.scrapeIntervalMs,
    // A runtime without node-exporter reads the kernel's UDP counters from the collector itself.
    withNodeExporter: config.nodeExporter && capabilitiesOf(runtime.kind).nodeExporter,
    collectorFlags: ctx.budget.collectorFlags,
    ...(config.resources ? { resources: config.resources } : {}),
    store: config.store ?? 'shared',
    ...producerScrape(ctx),
    log: (m) => progress.note(m),
    persistent: false,
    signal,
  });
  ctx.checkFatal();
  await selfCheckStart(ctx);
  ctx.members = await runtime.scale(config.producers, {
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
    ...(config.pushTopology === 'agent' ? { pushTopology: pushAgentTopologyOn(runtime.kind) } : {}),
  });
  ctx.fleetStartMs = Date.now();
  startProbe(ctx);
  watchPushAgents(
    ctx,
    warmupLimitMs(config) + config.leadMs + config.durationMs + 6 * config.scrapeIntervalMs + 120_000,
  );
}

/**
 * The producers job's limits, and --pull off (the pods are not scraped). Without a budget the lab lifts the
 * sample_limit of prometheus/prometheus.yml (50,000 per pod, a cautious team's limit for compose users) to
 * none (0), as it lifts the collector's caps: by default neither path has a limit the other has not.
 */
function producerScrape(ctx: RunContext): { producerScrape: { sampleLimit: number; off?: boolean } } {
  const off = ctx.config.pull === false;
  return { producerScrape: { sampleLimit: ctx.sampleLimit ?? 0, ...(off ? { off: true } : {}) } };
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
