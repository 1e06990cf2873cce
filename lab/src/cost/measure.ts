// Per-event timing and its summary. Pure apart from the Clock it is given.

import type { Clock } from '@pushpull/common';
import { median, quantileSorted } from '../model/stats.ts';

/** Calls `record` once per item and returns the duration of each call in nanoseconds. */
export function timeEach<T>(items: readonly T[], record: (item: T) => void, clock: Clock): Float64Array {
  const out = new Float64Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const t0 = clock.hrtimeNs();
    record(items[i]!);
    out[i] = Number(clock.hrtimeNs() - t0);
  }
  return out;
}

export interface CostSummary {
  count: number;
  p50Ns: number;
  p99Ns: number;
  meanNs: number;
  maxNs: number;
  totalNs: number;
}

export function summarizeNs(samples: ArrayLike<number>): CostSummary {
  const sorted = Float64Array.from(samples).sort();
  let total = 0;
  for (let i = 0; i < sorted.length; i++) total += sorted[i]!;
  return {
    count: sorted.length,
    p50Ns: quantileSorted(sorted, 0.5),
    p99Ns: quantileSorted(sorted, 0.99),
    meanNs: sorted.length > 0 ? total / sorted.length : 0,
    maxNs: sorted.length > 0 ? sorted[sorted.length - 1]! : 0,
    totalNs: total,
  };
}

/** Element-wise median of several summaries (one per repeat): what the report shows. */
export function medianSummary(runs: readonly CostSummary[]): CostSummary {
  const m = (f: (s: CostSummary) => number) => median(runs.map(f));
  return {
    count: runs[0]?.count ?? 0,
    p50Ns: m((s) => s.p50Ns),
    p99Ns: m((s) => s.p99Ns),
    meanNs: m((s) => s.meanNs),
    maxNs: m((s) => s.maxNs),
    totalNs: m((s) => s.totalNs),
  };
}
