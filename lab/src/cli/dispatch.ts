import { setMaxListeners } from 'node:events';
import { resolve } from 'node:path';
import { describeError, formatHelp, isLabError, LabError, parseArgs } from '@pushpull/common';
import { makeRunId, removeWorkDir, runBurst } from '../burst/run.ts';
import { PromClient } from '../probe/prom.ts';
import { renderTerminalSummary, writeReport } from '../report/render.ts';
import { newWorkDir, reapProcessRuns } from '../runtime/process.ts';
import { defaultCandidates, selectRuntime } from '../runtime/select.ts';
import type { Runtime, RuntimeFactory, RuntimeKind, StackState } from '../runtime/types.ts';
import { paths, repoRoot } from '../util/paths.ts';
import { BASIC_FLAGS, BURST_FLAGS, fleetFlags, parseBurstFlags, SCALE_FLAGS, UP_FLAGS } from './flags.ts';
import { createProgress } from './progress.ts';
import { clearState, readState, stateFilePath, writeState } from './state.ts';

// `pushpull-lab <verb>`: dispatch, exit codes, Ctrl-C. Exit codes: 0 ok, 1 the lab failed (LAB_ERR_*),
// 2 bad usage (unknown flag, bad value), 3 --fail-on condition met (burst) / no stack up (status),
// 130 interrupted (Ctrl-C / SIGTERM: everything started was torn down first).

export interface CliIo {
  out(s: string): void;
  err(s: string): void;
  isTTY: boolean;
  columns?: number;
  env: NodeJS.ProcessEnv;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, failOn: 3, notUp: 3, interrupted: 130 } as const;

const USAGE = `pushpull-lab <verb> [flags]    (npm run lab:<verb> -- [flags])

Verbs:
  up               start the stack and a steady fleet (stays up; state in .lab/state.json)
  status           show the stack \`up\` started
  scale <pods>     resize the running fleet
  down             stop everything \`up\` started (and leftovers of crashed runs)
  burst            one market-open run: warm-up, open, hold, decay, drain; writes run.json + reports
  drill            every failure-mode scenario (lab/scenarios/): the measured push/pull grid
  scenario <name>  one scenario (target-dies, network-partition, short-lived-job, synchronised-flush,
                   scrape-storm, body-balloon)
  model            the seeded burst model (flush/scrape peaks with and without jitter)
  cost             per-event cost of the push and pull paths
  help [verb]      this text, or a verb's flags

Exit codes: 0 ok, 1 lab error, 2 bad usage, 3 --fail-on met (burst) / no stack up (status), 130 interrupted.`;

const USAGE_LINES: Record<string, string> = {
  up: 'pushpull-lab up [--runtime auto|docker|process] [--pods 140] [...]',
  status: 'pushpull-lab status',
  scale: 'pushpull-lab scale <pods>',
  down: 'pushpull-lab down',
  burst:
    'pushpull-lab burst [--runtime auto|docker|process] [--pods 140] [--duration 60s] [--fail-on "push.lossPct>1"] [...]',
};
const VERB_FLAGS = {
  up: UP_FLAGS,
  status: BASIC_FLAGS,
  scale: SCALE_FLAGS,
  down: BASIC_FLAGS,
  burst: BURST_FLAGS,
};

export interface CliDeps {
  /** Runtime selection (tests inject fakes). */
  select?: (
    requested: RuntimeKind | 'auto',
    root: string,
  ) => Promise<{ factory: RuntimeFactory; reasons: string[] }>;
  /** Signal source (tests inject an emitter). */
  signals?: NodeJS.EventEmitter;
  root?: string;
}

function stateDirOf(flags: Record<string, unknown>, root: string): string {
  return typeof flags['state-dir'] === 'string' ? resolve(String(flags['state-dir'])) : paths(root).stateDir;
}

/**
 * SIGINT/SIGTERM → abort the run (every wait wakes up, `finally` tears down, exit 130). A second signal
 * while tearing down → SIGKILL everything right away and exit 130.
 */
function interrupts(
  signals: NodeJS.EventEmitter,
  io: CliIo,
  state: { runtime: Runtime | null; workDir: string | null },
): { signal: AbortSignal; dispose(): void } {
  const ctl = new AbortController();
  // Every in-flight request listens to this signal (dozens at a time with a large fleet).
  setMaxListeners(0, ctl.signal);
  let count = 0;
  const onSignal = (sig: string) => {
    count++;
    if (count === 1) {
      io.err(`\n${sig}: stopping — tearing down everything this run started (again to force)\n`);
      ctl.abort(new LabError('LAB_ERR_INTERRUPTED', `interrupted by ${sig}`));
      return;
    }
    io.err(`${sig} again: killing now\n`);
    state.runtime?.killNow?.();
    if (state.workDir) removeWorkDir(state.workDir);
    process.exit(EXIT.interrupted);
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  signals.on('SIGINT', onInt);
  signals.on('SIGTERM', onTerm);
  return {
    signal: ctl.signal,
    dispose() {
      signals.off('SIGINT', onInt);
      signals.off('SIGTERM', onTerm);
    },
  };
}

async function defaultSelect(requested: RuntimeKind | 'auto', root: string) {
  return selectRuntime(requested, defaultCandidates(root));
}

async function factoryFor(kind: RuntimeKind, root: string): Promise<RuntimeFactory> {
  const c = defaultCandidates(root).find((x) => x.kind === kind)!;
  return c.load();
}

export async function runCli(argv: readonly string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  const verb = argv[0];
  const rest = argv.slice(1);
  try {
    switch (verb) {
      case undefined:
      case 'help':
      case '--help':
      case '-h': {
        // Verbs with flags of their own (model, cost, drill, scenario) print them on --help.
        const own = rest[0];
        if (own === 'model' || own === 'cost') return await delegate(own, ['--help'], io);
        if (own === 'drill' || own === 'scenario') return await drillCommand(own, ['--help'], io, deps);
        const sub = own as keyof typeof VERB_FLAGS | undefined;
        if (sub && sub in VERB_FLAGS) io.out(`${formatHelp(USAGE_LINES[sub]!, VERB_FLAGS[sub])}\n`);
        else io.out(`${USAGE}\n`);
        return verb === undefined ? EXIT.usage : EXIT.ok;
      }
      case 'model':
      case 'cost':
        return await delegate(verb, rest, io);
      case 'burst':
        return await burstCommand(rest, io, deps);
      case 'drill':
      case 'scenario':
        return await drillCommand(verb, rest, io, deps);
      case 'up':
        return await upCommand(rest, io, deps);
      case 'status':
        return await statusCommand(rest, io, deps);
      case 'scale':
        return await scaleCommand(rest, io, deps);
      case 'down':
        return await downCommand(rest, io, deps);
      default:
        throw new LabError(
          'LAB_ERR_FLAG_UNKNOWN',
          `unknown verb "${verb}"; verbs: up, down, status, scale, burst, drill, scenario, model, cost, help`,
        );
    }
  } catch (e) {
    if (isLabError(e, 'LAB_ERR_INTERRUPTED')) {
      io.err(`${describeError(e)}; torn down\n`);
      return EXIT.interrupted;
    }
    io.err(`${describeError(e)}\n`);
    if (isLabError(e, 'LAB_ERR_FLAG_UNKNOWN') || isLabError(e, 'LAB_ERR_FLAG_VALUE')) return EXIT.usage;
    return EXIT.failed;
  }
}

async function drillCommand(
  verb: 'drill' | 'scenario',
  argv: string[],
  io: CliIo,
  deps: CliDeps,
): Promise<number> {
  const { runDrillCommand } = await import('../drill/cli.ts');
  const held = { runtime: null as Runtime | null, workDir: null as string | null };
  const intr = interrupts(deps.signals ?? process, io, held);
  try {
    return await runDrillCommand(verb, argv, io, intr.signal);
  } finally {
    intr.dispose();
  }
}

async function delegate(verb: 'model' | 'cost', argv: string[], io: CliIo): Promise<number> {
  type Cmd = (argv: string[], io: { out(s: string): void; err(s: string): void }) => Promise<number> | number;
  let fn: Cmd | undefined;
  try {
    // Literal specifiers so the bundle includes them.
    if (verb === 'model') fn = (await import('../model/cli.ts')).runModelCommand as Cmd;
    else fn = (await import('../cost/cli.ts')).runCostCommand as Cmd;
  } catch (e) {
    throw new LabError(
      'LAB_ERR_CONFIG',
      `the "${verb}" command is not available in this build (lab/src/${verb}/cli.ts): ${(e as Error).message}`,
    );
  }
  if (typeof fn !== 'function')
    throw new LabError(
      'LAB_ERR_CONFIG',
      `lab/src/${verb}/cli.ts does not export run${verb === 'model' ? 'Model' : 'Cost'}Command`,
    );
  return await fn(argv, { out: (s) => io.out(s), err: (s) => io.err(s) });
}

async function burstCommand(argv: string[], io: CliIo, deps: CliDeps): Promise<number> {
  const { config, help, stateDir } = parseBurstFlags(argv, io.env);
  if (help) {
    io.out(`${formatHelp(USAGE_LINES.burst!, BURST_FLAGS)}\n`);
    return EXIT.ok;
  }
  const root = deps.root ?? repoRoot(io.env);
  const sel = await (deps.select ?? defaultSelect)(config.runtime, root);
  const held = { runtime: null as Runtime | null, workDir: null as string | null };
  const intr = interrupts(deps.signals ?? process, io, held);
  const keep: string[] = [];
  try {
    const st = readState(stateDir ?? paths(root).stateDir);
    if (st) {
      keep.push(st.stack.runId);
      io.err(
        `note: a stack started by \`up\` is running (run ${st.stack.runId}); it shares the CPU with this run\n`,
      );
    }
  } catch {}
  try {
    const progress = createProgress({
      write: (s) => io.out(s),
      isTTY: io.isTTY,
      ...(io.columns ? { columns: io.columns } : {}),
    });
    const { record, outDir } = await runBurst(config, {
      root,
      factory: sel.factory,
      selectionReasons: sel.reasons,
      progress,
      signal: intr.signal,
      keepRunIds: keep,
      onRuntime: (rt, wd) => {
        held.runtime = rt;
        held.workDir = wd;
      },
    });
    const written = writeReport(outDir, record);
    io.out(`\n${renderTerminalSummary(record)}\n\nrecord and report: ${written.files.join(', ')}\n`);
    if (record.error) return EXIT.failed;
    if (record.failOn?.met) return EXIT.failOn;
    return EXIT.ok;
  } finally {
    intr.dispose();
  }
}

function printEndpoints(io: CliIo, s: StackState): void {
  const e = s.endpoints;
  io.out(
    [
      `  prometheus   ${e.prometheusUrl}`,
      `  pushgateway  ${e.pushgatewayUrl}`,
      `  collector    ${e.collectorHttpUrl}/metrics`,
      `  node-exporter ${e.nodeExporterUrl ?? '(off)'}`,
      `  producers    ${s.members.length} (${s.members.reduce((a, m) => a + m.podIds.length, 0)} pods)${s.members[0] ? `, e.g. ${s.members[0].baseUrl}/control/state` : ''}`,
      '',
    ].join('\n'),
  );
}

async function upCommand(argv: string[], io: CliIo, deps: CliDeps): Promise<number> {
  const { flags, positionals } = parseArgs(argv, UP_FLAGS, io.env);
  if (positionals.length > 0)
    throw new LabError('LAB_ERR_FLAG_VALUE', `up: unexpected argument "${positionals[0]}"`);
  if (flags.help) {
    io.out(`${formatHelp(USAGE_LINES.up!, UP_FLAGS)}\n`);
    return EXIT.ok;
  }
  const f = fleetFlags(flags);
  const root = deps.root ?? repoRoot(io.env);
  const stateDir = stateDirOf(flags, root);
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
  const held = { runtime: runtime as Runtime | null, workDir: workDir as string | null };
  const intr = interrupts(deps.signals ?? process, io, held);
  try {
    const reaped = await sel.factory.reap([]).catch(() => []);
    if (reaped.length > 0) io.err(`removed leftovers of earlier runs: ${reaped.join(', ')}\n`);
    io.out(`starting the stack (${runtime.kind} runtime, run ${runId})\n`);
    await runtime.up({
      runId,
      workDir,
      scrapeIntervalMs: f.scrapeIntervalMs,
      withNodeExporter: f.nodeExporter,
      log: (m) => io.err(`${m}\n`),
      persistent: true,
      signal: intr.signal,
    });
    await runtime.scale(f.producers, {
      podsPerProducer: f.podsPerProducer,
      totalPods: f.pods,
      seed: f.seed,
      pushMode: f.pushMode,
      jitter: f.jitter,
      transport: f.transport,
      heartbeatMs: 5000,
      flushIntervalMs: 10_000,
      fleetPods: 1400,
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
  } finally {
    intr.dispose();
  }
}

async function statusCommand(argv: string[], io: CliIo, deps: CliDeps): Promise<number> {
  const { flags, positionals } = parseArgs(argv, BASIC_FLAGS, io.env);
  if (positionals.length > 0)
    throw new LabError('LAB_ERR_FLAG_VALUE', `status: unexpected argument "${positionals[0]}"`);
  if (flags.help) {
    io.out(`${formatHelp(USAGE_LINES.status!, BASIC_FLAGS)}\n`);
    return EXIT.ok;
  }
  const root = deps.root ?? repoRoot(io.env);
  const stateDir = stateDirOf(flags, root);
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
      `  ${name.padEnd(14)} ${s.kind === 'process' ? `pid ${handle}` : handle.slice(0, 12)}  ${dead.has(name) ? 'NOT RUNNING' : 'running'}\n`,
    );
  const deadProducers = s.members.filter((m) => dead.has(m.name)).map((m) => m.name);
  io.out(
    `  producers      ${s.members.length - deadProducers.length}/${s.members.length} running, ${s.members.reduce((a, m) => a + m.podIds.length, 0)} pods${deadProducers.length ? ` (not running: ${deadProducers.join(', ')})` : ''}\n`,
  );
  printEndpoints(io, s);
  try {
    const prom = new PromClient(s.endpoints.prometheusUrl, 3000);
    const v = await prom.combined({
      producersUp: 'count(up{job="producers"} == 1)',
      producers: 'count(up{job="producers"})',
      collectorUp: 'max(up{job="collector"})',
      p99: 'quantile(0.99, scrape_duration_seconds{job="producers"})',
      firing: 'count(ALERTS{alertstate="firing"})',
    });
    io.out(
      `  prometheus: ${v.producersUp ?? 0}/${v.producers ?? 0} pod targets up, collector ${v.collectorUp === 1 ? 'up' : 'down'}, scrape p99 ${v.p99 === null || v.p99 === undefined ? '–' : `${v.p99.toFixed(3)} s`}, ${v.firing ?? 0} alert(s) firing\n`,
    );
  } catch (e) {
    io.out(`  prometheus: not answering (${describeError(e)})\n`);
  }
  return dead.size > 0 ? EXIT.failed : EXIT.ok;
}

async function scaleCommand(argv: string[], io: CliIo, deps: CliDeps): Promise<number> {
  const { flags, positionals } = parseArgs(argv, SCALE_FLAGS, io.env);
  if (flags.help) {
    io.out(`${formatHelp(USAGE_LINES.scale!, SCALE_FLAGS)}\n`);
    return EXIT.ok;
  }
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
  const root = deps.root ?? repoRoot(io.env);
  const stateDir = stateDirOf(flags, root);
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
  const held = { runtime: null as Runtime | null, workDir: null };
  const intr = interrupts(deps.signals ?? process, io, held);
  try {
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
  } finally {
    intr.dispose();
  }
}

async function downCommand(argv: string[], io: CliIo, deps: CliDeps): Promise<number> {
  const { flags, positionals } = parseArgs(argv, BASIC_FLAGS, io.env);
  if (positionals.length > 0)
    throw new LabError('LAB_ERR_FLAG_VALUE', `down: unexpected argument "${positionals[0]}"`);
  if (flags.help) {
    io.out(`${formatHelp(USAGE_LINES.down!, BASIC_FLAGS)}\n`);
    return EXIT.ok;
  }
  const root = deps.root ?? repoRoot(io.env);
  const stateDir = stateDirOf(flags, root);
  const st = readState(stateDir);
  if (st) {
    const rt = await (await factoryFor(st.stack.kind, root)).attach(st.stack);
    await rt.down();
    if (st.stack.kind === 'process') removeWorkDir(st.stack.workDir);
    clearState(stateDir);
    io.out(`down: stopped stack ${st.stack.runId} (${st.stack.kind} runtime)\n`);
  } else io.out(`no stack recorded in ${stateFilePath(stateDir)}\n`);
  // Leftovers of crashed runs (never the stack of another state dir that is still running).
  const removed = await reapProcessRuns([]).catch(() => [] as string[]);
  if (removed.length > 0) io.out(`removed leftovers: ${removed.join(', ')}\n`);
  return EXIT.ok;
}
