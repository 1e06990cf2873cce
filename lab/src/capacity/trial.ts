import { join } from 'node:path';
import { describeError, LabError } from '@pushpull/common';
import type { ProgressSink } from '../burst/run.ts';
import { runBurst } from '../burst/run.ts';
import { INCIDENT_FLEET_PODS } from '../core/flags.ts';
import type { BurstConfig, Phase, PhaseMark, RunRecord } from '../core/record.ts';
import { writeReport } from '../report/render.ts';
import type { Runtime, RuntimeFactory } from '../runtime/types.ts';
import { type BurstPath, type Criteria, judgeTrial } from './criteria.ts';
import type { CapacityConfig } from './flags.ts';
import type { TrialOutcome } from './search.ts';
import type { TrialStack } from './stack.ts';

// One burst trial: a real `burst` run of `pods` pods with one path alone — pull trials with push off,
// push trials with the pods not scraped (--pull off) — its record and report kept in its own directory
// under --out, judged by the criteria. The budget's deadline aborts it (the record is still written).

export interface TrialDeps {
  root: string;
  factory: RuntimeFactory;
  selectionReasons: string[];
  keepRunIds: string[];
  /** Ctrl-C. */
  signal: AbortSignal;
  log(msg: string): void;
  onRuntime?: (rt: Runtime, workDir: string) => void;
  /** The search's shared stack (absent: --fresh-stack, a stack per trial). */
  stacks?: TrialStack;
}

/** The trial's directory name: trial-03-push-80. */
export const trialDirName = (n: number, path: string, load: number) =>
  `trial-${String(n).padStart(2, '0')}-${path}-${load}`;

/** The burst config of one trial (pure). */
export function trialConfig(c: CapacityConfig, path: BurstPath, pods: number, out: string): BurstConfig {
  const podsPerProducer = Math.min(c.podsPerProducer, pods);
  return Object.freeze({
    runtime: c.runtime,
    pods,
    podsPerProducer,
    producers: Math.ceil(pods / podsPerProducer),
    pushMode: path === 'push' ? c.pushMode : 'off',
    jitter: true,
    transport: c.transport,
    scrapeIntervalMs: c.scrapeIntervalMs,
    durationMs: c.trialDurationMs,
    profile: null,
    seed: c.seed,
    out,
    failOn: null,
    nodeExporter: path === 'push',
    heartbeatMs: 5000,
    flushIntervalMs: 10_000,
    fleetPods: INCIDENT_FLEET_PODS,
    leadMs: 3000,
    seriesBudget: null,
    repeat: 1,
    pull: path === 'pull',
    resources: c.resources,
    throttledShare: c.throttledShare,
  });
}

/**
 * A trial's cost in time: its wall time from start to teardown, and the overhead — everything but the
 * trial window (stack up, scale, warm-up, settle, final scrapes, collect, teardown), in seconds.
 */
export function trialOverhead(wallMs: number, windowMs: number): { wallS: number; overheadS: number } {
  return {
    wallS: Math.round(wallMs / 100) / 10,
    overheadS: Math.round(Math.max(0, wallMs - windowMs) / 100) / 10,
  };
}

/** The phases a trial's overhead is split into (seconds): its record's phase marks, and the trial's ends. */
export interface OverheadParts {
  /** Stack up (a fresh stack), self-check and scaling the fleet: from the trial's start to warm-up. */
  setupS: number | null;
  warmupS: number | null;
  /** The open's lead: from scheduling it to the open (the window starts there). */
  leadS: number | null;
  /** Final scrapes, the collector's drain, the ledgers and the accounting: quiesce to done. */
  settleS: number | null;
  /** Record and report written, the fleet stopped (shared stack) or the stack torn down. */
  teardownS: number | null;
}

/** Splits a trial's time by its record's phase marks (pure; a phase never reached is null). */
export function overheadParts(
  phases: readonly PhaseMark[],
  startedMs: number,
  endedMs: number,
  leadMs: number,
): OverheadParts {
  const at = (p: Phase) => phases.find((x) => x.phase === p)?.startMs ?? null;
  const span = (a: number | null, b: number | null) =>
    a === null || b === null ? null : Math.round(Math.max(0, b - a) / 100) / 10;
  const scheduled = at('scheduled');
  return {
    setupS: span(startedMs, at('warmup')),
    warmupS: span(at('warmup'), scheduled),
    leadS: scheduled === null ? null : Math.round(leadMs / 100) / 10,
    settleS: span(at('quiesce'), at('done')),
    teardownS: span(at('done'), endedMs),
  };
}

/** A progress sink that prints one line per phase (the burst's live status line would fight ours). */
function phaseSink(log: (m: string) => void): ProgressSink {
  return {
    phase: (p, info) => log(`    ${p}${info.detail ? ` (${info.detail})` : ''}`),
    sample: () => {},
    note: () => {},
    close: () => {},
  };
}

/** Runs one trial until it ends or `deadlineMs` passes; the outcome names its record (relative to outDir). */
export async function burstTrial(
  c: CapacityConfig,
  path: BurstPath,
  pods: number,
  n: number,
  outDir: string,
  deadlineMs: number,
  criteria: Criteria,
  deps: TrialDeps,
): Promise<TrialOutcome> {
  const dir = trialDirName(n, path, pods);
  const ctl = new AbortController();
  const onParent = () => ctl.abort(deps.signal.reason);
  deps.signal.addEventListener('abort', onParent, { once: true });
  const timer = setTimeout(
    () => ctl.abort(new LabError('LAB_ERR_INTERRUPTED', 'the capacity budget ended')),
    Math.max(0, deadlineMs - Date.now()),
  );
  let record: RunRecord | null = null;
  const startedAt = Date.now();
  const shared = deps.stacks ? await deps.stacks.next() : null;
  try {
    const res = await runBurst(trialConfig(c, path, pods, join(outDir, dir)), {
      ...(shared ? { stack: shared.stack } : {}),
      root: deps.root,
      factory: deps.factory,
      selectionReasons: deps.selectionReasons,
      progress: phaseSink(deps.log),
      signal: ctl.signal,
      keepRunIds: deps.keepRunIds,
      ...(deps.onRuntime ? { onRuntime: deps.onRuntime } : {}),
      onRecord: (r, d) => {
        writeReport(d, r);
      },
    });
    record = res.record;
  } catch (e) {
    // A run that could not even start probing (a component died starting 800 pods…) failed its trial.
    if (!ctl.signal.aborted)
      return {
        load: pods,
        held: false,
        failedCriterion: 'run failed',
        failedValue: describeError(e).split('\n')[0]!,
        machine: null,
        aborted: false,
        record: null,
        metrics: {},
      };
  } finally {
    clearTimeout(timer);
    deps.signal.removeEventListener('abort', onParent);
    await deps.stacks?.after(record !== null);
  }
  const aborted = ctl.signal.aborted;
  if (!record)
    return {
      load: pods,
      held: false,
      failedCriterion: null,
      failedValue: null,
      machine: null,
      aborted: true,
      record: null,
      metrics: {},
    };
  const judged = judgeTrial(record, path, criteria, { aborted, record: join(dir, 'run.json') });
  const endedAt = Date.now();
  return {
    ...judged,
    metrics: {
      ...judged.metrics,
      ...trialOverhead(endedAt - startedAt, c.trialDurationMs),
      ...overheadParts(record.phases, startedAt, endedAt, record.config.leadMs),
      stackReused: shared?.reused ? 1 : 0,
    },
  };
}
