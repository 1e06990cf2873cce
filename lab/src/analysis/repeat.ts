import type { FirstFailure, PathName, RunRecord } from '../core/record.ts';

// N runs of the same burst, summarised (--repeat): which path failed first how often, and the median and
// spread of each path's loss by cause, visibility and first-signal time. One run on a noisy 2-core machine
// is an anecdote; the spread says how much of a difference is the machine. Pure.

export const REPEAT_SCHEMA = 'pushpull-lab/repeat@1';

/** Median, min and max of the runs that have a value (null when none has). */
export interface Spread {
  median: number | null;
  min: number | null;
  max: number | null;
  runs: number;
}

export interface PathSummary {
  lossPct: Spread;
  /** Orders lost per cause (every cause seen in any run; 0 in runs without it). */
  causes: Record<string, Spread>;
  visibilityP50Seconds: Spread;
  visibilityP90Seconds: Spread;
  firstSignalSeconds: Spread;
}

export interface RepeatRecord {
  schema: typeof REPEAT_SCHEMA;
  runs: { runId: string; dir: string; verdict: string; failedFirst: PathName | 'neither' | 'both' }[];
  /** How often each path failed first. */
  failedFirst: Record<PathName | 'neither' | 'both', number>;
  paths: Record<PathName, PathSummary>;
  /** One sentence, like a run's verdict. */
  summary: string;
  notes: string[];
}

export function spread(values: readonly (number | null | undefined)[]): Spread {
  const v = values
    .filter((x): x is number => typeof x === 'number' && Number.isFinite(x))
    .sort((a, b) => a - b);
  if (v.length === 0) return { median: null, min: null, max: null, runs: 0 };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, runs: v.length };
}

/** The path whose first failure signal came first (ties within one probe tick: both). */
export function failedFirst(firsts: readonly FirstFailure[]): PathName | 'neither' | 'both' {
  const t = (p: PathName) => firsts.find((f) => f.path === p)?.secondsAfterBurst ?? Number.POSITIVE_INFINITY;
  const pull = t('pull');
  const push = t('push');
  if (!Number.isFinite(pull) && !Number.isFinite(push)) return 'neither';
  if (Math.abs(pull - push) < 1) return 'both';
  return pull < push ? 'pull' : 'push';
}

function pathSummary(records: readonly RunRecord[], path: PathName): PathSummary {
  const names = new Set(records.flatMap((r) => (r.paths[path].causes ?? []).map((c) => c.cause)));
  const causes: Record<string, Spread> = {};
  for (const n of names)
    causes[n] = spread(records.map((r) => r.paths[path].causes?.find((c) => c.cause === n)?.orders ?? 0));
  return {
    lossPct: spread(records.map((r) => r.paths[path].lossPct)),
    causes,
    visibilityP50Seconds: spread(records.map((r) => r.paths[path].visibility?.p50Seconds)),
    visibilityP90Seconds: spread(records.map((r) => r.paths[path].visibility?.p90Seconds)),
    firstSignalSeconds: spread(
      records.map((r) => r.firstFailures.find((f) => f.path === path)?.secondsAfterBurst),
    ),
  };
}

const pct = (s: Spread) =>
  s.median === null ? 'n/a' : `${s.median.toFixed(1)}% (${s.min!.toFixed(1)}–${s.max!.toFixed(1)}%)`;

/** "pull 100% (…)" — and how much of that the lab could not verify, when it could not. */
function lossText(records: readonly RunRecord[], path: PathName, loss: Spread): string {
  const unverified = spread(
    records.map((r) => {
      const u = r.paths[path].causes?.find((c) => c.cause === 'unverified')?.orders ?? 0;
      return r.paths[path].emitted > 0 ? (u / r.paths[path].emitted) * 100 : null;
    }),
  );
  const note = (unverified.max ?? 0) > 0 ? `, of which unverified ${pct(unverified)}` : '';
  return `${path} ${pct(loss)}${note}`;
}

export function summariseRuns(
  runs: readonly { record: RunRecord; dir: string }[],
  planned: number,
  notes: string[] = [],
): RepeatRecord {
  const records = runs.map((r) => r.record);
  const counts: RepeatRecord['failedFirst'] = { pull: 0, push: 0, neither: 0, both: 0 };
  const list = runs.map(({ record, dir }) => {
    const f = failedFirst(record.firstFailures);
    counts[f]++;
    return { runId: record.runId, dir, verdict: record.verdict, failedFirst: f };
  });
  const paths = { pull: pathSummary(records, 'pull'), push: pathSummary(records, 'push') };
  const n = runs.length;
  const lead =
    counts.push >= counts.pull
      ? `push failed first in ${counts.push} of ${n} runs`
      : `pull failed first in ${counts.pull} of ${n} runs`;
  const others = [
    counts.push < counts.pull && counts.push > 0 ? `push first in ${counts.push}` : null,
    counts.pull <= counts.push && counts.pull > 0 ? `pull first in ${counts.pull}` : null,
    counts.both > 0 ? `both within a second in ${counts.both}` : null,
    counts.neither > 0 ? `neither in ${counts.neither}` : null,
  ].filter((x) => x !== null);
  const summary = `${lead}${others.length ? ` (${others.join(', ')})` : ''}; loss, median (min–max): ${lossText(records, 'pull', paths.pull.lossPct)}; ${lossText(records, 'push', paths.push.lossPct)}${n < planned ? `; only ${n} of ${planned} planned runs completed` : ''}`;
  return { schema: REPEAT_SCHEMA, runs: list, failedFirst: counts, paths, summary, notes };
}
