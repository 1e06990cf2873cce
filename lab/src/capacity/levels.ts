// Replicate statistics of the capacity search, pure: per load level the trials that count (an aborted
// trial never does), whether the level holds (at least ⌈K/2⌉ of K replicates held), the pass fraction,
// the criterion's median and spread, and the load where the pass fraction crosses one half.

/** One trial as the search sees it. */
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

/** A level's standing: decided by a majority of K, or still open. */
export type LevelStatus =
  /** ≥ ⌈K/2⌉ replicates held. */
  | 'held'
  /** More than K − ⌈K/2⌉ failed: it can no longer hold. */
  | 'failed'
  /** Every trial so far held, fewer than ⌈K/2⌉ of them: held on the evidence of a level far from the knee. */
  | 'held-once'
  /** A failure among fewer decided replicates: needs more before it counts either way. */
  | 'open';

export interface LevelStats {
  load: number;
  /** Trials that count (finished, not aborted). */
  trials: number;
  passes: number;
  passFraction: number;
  status: LevelStatus;
  /** Aborted trials at this load: shown as evidence, never counted. */
  aborted: number;
  /** The path's criterion (e.g. push loss %) over the counted trials: median and spread (max − min). */
  criterion: { name: string; median: number; min: number; max: number; spread: number } | null;
}

/** Replicates that must hold for a level to hold: ⌈K/2⌉. */
export const majority = (k: number) => Math.ceil(k / 2);

export function levelStatus(outcomes: readonly TrialOutcome[], k: number): LevelStatus {
  const counted = outcomes.filter((t) => !t.aborted);
  const passes = counted.filter((t) => t.held).length;
  const fails = counted.length - passes;
  const need = majority(k);
  if (passes >= need) return 'held';
  if (fails > k - need) return 'failed';
  if (fails === 0 && passes > 0) return 'held-once';
  return 'open';
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Trials grouped by load (every trial, aborted ones included), loads ascending. */
export function byLoad(trials: readonly TrialOutcome[]): Map<number, TrialOutcome[]> {
  const m = new Map<number, TrialOutcome[]>();
  for (const t of [...trials].sort((a, b) => a.load - b.load)) {
    const l = m.get(t.load) ?? [];
    l.push(t);
    m.set(t.load, l);
  }
  return m;
}

export function levelStats(
  trials: readonly TrialOutcome[],
  k: number,
  criterion: string | null,
): LevelStats[] {
  const out: LevelStats[] = [];
  for (const [load, all] of byLoad(trials)) {
    const counted = all.filter((t) => !t.aborted);
    const passes = counted.filter((t) => t.held).length;
    const values = criterion
      ? counted.map((t) => t.metrics[criterion]).filter((v): v is number => typeof v === 'number')
      : [];
    const min = values.length > 0 ? Math.min(...values) : 0;
    const max = values.length > 0 ? Math.max(...values) : 0;
    out.push({
      load,
      trials: counted.length,
      passes,
      passFraction: counted.length > 0 ? passes / counted.length : 0,
      status: counted.length > 0 ? levelStatus(counted, k) : 'open',
      aborted: all.length - counted.length,
      criterion:
        criterion && values.length > 0
          ? { name: criterion, median: median(values), min, max, spread: max - min }
          : null,
    });
  }
  return out.filter((l) => l.trials > 0 || l.aborted > 0);
}

/**
 * The load where the pass fraction crosses one half: between the lowest level that passes less than half
 * the time and the highest level below it that passes at least half the time, linearly interpolated.
 * null when no level below half has a level at or above half beneath it.
 */
export function halfPassLoad(levels: readonly LevelStats[]): number | null {
  const counted = levels.filter((l) => l.trials > 0);
  const b = counted.find((l) => l.passFraction < 0.5);
  if (!b) return null;
  const a = [...counted].reverse().find((l) => l.load < b.load && l.passFraction >= 0.5);
  if (!a) return null;
  const x = a.load + ((a.passFraction - 0.5) / (a.passFraction - b.passFraction)) * (b.load - a.load);
  return Math.round(x * 10) / 10;
}
