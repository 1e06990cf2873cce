// The ground-truth ledger: what every pod emitted, counted where it is emitted, read over the control API
// only (never through the pull or push path being measured). Shape: @pushpull/common (docs/contracts.md
// "Ledger"); this file adds the producer's cost histogram.

import type { CostSummary, Ledger as LedgerContract, LedgerCounts } from '@pushpull/common';

export { type CostSummary, emptyCounts, LEDGER_KEYS, type LedgerCounts, sumCounts } from '@pushpull/common';

/** The producer always fills in the cost part of the contract's ledger, and every count (OTLP ones too). */
export type Ledger = LedgerContract & {
  total: Required<LedgerCounts>;
  pods: Record<string, Required<LedgerCounts>>;
  cost: Required<NonNullable<LedgerContract['cost']>>;
};

/**
 * Log-linear histogram for nanosecond costs: 16 sub-buckets per power of two (~4.4% resolution),
 * fixed memory, O(1) record. Quantiles are the geometric middle of the bucket.
 */
export class CostHistogram {
  private static readonly SUB = 16;
  private static readonly OCTAVES = 40;
  private readonly counts = new Float64Array(CostHistogram.SUB * CostHistogram.OCTAVES);
  private n = 0;
  private sum = 0;

  record(ns: number): void {
    const v = Math.max(ns, 1);
    let idx = Math.floor(Math.log2(v) * CostHistogram.SUB);
    if (idx >= this.counts.length) idx = this.counts.length - 1;
    this.counts[idx]! += 1;
    this.n++;
    this.sum += ns;
  }

  merge(other: CostHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.n += other.n;
    this.sum += other.sum;
  }

  get count(): number {
    return this.n;
  }

  quantile(q: number): number {
    if (this.n === 0) return 0;
    const rank = q * this.n;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank && this.counts[i]! > 0) return Math.round(2 ** ((i + 0.5) / CostHistogram.SUB));
    }
    return Math.round(2 ** (this.counts.length / CostHistogram.SUB));
  }

  summary(): CostSummary {
    return {
      count: this.n,
      p50: this.quantile(0.5),
      p99: this.quantile(0.99),
      mean: this.n === 0 ? 0 : Math.round(this.sum / this.n),
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.sum = 0;
  }
}
