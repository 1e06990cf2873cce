// Small, pure statistics helpers shared by the burst model and the cost reproduction.

/**
 * Quantile q in [0, 1] of an ascending-sorted array, by linear interpolation between the closest ranks
 * (numpy's default `percentile`, "type 7"). Returns 0 for an empty array.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  if (q <= 0) return sorted[0]!;
  if (q >= 1) return sorted[n - 1]!;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

/** Quantile of an unsorted array (copied, not mutated). */
export function quantile(values: ArrayLike<number>, q: number): number {
  return quantileSorted(Float64Array.from(values).sort(), q);
}

export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

export interface BinStats {
  /** Largest bin. */
  peak: number;
  /** Mean over all bins of the window, empty ones included (= total / bins). */
  mean: number;
  /** 99th percentile of the bins (linear interpolation, as numpy's `percentile(bins, 99)`). */
  p99: number;
}

export function binStats(bins: ArrayLike<number>): BinStats {
  const n = bins.length;
  if (n === 0) return { peak: 0, mean: 0, p99: 0 };
  let total = 0;
  let peak = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = bins[i]!;
    total += v;
    if (v > peak) peak = v;
  }
  return { peak, mean: total / n, p99: quantile(bins, 0.99) };
}
