import {
  type Family,
  K_COUNTER,
  K_GAUGE,
  K_HISTOGRAM,
  ORIGIN_STATSD,
  type Series,
  type Store,
} from '../aggregate/store.ts';
import type { HistogramDataPoint, KeyValue, NumberDataPoint } from '../parse/otlp-schema.ts';

// Agent mode's aggregation step: what the store took in since the last flush, as OTLP delta points. Pure.
// The store keeps running totals (a counter's sum, a histogram's buckets); a flush forwards the difference
// from what the previous flush saw, so every increment the agent accepted leaves in exactly one flush:
//   counters   → a monotonic delta Sum point, when the counter grew;
//   histograms → a delta Histogram point with the store's bounds, when observations arrived;
//   gauges     → a Gauge point with the current value, when it changed (or was never sent).
// Sets and families written over OTLP are not forwarded (counted: `skipped`).

export type PointKind = 'sum' | 'gauge' | 'histogram';

/** One point ready for a request: its metric, its OTLP body, what it weighs. */
export interface OutPoint {
  metric: string;
  kind: PointKind;
  point: NumberDataPoint | HistogramDataPoint;
  /** Counter increments it carries, when its family is tallied (else 0). */
  tally: number;
  /** A rough size of its encoding, bytes (batching keeps requests under --forward-max-bytes). */
  bytes: number;
}

export interface Flush {
  points: OutPoint[];
  /** Series not forwarded (sets, OTLP-written families). */
  skipped: number;
}

/** Label pairs back from a series' rendered text (k="v",k2="v2"; values escaped \\, \", \n). */
export function parseLabelsText(text: string): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('="', i);
    if (eq < 0) break;
    const key = text.slice(i, eq);
    let j = eq + 2;
    let v = '';
    while (j < text.length && text[j] !== '"') {
      if (text[j] === '\\' && j + 1 < text.length) {
        const n = text[j + 1]!;
        v += n === 'n' ? '\n' : n;
        j += 2;
      } else v += text[j++];
    }
    out.push([key, v]);
    i = j + 2; // past the closing quote and the comma
  }
  return out;
}

const attrsOf = (s: Series): KeyValue[] =>
  parseLabelsText(s.labelsText).map(([key, v]) => ({ key, value: { stringValue: v } }));

interface HistState {
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** What the previous flush saw of each series: the base the next flush's deltas are taken from. */
export class DeltaTracker {
  private readonly counters = new WeakMap<Series, number>();
  private readonly gauges = new WeakMap<Series, number>();
  private readonly hists = new WeakMap<Series, HistState>();
  private lastNs: bigint | null = null;

  constructor(private readonly tally: ReadonlySet<string>) {}

  /** Everything the store took in since the last take, as points stamped [previous take, nowMs]. */
  take(store: Store, nowMs: number): Flush {
    const nowNs = BigInt(Math.round(nowMs)) * 1_000_000n;
    const startNs = this.lastNs ?? nowNs;
    this.lastNs = nowNs;
    const t = { startTimeUnixNano: String(startNs), timeUnixNano: String(nowNs) };
    const out: Flush = { points: [], skipped: 0 };
    for (const fam of store.families.values()) {
      if (fam.origin !== ORIGIN_STATSD || ![K_COUNTER, K_GAUGE, K_HISTOGRAM].includes(fam.kind)) {
        out.skipped += fam.series.size;
        continue;
      }
      for (const s of fam.series.values()) {
        const p = this.point(fam, s, t, store.bounds);
        if (p !== null) out.points.push(p);
      }
    }
    return out;
  }

  private point(
    fam: Family,
    s: Series,
    t: { startTimeUnixNano: string; timeUnixNano: string },
    bounds: Float64Array,
  ): OutPoint | null {
    const base = fam.name.length + s.labelsText.length + 2 * s.labelsText.split('="').length + 40;
    if (fam.kind === K_COUNTER) {
      const d = s.value - (this.counters.get(s) ?? 0);
      if (!(d > 0)) return null;
      this.counters.set(s, s.value);
      const tally = this.tally.has(fam.name) ? d : 0;
      return {
        metric: fam.name,
        kind: 'sum',
        point: { attributes: attrsOf(s), ...t, asDouble: d },
        tally,
        bytes: base,
      };
    }
    if (fam.kind === K_GAUGE) {
      if (this.gauges.get(s) === s.value) return null;
      this.gauges.set(s, s.value);
      return {
        metric: fam.name,
        kind: 'gauge',
        point: { attributes: attrsOf(s), ...t, asDouble: s.value },
        tally: 0,
        bytes: base,
      };
    }
    const prev = this.hists.get(s);
    if (!(s.count - (prev?.count ?? 0) > 0)) return null;
    const b = s.buckets!;
    // OTLP counts are integers; sampled lines (@0.3) weigh fractions: deltas of the rounded running totals
    // stay exact over time.
    const counts = Array.from(b, (v, i) => Math.round(v) - Math.round(prev?.buckets[i] ?? 0));
    const count = counts.reduce((a, c) => a + c, 0);
    if (count <= 0) return null; // below one whole observation yet: it stays in the running totals
    this.hists.set(s, { buckets: Float64Array.from(b), sum: s.sum, count: s.count });
    const point: HistogramDataPoint = {
      attributes: attrsOf(s),
      ...t,
      count,
      sum: s.sum - (prev?.sum ?? 0),
      bucketCounts: counts,
      explicitBounds: Array.from(bounds),
    };
    return { metric: fam.name, kind: 'histogram', point, tally: 0, bytes: base + 18 * b.length };
  }
}
