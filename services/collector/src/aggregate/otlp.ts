import {
  R_NAME_CONFLICT,
  R_TYPE_CONFLICT,
  T_COUNTER,
  T_GAUGE,
  T_HISTOGRAM,
  TE_DUPLICATE,
} from '../parse/codes.ts';
import type { DecodedKey } from '../parse/decode.ts';
import { escapeMetricName } from '../parse/names.ts';
import {
  type ExportRequest,
  FLAG_NO_RECORDED_VALUE,
  type HistogramDataPoint,
  type KeyValue,
  type Metric,
  type NumberDataPoint,
  TEMPORALITY_CUMULATIVE,
  TEMPORALITY_DELTA,
  toBigInt,
  toNumber,
} from '../parse/otlp.ts';
import { protobufItems } from '../parse/otlp-wire.ts';
import { formatValue, labelError, type ValueText, valueText, wellFormed } from './otlp-labels.ts';
import {
  type ApplyResult,
  OTLP_REFUSAL_REASONS,
  type OtlpOptions,
  type OtlpRefusalReason,
  OtlpStats,
} from './otlp-outcomes.ts';
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
// Every point decoded ends in exactly one outcome: accepted, or refused by one reason. The work a point
// can cause is bounded (name length, bounds, label text), so no series can grow past what /metrics renders.
// apply() runs as a generator that yields every SLICE points: the HTTP edge gives the event loop a turn
// between slices, so one large export does not stall the UDP socket (see the README, "Responsiveness").

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
const O_MAX_SERIES_BYTES = reason('max_series_bytes');
const O_FUTURE = reason('future_timestamp');
const O_INVALID_UTF8 = reason('invalid_utf8');
const O_NAME_TOO_LONG = reason('name_too_long');
const O_TOO_MANY_BOUNDS = reason('too_many_bounds');
const O_LABELS_TOO_LONG = reason('labels_too_long');
/** What number()/histogram() return for a point applied (otherwise: the refusal reason). */
const ACCEPTED = -1;
/** Points applied between two yields of applySteps(). */
export const SLICE = 64;

export {
  type ApplyResult,
  formatValue,
  OTLP_REFUSAL_REASONS,
  type OtlpOptions,
  type OtlpRefusalReason,
  OtlpStats,
};

/** One request's context while its points are applied. */
interface Ctx {
  res: ApplyResult;
  nowMs: number;
  /** Latest point time accepted: now + skew, in ns. */
  maxTimeNs: bigint;
  base: Map<string, string>;
  /** False when a resource label value was not valid UTF-8 (every point of that resource is refused). */
  baseOk: boolean;
}

export class OtlpIngest {
  readonly stats: OtlpStats;
  private readonly wanted: Set<string>;
  private readonly maxNameLength: number;
  private readonly maxBounds: number;
  private readonly maxLabelsLength: number;
  private readonly skewNs: bigint;

  constructor(
    private readonly store: Store,
    opts: OtlpOptions,
    tagReasons: number,
  ) {
    this.stats = new OtlpStats(tagReasons);
    this.wanted = new Set(opts.resourceLabels);
    this.maxNameLength = opts.maxNameLength ?? 255;
    this.maxBounds = opts.maxBounds ?? 256;
    this.maxLabelsLength = opts.maxLabelsLength ?? 8192;
    this.skewNs = BigInt(Math.round(opts.maxFutureSkewMs ?? 600_000)) * 1_000_000n;
  }

  /** Applies every point of a decoded request at once; never throws on content. */
  apply(req: ExportRequest, nowMs: number): ApplyResult {
    const it = this.applySteps(req, nowMs);
    for (;;) {
      const r = it.next();
      if (r.done) return r.value;
    }
  }

  /**
   * The same, in slices: yields after every SLICE points so that the caller can let the event loop run
   * (UDP reads, /metrics/self) between them. Each point is applied whole, so any interleaving of two
   * requests is some order of their points, as two requests arriving one after the other would be.
   */
  *applySteps(req: ExportRequest, nowMs: number): Generator<void, ApplyResult, undefined> {
    const ctx = this.begin(nowMs);
    let done = 0;
    for (const rm of req.resourceMetrics ?? []) {
      this.resource(ctx, rm.resource?.attributes);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          done += this.metric(ctx, m);
          if (done >= SLICE) {
            done = 0;
            yield;
          }
        }
      }
    }
    return ctx.res;
  }

  /**
   * A binary request, streamed: checked whole first (OtlpDecodeError: nothing applied), then each metric
   * applied as soon as it is decoded, so decoded points die young instead of surviving many GCs.
   */
  *applyProtobufSteps(
    body: Buffer,
    maxPoints: number,
    nowMs: number,
  ): Generator<void, ApplyResult, undefined> {
    const ctx = this.begin(nowMs);
    let done = 0;
    for (const item of protobufItems(body, maxPoints)) {
      if (item === undefined) yield;
      else if ('resource' in item) this.resource(ctx, item.resource);
      else {
        done += this.metric(ctx, item.metric);
        if (done >= SLICE) {
          done = 0;
          yield;
        }
      }
    }
    return ctx.res;
  }

  /** The context of one request being applied. */
  private begin(nowMs: number): Ctx {
    return {
      res: { accepted: 0, refused: 0, message: '' },
      nowMs,
      maxTimeNs: BigInt(Math.round(nowMs)) * 1_000_000n + this.skewNs,
      base: new Map(),
      baseOk: true,
    };
  }

  /** The resource of the metrics that follow: the labels it gives them. */
  private resource(ctx: Ctx, attrs: KeyValue[] | undefined): void {
    const vt: ValueText = { text: '', ok: true };
    ctx.base = new Map();
    for (const kv of attrs ?? [])
      if (kv.key !== undefined && this.wanted.has(kv.key)) ctx.base.set(kv.key, valueText(kv.value, vt));
    ctx.baseOk = vt.ok;
  }

  /** Applies the points of one metric; returns how many it looked at. */
  private metric(ctx: Ctx, m: Metric): number {
    const raw = m.name ?? '';
    const name = escapeMetricName(raw);
    // Checked once per metric: a name that cannot be exposed refuses every point of the metric.
    const nameFault = !wellFormed(raw)
      ? O_INVALID_UTF8
      : raw.length > this.maxNameLength
        ? O_NAME_TOO_LONG
        : -1;
    const refuse = (r: number, n: number) => this.refuse(ctx.res, r, n, raw);
    const each = <P>(pts: P[], f: (p: P) => number): number => {
      if (nameFault >= 0) refuse(nameFault, pts.length);
      else for (const p of pts) refuse(f(p), 1);
      return pts.length;
    };
    if (m.gauge !== undefined && m.gauge !== null)
      return each(m.gauge.dataPoints ?? [], (p) => this.number(ctx, name, p, T_GAUGE, false, false));
    if (m.sum !== undefined && m.sum !== null) {
      const t = m.sum.aggregationTemporality ?? 0;
      const pts = m.sum.dataPoints ?? [];
      if (t !== TEMPORALITY_DELTA && t !== TEMPORALITY_CUMULATIVE) {
        refuse(O_BAD_TEMPORALITY, pts.length);
        return pts.length;
      }
      const mono = m.sum.isMonotonic === true;
      const type = mono ? T_COUNTER : T_GAUGE;
      return each(pts, (p) => this.number(ctx, name, p, type, t === TEMPORALITY_DELTA, mono));
    }
    if (m.histogram !== undefined && m.histogram !== null) {
      const t = m.histogram.aggregationTemporality ?? 0;
      const pts = m.histogram.dataPoints ?? [];
      if (t !== TEMPORALITY_DELTA && t !== TEMPORALITY_CUMULATIVE) {
        refuse(O_BAD_TEMPORALITY, pts.length);
        return pts.length;
      }
      return each(pts, (p) => this.histogram(ctx, name, p, t === TEMPORALITY_DELTA));
    }
    const n = m.exponentialHistogram?.dataPoints?.length ?? m.summary?.dataPoints?.length ?? 1;
    refuse(O_UNSUPPORTED, n);
    return n;
  }

  private refuse(res: ApplyResult, r: number, n: number, metric: string): void {
    if (r === ACCEPTED || n <= 0) return;
    this.stats.refusedBy[r]! += n;
    res.refused += n;
    // The first refusal names its reason and metric (capped: the name is the sender's text).
    if (res.message === '')
      res.message = `${OTLP_REFUSAL_REASONS[r]}: metric "${metric.slice(0, 200).replace(/[\uD800-\uDFFF]/g, '\uFFFD')}"`;
  }

  private accept(res: ApplyResult, s: Series, nowMs: number, timeNs: bigint): void {
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
    ctx: Ctx,
    name: string,
    attrs: KeyValue[] | undefined,
    type: number,
    timeNs: bigint,
    ordered: boolean,
  ): Series | number {
    if (name === '') return O_BAD_NAME;
    if (!(timeNs > 0n)) return O_BAD_TIME;
    // A point from the far future would freeze its series: every later normal point would be "older".
    if (timeNs > ctx.maxTimeNs) return O_FUTURE;
    const key = this.key(ctx, name, attrs);
    if (typeof key === 'number') return key;
    const r = this.store.resolve(key, type, ctx.nowMs, ORIGIN_OTLP);
    if (typeof r === 'number') {
      if (isRefused(r)) return O_BUDGET + refusalOf(r);
      return r === R_NAME_CONFLICT ? O_NAME_CONFLICT : r === R_TYPE_CONFLICT ? O_TYPE_CONFLICT : O_BAD_NAME;
    }
    if (ordered && timeNs < r.lastTimeNs) return O_OUT_OF_ORDER;
    return r;
  }

  private number(
    ctx: Ctx,
    name: string,
    p: NumberDataPoint,
    type: number,
    delta: boolean,
    monotonic: boolean,
  ): number {
    const hasD = Object.hasOwn(p, 'asDouble') && p.asDouble !== undefined;
    const hasI = Object.hasOwn(p, 'asInt') && p.asInt !== undefined;
    if ((!hasD && !hasI) || ((p.flags ?? 0) & FLAG_NO_RECORDED_VALUE) !== 0) return O_NO_VALUE;
    const v = hasD ? Number(p.asDouble) : toNumber(p.asInt);
    if (!Number.isFinite(v) && type === T_COUNTER) return O_BAD_VALUE;
    // A monotonic sum never goes below zero: a negative delta or a negative cumulative total is wrong.
    if (monotonic && v < 0) return O_BAD_VALUE;
    const timeNs = toBigInt(p.timeUnixNano);
    // Cumulative sums and gauges are states: an older point must not overwrite a newer one.
    const s = this.series(ctx, name, p.attributes, type, timeNs, !delta);
    if (typeof s === 'number') return s;
    s.value = delta ? s.value + v : v;
    this.accept(ctx.res, s, ctx.nowMs, timeNs);
    return ACCEPTED;
  }

  private histogram(ctx: Ctx, name: string, p: HistogramDataPoint, delta: boolean): number {
    if (((p.flags ?? 0) & FLAG_NO_RECORDED_VALUE) !== 0) return O_NO_VALUE;
    const bounds = p.explicitBounds ?? [];
    // Every bound is one more line per series in /metrics: bounded before anything else is looked at.
    if (bounds.length > this.maxBounds) return O_TOO_MANY_BOUNDS;
    const counts = (p.bucketCounts ?? []).map(toNumber);
    const count = toNumber(p.count);
    // No buckets at all is allowed (count and sum only): one +Inf bucket holds the count.
    if (counts.length === 0) counts.push(count);
    let total = 0;
    for (const c of counts) total += c;
    if (counts.length !== bounds.length + 1 || total !== count || !bounds.every(Number.isFinite))
      return O_BAD_VALUE;
    for (let i = 1; i < bounds.length; i++) if (!(bounds[i]! > bounds[i - 1]!)) return O_BAD_VALUE;
    const timeNs = toBigInt(p.timeUnixNano);
    const s = this.series(ctx, name, p.attributes, T_HISTOGRAM, timeNs, !delta);
    if (typeof s === 'number') return s;
    if (s.bounds === null) {
      if (s.count !== 0 || s.lastTimeNs >= 0n) return O_BOUNDS_CHANGED;
      const les = [...bounds.map((b) => `le="${formatValue(b)}"`), 'le="+Inf"'];
      // The series' own bounds are memory too: counted in --max-series-bytes (two arrays and the le text).
      let cost = 16 * (bounds.length + 1);
      for (const l of les) cost += l.length;
      if (!this.store.charge(cost)) return O_MAX_SERIES_BYTES;
      s.bounds = Float64Array.from(bounds);
      s.les = les;
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
    this.accept(ctx.res, s, ctx.nowMs, timeNs);
    return ACCEPTED;
  }

  /** Name and labels of a point (resource labels first, point attributes override), or a refusal. */
  private key(ctx: Ctx, name: string, attrs: KeyValue[] | undefined): DecodedKey | number {
    const labels = new Map<string, string>();
    const fromPoint = new Set<string>();
    const vt: ValueText = { text: '', ok: ctx.baseOk };
    let length = 0;
    const add = (rawKey: string, value: string, point: boolean) => {
      if (!wellFormed(rawKey)) vt.ok = false;
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
    for (const [k, v] of ctx.base) add(k, v, false);
    for (const kv of attrs ?? []) {
      add(kv.key ?? '', valueText(kv.value, vt), true);
      if (!vt.ok) return O_INVALID_UTF8;
    }
    if (!vt.ok) return O_INVALID_UTF8;
    for (const [k, v] of labels) length += k.length + v.length + 4;
    // A series' label text is repeated on every line of it in /metrics: bounded like a StatsD line.
    if (length > this.maxLabelsLength) return O_LABELS_TOO_LONG;
    const sorted = [...labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return { name, labels: sorted, tagErrors: 0, tagReasons: null };
  }
}
