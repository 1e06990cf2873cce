// Client-side aggregation for push mode `aggregated` (pure, no I/O).
//
// Per flush interval and per pod:
//  - counters (orders, order.rejects, heartbeat) are summed per tag set -> one `|c` line each;
//  - the queue depth gauge keeps its last value -> one `|g` line;
//  - latencies are summarised per region into log buckets (8 per power of two, ~9% wide). Each non-empty
//    bucket becomes ONE timing line whose value is the mean of its observations and whose sample rate
//    carries the count: 100 observations -> `order.latency_ms:50.3|ms|@0.01`. A statsd server counts a
//    timing sampled at rate r as 1/r observations, so _count is exact and _sum is exact up to rounding;
//    values move by at most one bucket width. 1/n does not always survive decimal formatting (1/49 prints
//    as 0.02040816326530612, and 1/that is 48.99999999999999), so counts whose rate does not round-trip
//    exactly are split into several lines whose rates do (see splitCount).

export interface AggregatedLine {
  stat: string;
  type: 'c' | 'g' | 'ms';
  value: number;
  /** Sample rate to write as `|@rate`; 1 = none. */
  rate: number;
  tags: readonly string[] | undefined;
}

export interface Drained {
  lines: AggregatedLine[];
  /** Sum of the `orders` counter values in `lines`. */
  orders: number;
  heartbeats: number;
}

const LAT_SUB = 8;

/** True when a line sampled at 1/c is read back as exactly c observations. */
export function rateRoundTrips(c: number): boolean {
  if (c === 1) return true;
  return 1 / Number(String(1 / c)) === c;
}

/** Splits n into counts that each round-trip exactly through a `|@rate` (almost always [n] or [n-1, 1]). */
export function splitCount(n: number): number[] {
  const out: number[] = [];
  let rest = n;
  for (let guard = 0; rest > 0 && guard < 64; guard++) {
    let c = rest;
    while (c > 1 && !rateRoundTrips(c)) c--;
    out.push(c);
    rest -= c;
  }
  if (rest > 0) for (let i = 0; i < rest; i++) out.push(1); // unreachable in practice; keeps the count exact
  return out;
}

export function formatLine(l: AggregatedLine): string {
  const rate = l.rate < 1 ? `|@${String(l.rate)}` : '';
  return `${l.stat}:${l.value}|${l.type}${rate}`;
}

interface Bucket {
  count: number;
  sum: number;
}

export class PodAggregator {
  private readonly orders = new Map<readonly string[], number>();
  private readonly rejects = new Map<readonly string[], number>();
  private readonly latency = new Map<readonly string[], Map<number, Bucket>>();
  private queueDepth: number | null = null;
  private heartbeats = 0;

  order(tags: readonly string[]): void {
    this.orders.set(tags, (this.orders.get(tags) ?? 0) + 1);
  }

  reject(tags: readonly string[]): void {
    this.rejects.set(tags, (this.rejects.get(tags) ?? 0) + 1);
  }

  timing(tags: readonly string[], ms: number): void {
    let buckets = this.latency.get(tags);
    if (buckets === undefined) {
      buckets = new Map();
      this.latency.set(tags, buckets);
    }
    const idx = Math.floor(Math.log2(Math.max(ms, 0.001)) * LAT_SUB);
    const b = buckets.get(idx);
    if (b === undefined) buckets.set(idx, { count: 1, sum: ms });
    else {
      b.count++;
      b.sum += ms;
    }
  }

  gauge(value: number): void {
    this.queueDepth = value;
  }

  heartbeat(): void {
    this.heartbeats++;
  }

  get pendingOrders(): number {
    let n = 0;
    for (const v of this.orders.values()) n += v;
    return n;
  }

  /** Returns everything accumulated since the last drain, as statsd lines, and resets. */
  drain(): Drained {
    const lines: AggregatedLine[] = [];
    let orders = 0;
    for (const [tags, value] of this.orders) {
      lines.push({ stat: 'orders', type: 'c', value, rate: 1, tags });
      orders += value;
    }
    for (const [tags, buckets] of this.latency) {
      for (const b of buckets.values()) {
        const mean = Math.round((b.sum / b.count) * 1000) / 1000;
        for (const c of splitCount(b.count)) {
          lines.push({ stat: 'order.latency_ms', type: 'ms', value: mean, rate: c === 1 ? 1 : 1 / c, tags });
        }
      }
    }
    for (const [tags, value] of this.rejects)
      lines.push({ stat: 'order.rejects', type: 'c', value, rate: 1, tags });
    if (this.queueDepth !== null)
      lines.push({ stat: 'order.queue_depth', type: 'g', value: this.queueDepth, rate: 1, tags: undefined });
    const heartbeats = this.heartbeats;
    if (heartbeats > 0)
      lines.push({ stat: 'heartbeat', type: 'c', value: heartbeats, rate: 1, tags: undefined });
    this.orders.clear();
    this.rejects.clear();
    this.latency.clear();
    this.queueDepth = null;
    this.heartbeats = 0;
    return { lines, orders, heartbeats };
  }
}
