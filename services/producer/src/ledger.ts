// The ground-truth ledger: what every pod emitted, counted where it is emitted, read over the control API
// only (never through the pull or push path being measured). Shape: docs/contracts.md "Ledger".

export interface LedgerCounts {
  /** Orders generated (= pull emitted: each one is recorded in the pod's registry). */
  orders: number;
  /** Orders whose `orders` increment was handed to the push client (aggregated: counted when flushed). */
  ordersPushed: number;
  rejects: number;
  /** Metric events recorded in the pod's registry (inc, observe, set). */
  registryEvents: number;
  /** StatsD lines handed to the push client (orders, latency, rejects, queue depth, heartbeat). */
  pushEvents: number;
  /** Datagrams (UDP) or writes (TCP) handed to the socket, and their payload bytes. */
  datagrams: number;
  bytes: number;
  /** Send errors reported by hot-shots (errorHandler / flush callbacks) or by the transport. */
  sendErrors: number;
  /** Heartbeat increments handed to the push client. */
  heartbeats: number;
}

export const LEDGER_KEYS = [
  'orders',
  'ordersPushed',
  'rejects',
  'registryEvents',
  'pushEvents',
  'datagrams',
  'bytes',
  'sendErrors',
  'heartbeats',
] as const satisfies readonly (keyof LedgerCounts)[];

export function emptyCounts(): LedgerCounts {
  return {
    orders: 0,
    ordersPushed: 0,
    rejects: 0,
    registryEvents: 0,
    pushEvents: 0,
    datagrams: 0,
    bytes: 0,
    sendErrors: 0,
    heartbeats: 0,
  };
}

export interface CostSummary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
}

export interface Ledger {
  name: string;
  atMs: number;
  quiesced: boolean;
  total: LedgerCounts;
  pods: Record<string, LedgerCounts>;
  cost: {
    pullRecordNs: CostSummary;
    pushSendNs: CostSummary;
    /** Extra (not in the contract's minimum): the push send cost split by the mode that was active. */
    pushSendNsByMode: Record<string, CostSummary>;
    /** One in `sampleEvery` orders is timed. */
    sampleEvery: number;
  };
}

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

export function sumCounts(all: Iterable<LedgerCounts>): LedgerCounts {
  const total = emptyCounts();
  for (const c of all) for (const k of LEDGER_KEYS) total[k] += c[k];
  return total;
}
