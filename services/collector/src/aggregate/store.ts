import {
  R_NAME_CONFLICT,
  R_TYPE_CONFLICT,
  RF_LABEL_VALUE_TOO_LONG,
  RF_MAX_SERIES,
  RF_MAX_SERIES_BYTES,
} from '../parse/codes.ts';
import type { DecodedKey } from '../parse/decode.ts';
import { escapeLabelValue } from '../parse/names.ts';

// What the collector keeps: metric families by exposed name, series by label set, push sources.
// Pure data structures; time comes in as a parameter. Bounded: at most maxSeries series and as many
// sources, at most maxSeriesBytes of label text (series count alone does not bound memory: one 8 KB tag
// value per series is 800 MB at 100,000 series), label values at most maxLabelValueLength bytes; sets at
// most maxSetSize members per window.

export const K_COUNTER = 0;
export const K_GAUGE = 1;
export const K_HISTOGRAM = 2;
export const K_SET = 3;
export const KIND_OF_TYPE: readonly number[] = [
  K_COUNTER,
  K_GAUGE,
  K_HISTOGRAM,
  K_HISTOGRAM,
  K_HISTOGRAM,
  K_SET,
];
export const KIND_NAMES = ['counter', 'gauge', 'histogram', 'gauge'] as const;

export class Source {
  live = true;
  constructor(
    readonly name: string,
    public lastSeenMs: number,
  ) {}
}

/** Who writes a family: StatsD lines or OTLP points. One family never mixes both (their values mean
 * different things: a StatsD counter adds, an OTLP cumulative sum replaces). */
export const ORIGIN_STATSD = 0;
export const ORIGIN_OTLP = 1;

export class Family {
  readonly series = new Map<string, Series>();
  constructor(
    readonly name: string,
    readonly kind: number,
    readonly origin: number = ORIGIN_STATSD,
  ) {}
}

export class Series {
  /** Counter total or gauge value. */
  value = 0;
  /** Histogram: per-bucket (not cumulative) weights; the last slot is +Inf. */
  buckets: Float64Array | null;
  /** OTLP histograms carry their own bounds (null: the store's --buckets); `le` label text per bucket. */
  bounds: Float64Array | null = null;
  les: string[] | null = null;
  /** OTLP: time_unix_nano of the last point applied, as an integer (-1n: none yet). */
  lastTimeNs = -1n;
  sum = 0;
  count = 0;
  /** Set: distinct members of the current window, and the count of the last completed window (-1: none yet). */
  readonly members: Set<string> | null;
  /** Set: bytes the current window's members hold against --max-series-bytes (released when it closes). */
  memberBytes = 0;
  lastWindow = -1;
  constructor(
    readonly family: Family,
    /** Rendered label pairs without braces: k="v",k2="v2" (empty string for no labels). */
    readonly labelsText: string,
    public source: Source | null,
    nBuckets: number,
  ) {
    this.buckets = family.kind === K_HISTOGRAM ? new Float64Array(nBuckets + 1) : null;
    this.members = family.kind === K_SET ? new Set() : null;
  }
}

export interface StoreOptions {
  maxSeries: number;
  /** Histogram upper bounds, ascending, without +Inf. */
  buckets: readonly number[];
  strictNames: boolean;
  sourceTag: string;
  maxSetSize: number;
  /** Exposed names owned by the collector itself (self-metrics); senders cannot take them. */
  reservedNames: readonly string[];
  /** Longest label value kept, UTF-8 bytes (default 1 KiB); a line with a longer one is refused. */
  maxLabelValueLength?: number;
  /** Budget for what series keep: their label text and family names, bytes (default 64 MiB). */
  maxSeriesBytes?: number;
}

export const DEFAULT_MAX_LABEL_VALUE_LENGTH = 1024;
export const DEFAULT_MAX_SERIES_BYTES = 64 * 1024 * 1024;
/** What one set member costs beyond its text (Set entry, string header), bytes. */
export const SET_MEMBER_OVERHEAD = 40;

/** Store.resolve refused the line by a budget: -(RF_* code + 1). */
export const refused = (rf: number): number => -(rf + 1);
export const isRefused = (r: number): boolean => r < 0;
export const refusalOf = (r: number): number => -r - 1;

/** Rough per-series bookkeeping beyond its label text (objects, Map entry, cache entry), bytes. */
const SERIES_OVERHEAD = 200;

export class Store {
  readonly families = new Map<string, Family>();
  /** Every sample name a family exposes (histograms: name, _bucket, _sum, _count) -> owner. */
  private readonly owners = new Map<string, Family | null>();
  readonly sources = new Map<string, Source>();
  readonly setSeries: Series[] = [];
  readonly bounds: Float64Array;
  seriesCount = 0;
  /** What the series hold against --max-series-bytes: label text, family names, a fixed overhead each. */
  bytes = 0;
  /** Series left out of /metrics renders: their text would be too long to build (counted per render). */
  unrendered = 0;
  readonly opts: Readonly<StoreOptions>;
  private readonly maxLabelValueLength: number;
  private readonly maxSeriesBytes: number;

  constructor(opts: StoreOptions) {
    this.opts = opts;
    this.maxLabelValueLength = opts.maxLabelValueLength ?? DEFAULT_MAX_LABEL_VALUE_LENGTH;
    this.maxSeriesBytes = opts.maxSeriesBytes ?? DEFAULT_MAX_SERIES_BYTES;
    this.bounds = Float64Array.from(opts.buckets);
    for (const n of opts.reservedNames) this.owners.set(n, null);
  }

  /**
   * Finds or creates the series for a decoded key. Returns a Series, a drop reason (> 0), or a refusal by a
   * budget (< 0, see refused()).
   */
  resolve(d: DecodedKey, type: number, nowMs: number, origin = ORIGIN_STATSD): Series | number {
    const kind = KIND_OF_TYPE[type]!;
    // Checked before anything is created: a refused line leaves no family, series or source behind.
    for (const [, v] of d.labels) {
      // UTF-8 is at most 3 bytes per UTF-16 unit: count bytes only when the value might be too long.
      if (v.length * 3 > this.maxLabelValueLength && Buffer.byteLength(v) > this.maxLabelValueLength) {
        this.touchSourceOf(d, nowMs);
        return refused(RF_LABEL_VALUE_TOO_LONG);
      }
    }
    let labelsText = '';
    for (const [k, v] of d.labels) labelsText += `${labelsText ? ',' : ''}${k}="${escapeLabelValue(v)}"`;
    let name = d.name;
    if (this.opts.strictNames && kind === K_COUNTER && !name.endsWith('_total')) name += '_total';
    let fam = this.families.get(name);
    if (fam === undefined) {
      const exposed =
        kind === K_HISTOGRAM ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
      for (const n of exposed) if (this.owners.has(n)) return R_NAME_CONFLICT;
      // The family's first series must fit too, or the family would be exposed empty.
      const full = this.full(name.length + labelsText.length + SERIES_OVERHEAD);
      if (full !== 0) {
        this.touchSourceOf(d, nowMs);
        return full;
      }
      fam = new Family(name, kind, origin);
      this.bytes += name.length;
      this.families.set(name, fam);
      for (const n of exposed) this.owners.set(n, fam);
    } else if (fam.kind !== kind || fam.origin !== origin) {
      return R_TYPE_CONFLICT;
    }
    let series = fam.series.get(labelsText);
    if (series === undefined) {
      const full = this.full(labelsText.length + SERIES_OVERHEAD);
      if (full !== 0) {
        this.touchSourceOf(d, nowMs);
        return full;
      }
      series = new Series(fam, labelsText, this.sourceOf(d, nowMs), this.bounds.length);
      fam.series.set(labelsText, series);
      this.seriesCount++;
      this.bytes += labelsText.length + SERIES_OVERHEAD;
      if (kind === K_SET) this.setSeries.push(series);
    }
    return series;
  }

  /**
   * Memory a series keeps beyond its key (set members, a histogram's own bounds): true when it fits in
   * --max-series-bytes and was added to the count; false (nothing added) when it does not.
   */
  charge(bytes: number): boolean {
    if (this.bytes + bytes > this.maxSeriesBytes) return false;
    this.bytes += bytes;
    return true;
  }

  /** 0 when one more series of `bytes` fits, else the refusal (see refused()). */
  private full(bytes: number): number {
    if (this.seriesCount >= this.opts.maxSeries) return refused(RF_MAX_SERIES);
    if (this.bytes + bytes > this.maxSeriesBytes) return refused(RF_MAX_SERIES_BYTES);
    return 0;
  }

  private sourceName(d: DecodedKey): string | undefined {
    for (const [k, v] of d.labels) if (k === this.opts.sourceTag) return v;
    return undefined;
  }

  private sourceOf(d: DecodedKey, nowMs: number): Source | null {
    const name = this.sourceName(d);
    if (name === undefined) return null;
    let src = this.sources.get(name);
    if (src === undefined) {
      src = new Source(name, nowMs);
      if (this.sources.size < this.opts.maxSeries) this.sources.set(name, src);
      else src.live = false;
    }
    return src;
  }

  /** Liveness for lines whose series was refused: the sender is still alive. */
  private touchSourceOf(d: DecodedKey, nowMs: number): void {
    const src = this.sourceOf(d, nowMs);
    if (src !== null) {
      src.lastSeenMs = nowMs;
      if (!src.live) this.revive(src, nowMs);
    }
  }

  /**
   * A series whose source expired (or found no room) was seen again: returns the live Source for that
   * name, re-registering it when there is room. The caller stores the result in series.source.
   */
  revive(src: Source, nowMs: number): Source {
    const current = this.sources.get(src.name);
    if (current !== undefined) {
      current.lastSeenMs = nowMs;
      return current;
    }
    if (this.sources.size < this.opts.maxSeries) {
      src.live = true;
      src.lastSeenMs = nowMs;
      this.sources.set(src.name, src);
    }
    return src;
  }

  /**
   * Periodic maintenance ("flush"): closes the set window and forgets sources not seen for ttlMs.
   */
  tick(nowMs: number, sourceTtlMs: number): void {
    for (const s of this.setSeries) {
      s.lastWindow = s.members!.size;
      s.members!.clear();
      this.bytes -= s.memberBytes;
      s.memberBytes = 0;
    }
    for (const [name, src] of this.sources) {
      if (nowMs - src.lastSeenMs > sourceTtlMs) {
        src.live = false;
        this.sources.delete(name);
      }
    }
  }

  activeSources(nowMs: number, windowMs: number): number {
    let n = 0;
    for (const src of this.sources.values()) if (nowMs - src.lastSeenMs <= windowMs) n++;
    return n;
  }
}
