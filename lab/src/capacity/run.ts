import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { hostMemory } from '../core/host.ts';
import type { BurstPath } from './criteria.ts';
import type { CapacityConfig, CapacityPath } from './flags.ts';
import { searchOptions } from './options.ts';
import { pushgatewaySearch } from './pushgateway.ts';
import {
  CAPACITY_SCHEMA,
  type CapacityResult,
  extrapolations,
  type PathReport,
  pathReport,
  pushgatewayClaim,
} from './result.ts';
import { planAt, podsPerCore, RECEIVER, type ScalingPath, scalingPoint } from './scaling.ts';
import {
  type Clock,
  initialState,
  resultOf,
  type SearchOptions,
  type SearchResult,
  type SearchState,
  searchCapacity,
  type TrialOutcome,
  trialsLeft,
} from './search.ts';
import { TrialStack } from './stack.ts';
import { burstTrial, type TrialDeps } from './trial.ts';

// The capacity run: each path asked for in turn, each with its slice of the budget (time a path leaves
// unused goes to the next), capacity.json rewritten after every trial (a crash or Ctrl-C keeps what was
// measured) and once more at the end with the extrapolation.

export interface CapacityDeps extends Omit<TrialDeps, 'log'> {
  clock: Clock;
  out(s: string): void;
  runtimeKind: string;
}

/** Guesses before a trial of the kind has been measured (ms). */
const FIRST_GUESS_MS = { burst: 90_000, pushgateway: 20_000 };
/** Trials a path that has not started is expected to take (the progress line's "~m"). */
const TRIALS_PER_PATH_GUESS = 10;

export const clockText = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};

/** "trial n of ~m" and an ETA: the trials left (search state) × the mean trial so far, capped by the budget. */
class Progress {
  private n = 0;
  private readonly took: Record<'burst' | 'pushgateway', number[]> = { burst: [], pushgateway: [] };
  private left = 0;
  private startedAt = 0;
  constructor(
    private readonly deps: CapacityDeps,
    private readonly endMs: number,
  ) {}
  no = () => this.n;
  starting(path: CapacityPath, load: number, pathsAfter: number) {
    this.n++;
    this.startedAt = this.deps.clock.now();
    const kind = path === 'pushgateway' ? 'pushgateway' : 'burst';
    const mean = (k: 'burst' | 'pushgateway') => {
      const t = this.took[k];
      return t.length > 0 ? t.reduce((a, b) => a + b, 0) / t.length : FIRST_GUESS_MS[k];
    };
    const left = Math.max(1, this.left) + pathsAfter * TRIALS_PER_PATH_GUESS;
    const eta = Math.min(this.endMs - this.startedAt, left * mean(kind));
    const unit = path === 'pushgateway' ? 'pushes/s' : 'pods';
    this.deps.out(
      `trial ${this.n} of ~${this.n - 1 + left} · ${path} at ${load.toLocaleString('en-US')} ${unit} · ETA ${clockText(eta)} (budget left ${clockText(this.endMs - this.startedAt)})\n`,
    );
  }
  finished(path: CapacityPath, t: TrialOutcome, s: SearchState, o: SearchOptions) {
    this.took[path === 'pushgateway' ? 'pushgateway' : 'burst'].push(this.deps.clock.now() - this.startedAt);
    this.left = trialsLeft(s, o);
    const what = t.aborted
      ? `aborted (${this.deps.signal.aborted ? 'Ctrl-C' : 'budget'})`
      : t.held
        ? 'held'
        : `failed: ${t.failedCriterion} = ${t.failedValue}`;
    const at = s.trials.filter((x) => x.load === t.load && !x.aborted);
    const passes = at.filter((x) => x.held).length;
    const level = t.aborted
      ? ''
      : ` (level ${t.load}: ${passes} of ${at.length} held${s.next === t.load ? ', replicating' : ''})`;
    this.deps.out(`  → ${path} ${t.load}: ${what}${level}\n`);
  }
  resetPath(o: SearchOptions) {
    this.left = trialsLeft(initialState(o), o);
  }
}

function runPath(
  c: CapacityConfig,
  path: CapacityPath,
  outDir: string,
  deadlineMs: number,
  progress: Progress,
  pathsAfter: number,
  deps: CapacityDeps,
  onPartial: (r: SearchResult) => void,
): Promise<SearchResult> {
  const o = searchOptions(c, path, deadlineMs);
  progress.resetPath(o);
  const tdeps: TrialDeps = { ...deps, log: (m) => deps.out(`${m}\n`) };
  const onTrial = (t: TrialOutcome, s: SearchState) => {
    progress.finished(path, t, s, o);
    onPartial(resultOf(s, o));
  };
  if (path === 'pushgateway')
    return pushgatewaySearch(c, outDir, deadlineMs, {
      ...tdeps,
      log: () => {},
      clock: deps.clock,
      trialNo: () => progress.no(),
      beforeTrial: (load) => progress.starting(path, load, pathsAfter),
      onTrial: (t, s) => onTrial(t, s),
    });
  // One stack for the whole search unless --fresh-stack (capacity/stack.ts); torn down when it ends.
  const stacks = c.freshStack ? undefined : new TrialStack({ ...deps, log: (m) => deps.out(`  ${m}\n`) });
  return searchCapacity(
    o,
    (pods) => {
      progress.starting(path, pods, pathsAfter);
      return burstTrial(c, path as BurstPath, pods, progress.no(), outDir, deadlineMs, c.criteria, {
        ...tdeps,
        log: () => {}, // the phases of every trial would drown the progress lines
        ...(stacks ? { stacks } : {}),
      });
    },
    deps.clock,
    onTrial,
  ).finally(() => stacks?.close());
}

export function writeCapacityJson(outDir: string, r: CapacityResult): void {
  writeFileSync(join(outDir, 'capacity.json'), `${JSON.stringify(r, null, 1)}\n`);
}

/** capacity.json before the first trial: the config, the environment, the notes on how it was measured. */
function initialResult(c: CapacityConfig, deps: CapacityDeps, start: number): CapacityResult {
  const mem = hostMemory();
  return {
    schema: CAPACITY_SCHEMA,
    startedAt: new Date(start).toISOString(),
    finishedAt: '',
    runtime: deps.runtimeKind,
    budgetEnded: false,
    interrupted: false,
    config: c,
    criteria: c.criteria,
    environment: {
      cores: availableParallelism(),
      memoryGiB: mem ? Math.round((mem.totalBytes / 2 ** 30) * 10) / 10 : null,
      node: process.version,
    },
    paths: {},
    extrapolation: {},
    pushgatewayClaim: null,
    notes: [
      `each path measured alone (${c.paths.join(', ')}); burst trials: ${c.trialDurationMs / 1000} s windows at the incident's per-pod load, scrape interval ${c.scrapeIntervalMs / 1000} s, ${c.freshStack ? 'a fresh stack per trial (--fresh-stack)' : "one stack per search: Prometheus, the collector and the Pushgateway kept up across its trials, the fleet restarted per trial, each trial reading only what it produced (the collector's counters as deltas from the trial's start, Prometheus windows from its start on)"}; up to ${c.replicates} replicates per level near the knee (a level holds when ${Math.ceil(c.replicates / 2)} hold), one farther out`,
      ...(c.paths.includes('pushgateway')
        ? [
            `Pushgateway: ${c.pushgateway.groups.toLocaleString('en-US')} groups × ${c.pushgateway.seriesPerGroup} series stored (${(c.pushgateway.groups * c.pushgateway.seriesPerGroup).toLocaleString('en-US')} series), consistency check ${c.pushgateway.consistencyCheck ? 'on (the default)' : 'off (--push.disable-consistency-check)'}`,
          ]
        : []),
    ],
  };
}

/** Runs every path asked for; never throws for a path's failure (a failed path is a result). */
export async function runCapacity(
  c: CapacityConfig,
  outDir: string,
  deps: CapacityDeps,
): Promise<CapacityResult> {
  const start = deps.clock.now();
  const endMs = start + c.budgetMs;
  const result = initialResult(c, deps, start);
  const progress = new Progress(deps, endMs);
  const save = () => {
    result.interrupted = deps.signal.aborted;
    result.extrapolation = extrapolations(result.paths, c.fleetPods);
    result.pushgatewayClaim = pushgatewayClaim(result.paths.pushgateway);
    result.finishedAt = new Date(deps.clock.now()).toISOString();
    writeCapacityJson(outDir, result);
  };
  // The budget is a hard stop: should a trial's teardown still run 30 s after it, write what is known.
  const watchdog = setTimeout(
    () => {
      result.budgetEnded = true;
      result.notes.push('written by the budget watchdog while the last trial was still being torn down');
      save();
    },
    Math.max(0, endMs - deps.clock.now()) + WATCHDOG_MS,
  );
  watchdog.unref();
  const slices = slicesOf(c);
  const atBudgets: Partial<Record<CapacityPath, { cores: number; result: SearchResult }[]>> = {};
  const report = (path: CapacityPath, cores: number | null, r: SearchResult) => {
    if (cores === null) return pathReport(path, r, deps.signal.aborted);
    const runs = [...(atBudgets[path] ?? []).filter((x) => x.cores !== cores), { cores, result: r }];
    return scalingReport(path as ScalingPath, runs, deps.signal.aborted);
  };
  try {
    for (let i = 0; i < slices.length; i++) {
      const { path, cores } = slices[i]!;
      if (deps.signal.aborted) break;
      // Even split: slice i may run until start + (i + 1) × budget / slices.
      const deadline = start + ((i + 1) * c.budgetMs) / slices.length;
      const sc = cores === null ? c : { ...c, resources: planAt(c.resources, path as ScalingPath, cores) };
      deps.out(
        `\n${path}${cores === null ? '' : ` at ${cores} core for the ${RECEIVER[path as ScalingPath]}`}: until ${clockText(deadline - start)} into the budget\n`,
      );
      const r = await runPath(
        sc,
        path,
        outDir,
        deadline,
        progress,
        slices.length - i - 1,
        deps,
        (partial) => {
          result.paths[path] = report(path, cores, partial);
          save();
        },
      );
      if (cores !== null) atBudgets[path] = [...(atBudgets[path] ?? []), { cores, result: r }];
      result.paths[path] = report(path, cores, r);
      if (r.limitedBy === 'budget' && deps.clock.now() >= endMs) result.budgetEnded = true;
      save();
    }
  } finally {
    clearTimeout(watchdog);
  }
  if (deps.signal.aborted) result.notes.push('interrupted (Ctrl-C / SIGTERM): the numbers are partial');
  save();
  return result;
}

/** The searches a run makes, in order: one per path, or with --scaling one per burst path and receiver budget. */
export function slicesOf(c: CapacityConfig): Slice[] {
  const out: Slice[] = [];
  for (const path of c.paths)
    if (c.scaling && path !== 'pushgateway') for (const cores of c.scaling) out.push({ path, cores });
    else out.push({ path, cores: null });
  return out;
}

interface Slice {
  path: CapacityPath;
  /** The receiver's CPU budget of a --scaling search; null = the plan as given. */
  cores: number | null;
}

/** A burst path searched at several receiver budgets: its answer is the largest budget's, plus pods per core. */
export function scalingReport(
  path: ScalingPath,
  runs: { cores: number; result: SearchResult }[],
  interrupted: boolean,
): PathReport {
  const sorted = [...runs].sort((a, b) => a.cores - b.cores);
  const main = sorted[sorted.length - 1]!;
  const ppc = podsPerCore(
    path,
    sorted.map((x) => scalingPoint(x.cores, x.result)),
  );
  return { ...pathReport(path, main.result, interrupted), podsPerCore: ppc, atBudgets: sorted };
}

/** How long after the budget's end the watchdog writes capacity.json if the run has not (< 60 s). */
const WATCHDOG_MS = 30_000;
