import { R_NAME_CONFLICT, R_TYPE_CONFLICT } from '../parse/codes.ts';
import type { DecodedKey } from '../parse/decode.ts';
import { escapeLabelValue } from '../parse/names.ts';

// What the collector keeps: metric families by exposed name, series by label set, push sources.
// Pure data structures; time comes in as a parameter. Bounded: at most maxSeries series and as many
// sources; sets at most maxSetSize members per window.

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

export class Family {
  readonly series = new Map<string, Series>();
  constructor(
    readonly name: string,
    readonly kind: number,
  ) {}
}

export class Series {
  /** Counter total or gauge value. */
  value = 0;
  /** Histogram: per-bucket (not cumulative) weights; the last slot is +Inf. */
  readonly buckets: Float64Array | null;
  sum = 0;
  count = 0;
  /** Set: distinct members of the current window, and the count of the last completed window (-1: none yet). */
  readonly members: Set<string> | null;
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
}

/** Result of resolving a decoded key: a series, a drop reason (number), or REJECTED by the series limit. */
export const REJECTED = -1;

export class Store {
  readonly families = new Map<string, Family>();
  /** Every sample name a family exposes (histograms: name, _bucket, _sum, _count) -> owner. */
  private readonly owners = new Map<string, Family | null>();
  readonly sources = new Map<string, Source>();
  readonly setSeries: Series[] = [];
  readonly bounds: Float64Array;
  seriesCount = 0;
  readonly opts: Readonly<StoreOptions>;

  constructor(opts: StoreOptions) {
    this.opts = opts;
    this.bounds = Float64Array.from(opts.buckets);
    for (const n of opts.reservedNames) this.owners.set(n, null);
  }

  /** Finds or creates the series for a decoded key. Returns a Series, a drop reason, or REJECTED. */
  resolve(d: DecodedKey, type: number, nowMs: number): Series | number {
    const kind = KIND_OF_TYPE[type]!;
    let name = d.name;
    if (this.opts.strictNames && kind === K_COUNTER && !name.endsWith('_total')) name += '_total';
    let fam = this.families.get(name);
    if (fam === undefined) {
      const exposed =
        kind === K_HISTOGRAM ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
      for (const n of exposed) if (this.owners.has(n)) return R_NAME_CONFLICT;
      if (this.seriesCount >= this.opts.maxSeries) {
        this.touchSourceOf(d, nowMs);
        return REJECTED;
      }
      fam = new Family(name, kind);
      this.families.set(name, fam);
      for (const n of exposed) this.owners.set(n, fam);
    } else if (fam.kind !== kind) {
      return R_TYPE_CONFLICT;
    }
    let labelsText = '';
    for (const [k, v] of d.labels) labelsText += `${labelsText ? ',' : ''}${k}="${escapeLabelValue(v)}"`;
    let series = fam.series.get(labelsText);
    if (series === undefined) {
      if (this.seriesCount >= this.opts.maxSeries) {
        this.touchSourceOf(d, nowMs);
        return REJECTED;
      }
      series = new Series(fam, labelsText, this.sourceOf(d, nowMs), this.bounds.length);
      fam.series.set(labelsText, series);
      this.seriesCount++;
      if (kind === K_SET) this.setSeries.push(series);
    }
    return series;
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
