// The capacity search, pure: over an injected trial function and an injected clock, find the largest load
// (pods, or pushes/s for the Pushgateway) a path holds. Start at `start`, ×2 until a trial fails, then bisect
// until the largest held and the smallest failed are within `precision` of each other. A failing trial is
// retried once before it counts (a shared machine is noisy); a trial where the machine gave out ends the
// search as `machine`; the budget (a deadline on the clock) ends it as `budget`; `max` ends it as `config`.

/** What limited a search: the path failed, the machine gave out, the time ran out, or the configured max. */
export type LimitedBy = 'path' | 'machine' | 'budget' | 'config';

/** One trial's outcome, as the trial function reports it (criteria.ts decides held/failed from a record). */
export interface TrialOutcome {
  /** The load tried (pods, or pushes/s). */
  load: number;
  held: boolean;
  /** The first criterion that failed (e.g. `push.lossPct`), and its value; null when it held. */
  failedCriterion: string | null;
  failedValue: number | string | null;
  /** Set when the machine, not the path, gave out (the resource named: "memory", "load generator (CPU)"). */
  machine: string | null;
  /** The budget's deadline ended the trial before it finished: it counts neither way. */
  aborted: boolean;
  /** Where its record is (relative to the output dir), and anything the report shows per trial. */
  record: string | null;
  metrics: Record<string, number | null>;
}

export interface SearchOptions {
  start: number;
  /** The largest load the search may try (a flag): reaching it with every trial held ends as `config`. */
  max: number;
  /** Smallest load there is (1 pod; a rate's floor). */
  min: number;
  /** Bisect until (minFailed − maxHeld) ≤ precision × maxHeld (0.1 = ±10 %). */
  precision: number;
  /** Absolute deadline on the clock (ms): the budget. */
  deadlineMs: number;
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
  trials: TrialOutcome[];
}

/** The search's state between trials: what is known, and the next load to try (null = done). */
export interface SearchState {
  lo: number | null;
  hi: number | null;
  hiOutcome: TrialOutcome | null;
  next: number | null;
  limitedBy: LimitedBy | null;
  machine: { resource: string; load: number } | null;
  /** Loads whose failure was already retried once. */
  retried: number[];
}

export function initialState(o: SearchOptions): SearchState {
  const start = Math.max(o.min, Math.min(o.start, o.max));
  return { lo: null, hi: null, hiOutcome: null, next: start, limitedBy: null, machine: null, retried: [] };
}

/** Converged: the held and failed loads are within the precision (or adjacent integers). */
export function converged(lo: number | null, hi: number | null, o: Pick<SearchOptions, 'precision' | 'min'>) {
  if (hi === null) return false;
  if (lo === null) return hi <= o.min;
  return hi - lo <= Math.max(1, o.precision * lo);
}

/** The next state after one trial (pure): the whole search logic. */
export function step(state: SearchState, t: TrialOutcome, o: SearchOptions): SearchState {
  const s: SearchState = { ...state, retried: [...state.retried] };
  if (t.aborted) return { ...s, next: null, limitedBy: 'budget' };
  if (t.machine !== null)
    return { ...s, next: null, limitedBy: 'machine', machine: { resource: t.machine, load: t.load } };
  if (!t.held && !s.retried.includes(t.load)) {
    s.retried.push(t.load); // retried once before it counts
    return { ...s, next: t.load };
  }
  if (t.held) s.lo = Math.max(s.lo ?? t.load, t.load);
  else if (s.hi === null || t.load <= s.hi) {
    s.hi = t.load;
    s.hiOutcome = t;
  }
  s.next = nextLoad(s, o);
  if (s.next === null) s.limitedBy = s.hi === null ? 'config' : 'path';
  return s;
}

function nextLoad(s: SearchState, o: SearchOptions): number | null {
  if (s.hi === null) {
    const lo = s.lo ?? o.min;
    if (lo >= o.max) return null;
    return Math.min(o.max, lo * 2);
  }
  if (converged(s.lo, s.hi, o)) return null;
  const lo = s.lo ?? o.min - 1;
  const mid = Math.floor((lo + s.hi) / 2);
  return mid > lo && mid < s.hi ? Math.max(o.min, mid) : null;
}

/** How many more trials the search will likely need (for the progress line's "trial n of ~m"). */
export function trialsLeft(s: SearchState, o: SearchOptions): number {
  if (s.next === null) return 0;
  const bisections = (lo: number, hi: number) =>
    Math.max(0, Math.ceil(Math.log2((hi - lo) / Math.max(1, o.precision * Math.max(1, lo)))));
  // Still doubling: this trial, likely one more doubling that fails, then the bisection between them.
  if (s.hi === null) return s.next >= o.max ? 1 : 2 + bisections(s.next, Math.min(o.max, 2 * s.next));
  return 1 + bisections(s.lo ?? o.min, s.hi);
}

export function resultOf(s: SearchState, trials: TrialOutcome[]): SearchResult {
  return {
    maxHeld: s.lo,
    minFailed: s.hi,
    failedCriterion: s.hiOutcome?.failedCriterion ?? null,
    failedValue: s.hiOutcome?.failedValue ?? null,
    limitedBy: s.limitedBy ?? 'budget',
    machine: s.machine,
    trials,
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
  maxTrials = 40,
): Promise<SearchResult> {
  let s = initialState(o);
  const trials: TrialOutcome[] = [];
  while (s.next !== null) {
    if (clock.now() >= o.deadlineMs || trials.length >= maxTrials) {
      s = { ...s, next: null, limitedBy: 'budget' };
      break;
    }
    const t = await trial(s.next, trials.length + 1);
    trials.push(t);
    s = step(s, t, o);
    onTrial?.(t, s);
  }
  return resultOf(s, trials);
}
