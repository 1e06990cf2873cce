import {
  byLoad,
  halfPassLoad,
  type LevelStats,
  type LevelStatus,
  levelStats,
  levelStatus,
  type TrialOutcome,
} from './levels.ts';

export type { TrialOutcome };

// The capacity search, pure: over an injected trial function and an injected clock, find the largest load
// (pods, or pushes/s for the Pushgateway) a path holds. Start at `start` and double with one trial per level
// while far from the knee; a level that fails once, and the held level just under the smallest failed one,
// are near the knee and get up to K replicates (`--replicates`): a level holds when ⌈K/2⌉ of them hold (the
// replicates stop as soon as the majority is decided). Then split the bracket [maxHeld, minFailed] at its
// geometric middle — where it is widest in the ratio the precision is stated in — until minFailed / maxHeld
// ≤ 1 + precision. A trial where the machine gave out ends the search as `machine`; the budget (a deadline
// on the clock) ends it as `budget`, and a trial it aborted is kept as evidence but never counted; reaching
// `max` with it held ends as `config`.

/** What limited a search: the path failed, the machine gave out, the time ran out, or the configured max. */
export type LimitedBy = 'path' | 'machine' | 'budget' | 'config';

export interface SearchOptions {
  start: number;
  /** The largest load the search may try (a flag): reaching it with the level held ends as `config`. */
  max: number;
  /** Smallest load there is (1 pod; a rate's floor). */
  min: number;
  /** Converged when minFailed / maxHeld ≤ 1 + precision (or they are adjacent integers). */
  precision: number;
  /** Absolute deadline on the clock (ms): the budget. */
  deadlineMs: number;
  /** K: replicates per level near the knee (farther levels get one). */
  replicates: number;
  /** The metrics key whose median and spread each level reports (push: lossPct). */
  criterion: string | null;
}

export interface Clock {
  now(): number;
}

export interface SearchResult {
  maxHeld: number | null;
  minFailed: number | null;
  failedCriterion: string | null;
  failedValue: number | string | null;
  limitedBy: LimitedBy;
  /** For `machine`: the resource that gave out, and at what load. */
  machine: { resource: string; load: number } | null;
  /** minFailed / maxHeld (null until both exist). */
  bracketRatio: number | null;
  /** The load where the pass fraction crosses one half (interpolated between levels), or null. */
  halfPassLoad: number | null;
  replicates: number;
  /** Per load level: counted trials, passes, pass fraction, status, the criterion's median and spread. */
  levels: LevelStats[];
  trials: TrialOutcome[];
}

/** The search's state between trials: every trial so far, and the next load to try (null = done). */
export interface SearchState {
  trials: TrialOutcome[];
  next: number | null;
  limitedBy: LimitedBy | null;
  machine: { resource: string; load: number } | null;
}

export function initialState(o: SearchOptions): SearchState {
  return { trials: [], next: Math.max(o.min, Math.min(o.start, o.max)), limitedBy: null, machine: null };
}

/** Converged: the held and failed loads are within the precision (or adjacent integers). */
export function converged(lo: number | null, hi: number | null, o: Pick<SearchOptions, 'precision' | 'min'>) {
  if (hi === null) return false;
  if (lo === null) return hi <= o.min;
  return hi - lo <= 1 || hi / lo <= 1 + o.precision + 1e-9;
}

/** The bracket the trials so far support: every level's status, the smallest failed, the largest held under it. */
export function bracket(trials: readonly TrialOutcome[], k: number) {
  const status = new Map<number, LevelStatus>();
  for (const [load, ts] of byLoad(trials)) {
    const counted = ts.filter((t) => !t.aborted);
    if (counted.length > 0) status.set(load, levelStatus(counted, k));
  }
  let hi: number | null = null;
  for (const [load, st] of status) if (st === 'failed' && (hi === null || load < hi)) hi = load;
  let lo: number | null = null;
  for (const [load, st] of status)
    if ((st === 'held' || st === 'held-once') && (hi === null || load < hi) && (lo === null || load > lo))
      lo = load;
  // Open levels under the smallest failed one: each has failed once and is not yet decided.
  const open = [...status].filter(([l, st]) => st === 'open' && (hi === null || l < hi)).map(([l]) => l);
  return { status, lo, hi, open };
}

/** The next load, or how the search ends (pure): the whole search logic. */
export function plan(
  trials: readonly TrialOutcome[],
  o: SearchOptions,
): { next: number; limitedBy: null } | { next: null; limitedBy: LimitedBy } {
  const { status, lo, hi, open } = bracket(trials, o.replicates);
  // A level that failed once is near the knee: decide it (the lowest first) before anything else.
  if (open.length > 0) return { next: Math.min(...open), limitedBy: null };
  if (hi === null) {
    if (lo === null) return { next: Math.max(o.min, Math.min(o.start, o.max)), limitedBy: null };
    if (lo >= o.max)
      return status.get(lo) === 'held' ? { next: null, limitedBy: 'config' } : { next: lo, limitedBy: null };
    return { next: Math.min(o.max, lo * 2), limitedBy: null }; // far from the knee: one trial
  }
  // The held side of the knee needs its replicates too.
  if (lo !== null && status.get(lo) === 'held-once') return { next: lo, limitedBy: null };
  if (converged(lo, hi, o)) return { next: null, limitedBy: 'path' };
  const mid = lo === null ? Math.floor(hi / 2) : Math.round(Math.sqrt(lo * hi));
  const floor = lo ?? o.min - 1;
  const next = Math.min(hi - 1, Math.max(floor + 1, mid, o.min));
  return next > floor && next < hi ? { next, limitedBy: null } : { next: null, limitedBy: 'path' };
}

/** The next state after one trial (pure). */
export function step(state: SearchState, t: TrialOutcome, o: SearchOptions): SearchState {
  const trials = [...state.trials, t];
  if (t.aborted) return { ...state, trials, next: null, limitedBy: 'budget' };
  if (t.machine !== null)
    return { trials, next: null, limitedBy: 'machine', machine: { resource: t.machine, load: t.load } };
  return { ...state, trials, ...plan(trials, o) };
}

/** How many more trials the search will likely need (for the progress line's "trial n of ~m"). */
export function trialsLeft(s: SearchState, o: SearchOptions): number {
  if (s.next === null) return 0;
  const k = Math.ceil(o.replicates / 2) + (o.replicates > 1 ? 0.5 : 0); // replicates a decided level takes
  const splits = (lo: number, hi: number) =>
    Math.max(0, Math.ceil(Math.log2(Math.log(hi / Math.max(1, lo)) / Math.log(1 + o.precision))));
  const { lo, hi } = bracket(s.trials, o.replicates);
  // Still doubling: this trial, one more doubling that fails, confirming both sides, then the splits.
  if (hi === null)
    return Math.round(
      s.next >= o.max ? k : 2 + 2 * (k - 1) + k * splits(s.next, Math.min(o.max, 2 * s.next)),
    );
  return Math.round(1 + k * splits(lo ?? o.min, hi));
}

export function resultOf(s: SearchState, o: SearchOptions): SearchResult {
  const { lo, hi } = bracket(s.trials, o.replicates);
  const failures = s.trials.filter((t) => t.load === hi && !t.aborted && !t.held);
  const rep = failures[Math.floor((failures.length - 1) / 2)] ?? null; // a representative failure at minFailed
  const levels = levelStats(s.trials, o.replicates, o.criterion);
  return {
    maxHeld: lo,
    minFailed: hi,
    failedCriterion: rep?.failedCriterion ?? null,
    failedValue: rep?.failedValue ?? null,
    limitedBy: s.limitedBy ?? 'budget',
    machine: s.machine,
    bracketRatio: lo !== null && hi !== null ? Math.round((hi / lo) * 1000) / 1000 : null,
    halfPassLoad: halfPassLoad(levels),
    replicates: o.replicates,
    levels,
    trials: [...s.trials],
  };
}

/**
 * Runs the search: trials one after another until it converges, the machine gives out, the max is reached
 * or the deadline passes (a trial running at the deadline is aborted by the caller and reports `aborted`).
 * Bounded: at most `maxTrials` trials whatever the trial function answers.
 */
export async function searchCapacity(
  o: SearchOptions,
  trial: (load: number, n: number) => Promise<TrialOutcome>,
  clock: Clock,
  onTrial?: (t: TrialOutcome, state: SearchState) => void,
  maxTrials = 60,
): Promise<SearchResult> {
  let s = initialState(o);
  while (s.next !== null) {
    if (clock.now() >= o.deadlineMs || s.trials.length >= maxTrials) {
      s = { ...s, next: null, limitedBy: 'budget' };
      break;
    }
    const t = await trial(s.next, s.trials.length + 1);
    s = step(s, t, o);
    onTrial?.(t, s);
  }
  return resultOf(s, o);
}
