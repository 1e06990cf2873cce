import { resolve } from 'node:path';
import {
  describeError,
  type FlagSpecs,
  type FlagValues,
  formatHelp,
  LabError,
  parseArgs,
} from '@pushpull/common';
import { type CliIo, EXIT, withInterrupts } from '../../core/cli.ts';
import {
  COMMON_FLAGS,
  FLEET_FLAGS,
  fleetFlags,
  INCIDENT_FLEET_PODS,
  planHelp,
  STACK_START_FLAGS,
} from '../../core/flags.ts';
import { paths, repoRoot } from '../../core/paths.ts';
import { RUNTIME_CHOICES } from '../../core/record.ts';
import { planLines } from '../../core/resources.ts';
import { makeRunId, newWorkDir, removeWorkDir } from '../../core/workdir.ts';
import { PromClient } from '../../probe/prom.ts';
import { capabilitiesOf } from '../../runtime/capabilities.ts';
import { defaultSelect, factoryFor, reapLocalLeftovers, type SelectFn } from '../../runtime/select.ts';
import { clearState, readState, stateFilePath, writeState } from '../../runtime/stack-state.ts';
import type { Runtime, StackState } from '../../runtime/types.ts';

// The stack verbs: `up` starts the stack and a steady fleet that outlives the command (recorded in
// .lab/state.json), `status` re-attaches and reports, `scale <pods>` resizes the fleet, `down` stops it.

export const UP_FLAGS: FlagSpecs = STACK_START_FLAGS;
export const BASIC_FLAGS: FlagSpecs = { ...COMMON_FLAGS };
/** `scale <pods>`: the pod count is the positional argument. */
export const SCALE_FLAGS: FlagSpecs = { ...COMMON_FLAGS, ...FLEET_FLAGS };

export const STACK_USAGE = {
  up:
    `pushpull-lab up [--runtime ${RUNTIME_CHOICES.join('|')}] [--pods N] [flags]\n` +
    'Starts the stack and a steady fleet that stays up after the command returns (state in --state-dir).',
  status: 'pushpull-lab status [flags]\nShows the stack `up` started; exit 3 when none is up.',
  scale:
    'pushpull-lab scale <pods> [flags]\nResizes the running fleet to <pods> virtual pods; Prometheus follows within one discovery refresh.',
  down: 'pushpull-lab down [flags]\nStops everything `up` started and reaps leftovers of crashed runs.',
} as const;

export const STACK_VERB_FLAGS: Record<keyof typeof STACK_USAGE, FlagSpecs> = {
  up: UP_FLAGS,
  status: BASIC_FLAGS,
  scale: SCALE_FLAGS,
  down: BASIC_FLAGS,
};

export interface StackDeps {
  select?: SelectFn;
  signals?: NodeJS.EventEmitter;
  root?: string;
}

function stateDirOf(flags: Record<string, unknown>, root: string): string {
  return typeof flags['state-dir'] === 'string' ? resolve(String(flags['state-dir'])) : paths(root).stateDir;
}

function printEndpoints(io: CliIo, s: StackState): void {
  const e = s.endpoints;
  io.out(
    [
      `  prometheus   ${e.prometheusUrl}${e.pushPrometheusUrl ? ` (pull's store; push's: ${e.pushPrometheusUrl})` : ''}`,
      `  pushgateway  ${e.pushgatewayUrl}`,
      `  collector    ${e.collectorHttpUrl}/metrics`,
      `  node-exporter ${e.nodeExporterUrl ?? '(off)'}`,
      `  producers    ${s.members.length} (${s.members.reduce((a, m) => a + m.podIds.length, 0)} pods)${s.members[0] ? `, e.g. ${s.members[0].baseUrl}/control/state` : ''}`,
      '',
    ].join('\n'),
  );
}

/** Parses a stack verb's flags; null when it printed its help. */
function verbFlags(
  verb: keyof typeof STACK_USAGE,
  argv: readonly string[],
  io: CliIo,
  positionalsAllowed: boolean,
): { flags: FlagValues; positionals: string[] } | null {
  const specs = STACK_VERB_FLAGS[verb];
  const { flags, positionals } = parseArgs(argv, specs, io.env);
  if (!positionalsAllowed && positionals.length > 0)
    throw new LabError('LAB_ERR_FLAG_VALUE', `${verb}: unexpected argument "${positionals[0]}"`);
  if (flags.help) {
    io.out(`${formatHelp(STACK_USAGE[verb], specs)}\n${'cpus' in specs ? `\n${planHelp()}\n` : ''}`);
    return null;
  }
  return { flags, positionals };
}
export async function upCommand(argv: string[], io: CliIo, deps: StackDeps = {}): Promise<number> {
  const parsed = verbFlags('up', argv, io, false);
  if (!parsed) return EXIT.ok;
  const f = fleetFlags(parsed.flags);
  const root = deps.root ?? repoRoot(io.env);
  const stateDir = stateDirOf(parsed.flags, root);
  const existing = readState(stateDir);
  if (existing) {
    const rt = await (await factoryFor(existing.stack.kind, root)).attach(existing.stack);
    const dead = await rt.dead();
    if (dead.length === 0) {
      io.out(
        `already up (run ${existing.stack.runId}, ${existing.stack.kind} runtime); \`down\` first to change it\n`,
      );
      printEndpoints(io, existing.stack);
      return EXIT.ok;
    }
    io.err(
      `the recorded stack ${existing.stack.runId} is partly gone (${dead.join(', ')}): cleaning it up first\n`,
    );
    await rt.down();
    clearState(stateDir);
  }
  const sel = await (deps.select ?? defaultSelect)(f.runtime, root);
  const runId = makeRunId();
  const workDir = newWorkDir(runId);
  const runtime = sel.factory.create();
  const held = {
    killNow: () => {
      runtime.killNow?.();
      removeWorkDir(workDir);
    },
  };
  return withInterrupts(deps.signals ?? process, io, held, async (signal) => {
    try {
      const reaped = await sel.factory.reap([]).catch(() => []);
      if (reaped.length > 0) io.err(`removed leftovers of earlier runs: ${reaped.join(', ')}\n`);
      io.out(`starting the stack (${runtime.kind} runtime, run ${runId})\n`);
      io.out(`resources (--cpus, --cpuset, --memory):\n  ${planLines(f.resources, f.store).join('\n  ')}\n`);
      await runtime.up({
        resources: f.resources,
        runId,
        workDir,
        scrapeIntervalMs: f.scrapeIntervalMs,
        withNodeExporter: f.nodeExporter && capabilitiesOf(runtime.kind).nodeExporter,
        store: f.store,
        log: (m) => io.err(`${m}\n`),
        persistent: true,
        signal,
      });
      await runtime.scale(f.producers, {
        podsPerProducer: f.podsPerProducer,
        totalPods: f.pods,
        seed: f.seed,
        pushMode: f.pushMode,
        jitter: f.jitter,
        transport: f.transport,
        otlpTemporality: f.otlpTemporality,
        heartbeatMs: 5000,
        flushIntervalMs: 10_000,
        fleetPods: INCIDENT_FLEET_PODS,
      });
      const st = runtime.describe();
      writeState(stateDir, st, sel.reasons);
      io.out(
        `up: ${f.pods} pods on ${f.producers} producers at the steady rate; state in ${stateFilePath(stateDir)}\n`,
      );
      printEndpoints(io, st);
      return EXIT.ok;
    } catch (e) {
      await runtime.down().catch(() => undefined);
      removeWorkDir(workDir);
      throw e;
    }
  });
}

export async function statusCommand(argv: string[], io: CliIo, deps: StackDeps = {}): Promise<number> {
  const parsed = verbFlags('status', argv, io, false);
  if (!parsed) return EXIT.ok;
  const root = deps.root ?? repoRoot(io.env);
  const stateDir = stateDirOf(parsed.flags, root);
  const st = readState(stateDir);
  if (!st) {
    io.out(`no stack is up (no ${stateFilePath(stateDir)}); start one with \`npm run lab:up\`\n`);
    return EXIT.notUp;
  }
  const s = st.stack;
  const rt = await (await factoryFor(s.kind, root)).attach(s);
  const dead = new Set(await rt.dead());
  io.out(
    `stack ${s.runId}: ${s.kind} runtime, up ${Math.round((Date.now() - s.startedAtMs) / 1000)} s, work dir ${s.workDir}\n`,
  );
  for (const [name, handle] of Object.entries(s.components))
    io.out(
      `  ${name.padEnd(14)} ${capabilitiesOf(s.kind).handle === 'pid' ? `pid ${handle}` : handle.slice(0, 12)}  ${dead.has(name) ? 'NOT RUNNING' : 'running'}\n`,
    );
  const deadProducers = s.members.filter((m) => dead.has(m.name)).map((m) => m.name);
  io.out(
    `  producers      ${s.members.length - deadProducers.length}/${s.members.length} running, ${s.members.reduce((a, m) => a + m.podIds.length, 0)} pods${deadProducers.length ? ` (not running: ${deadProducers.join(', ')})` : ''}\n`,
  );
  printEndpoints(io, s);
  io.out(`  prometheus: ${await prometheusSummary(s.endpoints)}\n`);
  return dead.size > 0 ? EXIT.failed : EXIT.ok;
}

/** The pods' targets from pull's store, the collector's from push's (the same one with --store shared). */
async function prometheusSummary(e: StackState['endpoints']): Promise<string> {
  try {
    const v = await new PromClient(e.prometheusUrl, 3000).combined({
      producersUp: 'count(up{job="producers"} == 1)',
      producers: 'count(up{job="producers"})',
      p99: 'quantile(0.99, scrape_duration_seconds{job="producers"})',
      firing: 'count(ALERTS{alertstate="firing"})',
    });
    v.collectorUp = await new PromClient(e.pushPrometheusUrl ?? e.prometheusUrl, 3000).scalar(
      'max(up{job="collector"})',
    );
    const p99 = v.p99 === null || v.p99 === undefined ? '–' : `${v.p99.toFixed(3)} s`;
    return `${v.producersUp ?? 0}/${v.producers ?? 0} pod targets up, collector ${v.collectorUp === 1 ? 'up' : 'down'}, scrape p99 ${p99}, ${v.firing ?? 0} alert(s) firing`;
  } catch (e) {
    return `not answering (${describeError(e)})`;
  }
}

/** `scale <pods>`: the one positional argument, an integer in [1, 20000]. */
function podsArgument(positionals: readonly string[]): number {
  if (positionals.length !== 1)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `scale: expected exactly one argument <pods>, got ${positionals.length === 0 ? 'none' : `"${positionals.join(' ')}"`}`,
    );
  const raw = positionals[0]!;
  const pods = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(pods) || pods < 1 || pods > 20_000)
    throw new LabError('LAB_ERR_FLAG_VALUE', `scale: <pods> "${raw}" is not an integer in [1, 20000]`, {
      value: raw,
    });
  return pods;
}

export async function scaleCommand(argv: string[], io: CliIo, deps: StackDeps = {}): Promise<number> {
  const parsed = verbFlags('scale', argv, io, true);
  if (!parsed) return EXIT.ok;
  const pods = podsArgument(parsed.positionals);
  const root = deps.root ?? repoRoot(io.env);
  const stateDir = stateDirOf(parsed.flags, root);
  const st = readState(stateDir);
  if (!st)
    throw new LabError(
      'LAB_ERR_CONFIG',
      `no stack is up (no ${stateFilePath(stateDir)}): run \`npm run lab:up\` first`,
    );
  const opts = st.stack.producerOptions;
  if (!opts)
    throw new LabError(
      'LAB_ERR_CONFIG',
      `the recorded stack has no producer options; \`down\` and \`up\` again`,
    );
  const rt = await (await factoryFor(st.stack.kind, root)).attach(st.stack);
  return withInterrupts(deps.signals ?? process, io, {}, async () => {
    const producers = Math.ceil(pods / opts.podsPerProducer);
    let members: Awaited<ReturnType<Runtime['scale']>>;
    try {
      members = await rt.scale(producers, { ...opts, totalPods: pods });
    } finally {
      // Also after a failed scale: what did start must be recorded, so `down` stops it.
      writeState(stateDir, rt.describe(), st.selection);
    }
    io.out(
      `scaled to ${members.reduce((a, m) => a + m.podIds.length, 0)} pods on ${members.length} producers\n`,
    );
    return EXIT.ok;
  });
}

export async function downCommand(argv: string[], io: CliIo, deps: StackDeps = {}): Promise<number> {
  const parsed = verbFlags('down', argv, io, false);
  if (!parsed) return EXIT.ok;
  const root = deps.root ?? repoRoot(io.env);
  const stateDir = stateDirOf(parsed.flags, root);
  const st = readState(stateDir);
  if (st) {
    const rt = await (await factoryFor(st.stack.kind, root)).attach(st.stack);
    await rt.down();
    // Docker's work dir holds the bind-mounted sd files its containers wrote; swarm's holds nothing of theirs.
    if (!capabilitiesOf(st.stack.kind).workDirHoldsContainerFiles) removeWorkDir(st.stack.workDir);
    clearState(stateDir);
    io.out(`down: stopped stack ${st.stack.runId} (${st.stack.kind} runtime)\n`);
  } else io.out(`no stack recorded in ${stateFilePath(stateDir)}\n`);
  // Leftovers of crashed runs (never the stack of another state dir that is still running).
  const removed = await reapLocalLeftovers([], root).catch(() => [] as string[]);
  if (removed.length > 0) io.out(`removed leftovers: ${removed.join(', ')}\n`);
  return EXIT.ok;
}
