import {
  R_NAME_CONFLICT,
  R_TYPE_CONFLICT,
  REFUSAL_REASONS,
  T_COUNTER,
  T_GAUGE,
  T_HISTOGRAM,
  TE_COLLISION,
  TE_DUPLICATE,
  TE_MALFORMED,
  TE_RESERVED,
} from '../parse/codes.ts';
import type { DecodedKey } from '../parse/decode.ts';
import { escapeMetricName } from '../parse/names.ts';
import {
  type AnyValue,
  type ExportRequest,
  FLAG_NO_RECORDED_VALUE,
  type HistogramDataPoint,
  type KeyValue,
  type NumberDataPoint,
  TEMPORALITY_CUMULATIVE,
  TEMPORALITY_DELTA,
  toNumber,
} from '../parse/otlp.ts';
import { isRefused, ORIGIN_OTLP, refusalOf, type Series, type Store } from './store.ts';

// OTLP points into the same store as StatsD lines, named the way Prometheus users expect:
//   metric name  → sanitised like a StatsD name (dots and every other character outside [a-zA-Z0-9_] → "_");
//                  monotonic sums get "_total" with --strict-names (like StatsD counters); no unit suffix
//   attributes   → labels (sanitised names; "__*", "le", "quantile" dropped and counted as tag errors)
//   resource     → only the attributes listed in --otlp-resource-labels become labels (point attributes win)
//   Sum monotonic → counter: cumulative points replace the value (a new series takes its first point whole),
//                   delta points add; non-monotonic → gauge (cumulative sets, delta adds)
//   Gauge → gauge; Histogram (explicit buckets) → histogram with the point's own bounds
//   ExponentialHistogram, Summary → refused (unsupported_type), counted, reported in partial_success
// Every point decoded ends in exactly one outcome: accepted, or refused by one reason.

export const OTLP_REFUSAL_REASONS = [
  'unsupported_type', // exponential histogram, summary, or a metric without data
  'bad_name', // empty metric name
  'bad_temporality', // a sum or histogram with AGGREGATION_TEMPORALITY_UNSPECIFIED
  'no_value', // a number point without as_double/as_int, or flagged "no recorded value"
  'bad_value', // NaN/Inf or a negative delta on a monotonic sum; histogram buckets that do not add up
  'bad_time', // time_unix_nano missing (0): the spec says such points SHOULD be rejected
  'out_of_order', // a cumulative point older than the last one applied to its series
  'bounds_changed', // a histogram point whose bounds differ from its series'
  'type_conflict', // the name exists with another type, or is written by StatsD
  'name_conflict', // the exposed name collides (histogram suffixes, self-metrics)
  ...REFUSAL_REASONS, // the series budgets, as for StatsD lines
] as const;
export type OtlpRefusalReason = (typeof OTLP_REFUSAL_REASONS)[number];
const reason = (r: OtlpRefusalReason): number => OTLP_REFUSAL_REASONS.indexOf(r);
const O_UNSUPPORTED = reason('unsupported_type');
const O_BAD_NAME = reason('bad_name');
const O_BAD_TEMPORALITY = reason('bad_temporality');
const O_NO_VALUE = reason('no_value');
const O_BAD_VALUE = reason('bad_value');
const O_BAD_TIME = reason('bad_time');
const O_OUT_OF_ORDER = reason('out_of_order');
const O_BOUNDS_CHANGED = reason('bounds_changed');
const O_TYPE_CONFLICT = reason('type_conflict');
const O_NAME_CONFLICT = reason('name_conflict');
const O_BUDGET = reason('max_series'); // + RF_* code
/** What number()/histogram() return for a point applied (otherwise: the refusal reason). */
const ACCEPTED = -1;

/** Point outcomes (the HTTP edge adds request counts and latency). */
export class OtlpStats {
  pointsAccepted = 0;
  readonly refusedBy = new Float64Array(OTLP_REFUSAL_REASONS.length);
  /** Attributes dropped, by TE_* reason (the same reasons as StatsD tags). */
  readonly tagErrors: Float64Array;
  constructor(tagReasons: number) {
    this.tagErrors = new Float64Array(tagReasons);
  }
}

export interface ApplyResult {
  accepted: number;
  refused: number;
  /** The first refusal, for partial_success.error_message ('' when none). */
  message: string;
}

export interface OtlpOptions {
  /** Resource attribute keys (as sent, e.g. "service.instance.id") that become labels. */
  resourceLabels: readonly string[];
}

/** A number as the text format writes it (also the `le` label). */
export function formatValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
}

/**
 * AnyValue → label value: strings as sent, scalars in their usual text form, arrays/maps as JSON, bytes as
 * base64. Presence by own property: decoded protobufjs messages carry defaults ('' , 0) on the prototype.
 */
function valueText(v: AnyValue | undefined | null): string {
  if (v === undefined || v === null) return '';
  const has = (k: keyof AnyValue) => Object.hasOwn(v, k) && v[k] !== undefined && v[k] !== null;
  if (has('stringValue')) return String(v.stringValue);
  if (has('boolValue')) return v.boolValue ? 'true' : 'false';
  if (has('intValue')) return String(v.intValue);
  if (has('doubleValue')) return formatValue(Number(v.doubleValue));
  if (has('arrayValue')) return JSON.stringify((v.arrayValue?.values ?? []).map(valueText));
  if (has('kvlistValue'))
    return JSON.stringify(
      Object.fromEntries((v.kvlistValue?.values ?? []).map((kv) => [kv.key, valueText(kv.value)])),
    );
  if (has('bytesValue')) return Buffer.from(v.bytesValue as Uint8Array).toString('base64');
  return '';
}

export class OtlpIngest {
  readonly stats: OtlpStats;
  private readonly wanted: Set<string>;
  /** The time of the request being applied (ms). */
  private now = 0;

  constructor(
    private readonly store: Store,
    opts: OtlpOptions,
    tagReasons: number,
  ) {
    this.stats = new OtlpStats(tagReasons);
    this.wanted = new Set(opts.resourceLabels);
  }

  /** Applies every point of a decoded request; never throws on content. */
  apply(req: ExportRequest, nowMs: number): ApplyResult {
    const res: ApplyResult = { accepted: 0, refused: 0, message: '' };
    this.now = nowMs;
    for (const rm of req.resourceMetrics ?? []) {
      const base = new Map<string, string>();
      for (const kv of rm.resource?.attributes ?? [])
        if (kv.key !== undefined && this.wanted.has(kv.key)) base.set(kv.key, valueText(kv.value));
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          const name = escapeMetricName(m.name ?? '');
          const refuse = (r: number, n: number) => this.refuse(res, r, n, m.name ?? '');
          if (m.gauge !== undefined && m.gauge !== null) {
            for (const p of m.gauge.dataPoints ?? [])
              refuse(this.number(res, name, base, p, T_GAUGE, false), 1);
          } else if (m.sum !== undefined && m.sum !== null) {
            const t = m.sum.aggregationTemporality ?? 0;
            const pts = m.sum.dataPoints ?? [];
            if (t !== TEMPORALITY_DELTA && t !== TEMPORALITY_CUMULATIVE)
              refuse(O_BAD_TEMPORALITY, pts.length);
            else {
              const type = m.sum.isMonotonic === true ? T_COUNTER : T_GAUGE;
              for (const p of pts) refuse(this.number(res, name, base, p, type, t === TEMPORALITY_DELTA), 1);
            }
          } else if (m.histogram !== undefined && m.histogram !== null) {
            const t = m.histogram.aggregationTemporality ?? 0;
            const pts = m.histogram.dataPoints ?? [];
            if (t !== TEMPORALITY_DELTA && t !== TEMPORALITY_CUMULATIVE)
              refuse(O_BAD_TEMPORALITY, pts.length);
            else for (const p of pts) refuse(this.histogram(res, name, base, p, t === TEMPORALITY_DELTA), 1);
          } else {
            const n = m.exponentialHistogram?.dataPoints?.length ?? m.summary?.dataPoints?.length ?? 1;
            refuse(O_UNSUPPORTED, n);
          }
        }
      }
    }
    return res;
  }

  private refuse(res: ApplyResult, r: number, n: number, metric: string): void {
    if (r === ACCEPTED || n <= 0) return;
    this.stats.refusedBy[r]! += n;
    res.refused += n;
    // The first refusal names its reason and metric (capped: the name is the sender's text).
    if (res.message === '') res.message = `${OTLP_REFUSAL_REASONS[r]}: metric "${metric.slice(0, 200)}"`;
  }

  private accept(res: ApplyResult, s: Series, nowMs: number, timeNs: number): void {
    s.lastTimeNs = timeNs;
    const src = s.source;
    if (src !== null) {
      src.lastSeenMs = nowMs;
      if (!src.live) s.source = this.store.revive(src, nowMs);
    }
    this.stats.pointsAccepted++;
    res.accepted++;
  }

  /** Resolves the series of a point: checks shared by every point type. Returns a refusal (number) or the series. */
  private series(
    name: string,
    base: Map<string, string>,
    attrs: KeyValue[] | undefined,
    type: number,
    timeNs: number,
    ordered: boolean,
  ): Series | number {
    if (name === '') return O_BAD_NAME;
    if (!(timeNs > 0)) return O_BAD_TIME;
    const key = this.key(name, base, attrs);
    const r = this.store.resolve(key, type, this.now, ORIGIN_OTLP);
    if (typeof r === 'number') {
      if (isRefused(r)) return O_BUDGET + refusalOf(r);
      return r === R_NAME_CONFLICT ? O_NAME_CONFLICT : r === R_TYPE_CONFLICT ? O_TYPE_CONFLICT : O_BAD_NAME;
    }
    if (ordered && timeNs < r.lastTimeNs) return O_OUT_OF_ORDER;
    return r;
  }

  private number(
    res: ApplyResult,
    name: string,
    base: Map<string, string>,
    p: NumberDataPoint,
    type: number,
    delta: boolean,
  ): number {
    const hasD = Object.hasOwn(p, 'asDouble') && p.asDouble !== undefined;
    const hasI = Object.hasOwn(p, 'asInt') && p.asInt !== undefined;
    if ((!hasD && !hasI) || ((p.flags ?? 0) & FLAG_NO_RECORDED_VALUE) !== 0) return O_NO_VALUE;
    const v = hasD ? Number(p.asDouble) : toNumber(p.asInt);
    if (!Number.isFinite(v) && type === T_COUNTER) return O_BAD_VALUE;
    if (type === T_COUNTER && delta && v < 0) return O_BAD_VALUE;
    const timeNs = toNumber(p.timeUnixNano);
    // Cumulative sums and gauges are states: an older point must not overwrite a newer one.
    const s = this.series(name, base, p.attributes, type, timeNs, !delta);
    if (typeof s === 'number') return s;
    s.value = delta ? s.value + v : v;
    this.accept(res, s, this.now, timeNs);
    return ACCEPTED;
  }

  private histogram(
    res: ApplyResult,
    name: string,
    base: Map<string, string>,
    p: HistogramDataPoint,
    delta: boolean,
  ): number {
    if (((p.flags ?? 0) & FLAG_NO_RECORDED_VALUE) !== 0) return O_NO_VALUE;
    const bounds = p.explicitBounds ?? [];
    const counts = (p.bucketCounts ?? []).map(toNumber);
    const count = toNumber(p.count);
    // No buckets at all is allowed (count and sum only): one +Inf bucket holds the count.
    if (counts.length === 0) counts.push(count);
    let total = 0;
    for (const c of counts) total += c;
    if (counts.length !== bounds.length + 1 || total !== count || !bounds.every(Number.isFinite))
      return O_BAD_VALUE;
    for (let i = 1; i < bounds.length; i++) if (!(bounds[i]! > bounds[i - 1]!)) return O_BAD_VALUE;
    const timeNs = toNumber(p.timeUnixNano);
    const s = this.series(name, base, p.attributes, T_HISTOGRAM, timeNs, !delta);
    if (typeof s === 'number') return s;
    if (s.bounds === null) {
      if (s.count !== 0 || s.lastTimeNs >= 0) return O_BOUNDS_CHANGED;
      s.bounds = Float64Array.from(bounds);
      s.les = [...bounds.map((b) => `le="${formatValue(b)}"`), 'le="+Inf"'];
      s.buckets = new Float64Array(bounds.length + 1);
    } else if (s.bounds.length !== bounds.length || bounds.some((b, i) => b !== s.bounds![i])) {
      return O_BOUNDS_CHANGED;
    }
    const b = s.buckets!;
    const sum = Object.hasOwn(p, 'sum') && p.sum !== undefined ? Number(p.sum) : 0;
    if (delta) {
      for (let i = 0; i < b.length; i++) b[i]! += counts[i]!;
      s.sum += sum;
      s.count += count;
    } else {
      for (let i = 0; i < b.length; i++) b[i] = counts[i]!;
      s.sum = sum;
      s.count = count;
    }
    this.accept(res, s, this.now, timeNs);
    return ACCEPTED;
  }

  /** Name and labels of a point: resource labels first, point attributes override. */
  private key(name: string, base: Map<string, string>, attrs: KeyValue[] | undefined): DecodedKey {
    const labels = new Map<string, string>();
    const out: DecodedKey = { name, labels: [], tagErrors: 0, tagReasons: null };
    const fromPoint = new Set<string>();
    const add = (rawKey: string, value: string, point: boolean) => {
      const k = escapeMetricName(rawKey);
      const te = labelError(k);
      if (te >= 0) {
        this.stats.tagErrors[te]!++;
        return;
      }
      if (point) {
        // Two attributes that sanitise to one name ("a.b", "a_b"): the last wins, counted.
        if (fromPoint.has(k)) this.stats.tagErrors[TE_DUPLICATE]!++;
        fromPoint.add(k);
      }
      labels.set(k, value);
    };
    for (const [k, v] of base) add(k, v, false);
    for (const kv of attrs ?? []) add(kv.key ?? '', valueText(kv.value), true);
    out.labels = [...labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return out;
  }
}

/** TE_* reason for a label name the collector will not expose (-1: fine). */
function labelError(k: string): number {
  if (k === '') return TE_MALFORMED;
  // Prometheus reserves "__*" (one exposed __name__ fails the whole scrape); "le"/"quantile" mean buckets.
  if (k.charCodeAt(0) === 95 && k.charCodeAt(1) === 95) return TE_RESERVED;
  if (k === 'le' || k === 'quantile') return TE_COLLISION;
  return -1;
}
