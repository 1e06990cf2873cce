import { randomInt } from 'node:crypto';
import {
  R_INVALID_UTF8,
  R_OK,
  R_SET_FULL,
  REASON_COUNT,
  REFUSAL_COUNT,
  RF_MAX_SERIES_BYTES,
  T_COUNTER,
  T_GAUGE,
  T_SET,
  TAG_REASON_COUNT,
  TR_TCP,
  TR_UDP,
  TRANSPORT_COUNT,
} from '../parse/codes.ts';
import { decodeKey } from '../parse/decode.ts';
import { LineScan, sameBytes, scanLine, validateLine, viewOf } from '../parse/scan.ts';
import {
  DEFAULT_MAX_SERIES_BYTES,
  isRefused,
  refusalOf,
  refused,
  SET_MEMBER_OVERHEAD,
  type Series,
  Store,
  type StoreOptions,
} from './store.ts';

// Bytes in, aggregates out: the collector's pure core. For every line: scan (no allocation), look the
// series up by a hash of its identifying bytes (a cache of raw keys, so names and tags are decoded and
// sanitised once per distinct key, not once per line), apply the values. Every line ends in exactly one
// of: accepted, a parse error by reason, or refused by the series limit — so
//   lines = linesAccepted + sum(parseErrors) + seriesRejected   holds at every instant.

/** Counters the self-metrics expose. Plain numbers and typed arrays: the hot path only adds. */
export class IngestStats {
  readonly packets = new Float64Array(TRANSPORT_COUNT);
  readonly bytes = new Float64Array(TRANSPORT_COUNT);
  readonly lines = new Float64Array(TRANSPORT_COUNT);
  /** Datagrams dropped whole because they exceed --max-packet-size, by transport. */
  readonly packetsTooLarge = new Float64Array(TRANSPORT_COUNT);
  linesAccepted = 0;
  /** Indexed by drop reason code (index 0 unused). */
  readonly parseErrors = new Float64Array(REASON_COUNT);
  /** Indexed by type code: samples (values) accepted. */
  readonly samples = new Float64Array(6);
  /** Lines refused by a memory budget, all reasons (the third term of the accounting identity). */
  seriesRejected = 0;
  /** The same, indexed by RF_* reason (max_series, label_value_too_long, max_series_bytes). */
  readonly seriesRejectedBy = new Float64Array(REFUSAL_COUNT);
  /** Tags ignored (the line kept), indexed by TE_* reason. */
  readonly tagErrors = new Float64Array(TAG_REASON_COUNT);
}

function addTagErrors(st: IngestStats, by: Uint32Array): void {
  for (let i = 0; i < by.length; i++) st.tagErrors[i]! += by[i]!;
}

/** A raw series key already seen: the exact bytes that identify it and what they resolved to. */
class CacheEntry {
  next: CacheEntry | undefined = undefined;
  readonly nameView: DataView;
  readonly tagsView: DataView;
  constructor(
    readonly hash: number,
    readonly type: number,
    /** the name region's bytes (copied) */
    readonly name: Uint8Array,
    /** the DogStatsD tag components' bytes (copied; empty if none) */
    readonly tags: Uint8Array,
    /** the container id's bytes (copied; empty if none) */
    readonly cont: Uint8Array,
    /** null when the key always drops (reason) */
    readonly series: Series | null,
    readonly reason: number,
    /** Tags this key always ignores, by reason (null: none). */
    readonly tagErrors: Uint32Array | null,
  ) {
    this.nameView = viewOf(name);
    this.tagsView = viewOf(tags);
  }
}

export interface IngestOptions extends StoreOptions {
  maxLineSize: number;
  maxPacketSize: number;
  /** Seed of the raw-key hash (default: random per process). */
  hashSeed?: number;
}

/** Longest chain of raw keys per hash bucket; keys beyond it are resolved without being cached. */
const MAX_CHAIN = 16;

export class Ingest {
  readonly stats = new IngestStats();
  readonly store: Store;
  private readonly scan: LineScan;
  /** Hash table of raw keys: buckets indexed by hash & mask, chained through CacheEntry.next. */
  private table: (CacheEntry | undefined)[] = new Array(1024).fill(undefined);
  private mask = 1023;
  private cacheSize = 0;
  /** Raw key bytes the cache holds: bounded too, or 200,000 cached 8 KB keys would hold 1.6 GB. */
  private cacheBytes = 0;
  private readonly maxCache: number;
  private readonly maxCacheBytes: number;
  private readonly maxLineSize: number;
  private readonly maxPacketSize: number;
  private readonly maxSetSize: number;

  constructor(opts: IngestOptions) {
    this.store = new Store(opts);
    this.scan = new LineScan(Math.floor(opts.maxLineSize / 2) + 1, opts.hashSeed ?? randomInt(0x7fffffff));
    this.maxLineSize = opts.maxLineSize;
    this.maxPacketSize = opts.maxPacketSize;
    this.maxSetSize = opts.maxSetSize;
    // Different spellings of one series (tag order, tag style) each take a cache slot; clear when full.
    this.maxCache = Math.max(1024, opts.maxSeries * 2);
    this.maxCacheBytes = opts.maxSeriesBytes ?? DEFAULT_MAX_SERIES_BYTES;
  }

  /** One UDP datagram (several lines separated by '\n'). */
  datagram(buf: Buffer, nowMs: number): void {
    const st = this.stats;
    st.packets[TR_UDP]!++;
    st.bytes[TR_UDP]! += buf.length;
    if (buf.length > this.maxPacketSize) {
      st.packetsTooLarge[TR_UDP]!++;
      return;
    }
    this.lines(buf, 0, buf.length, TR_UDP, nowMs);
  }

  /** Complete lines from a stream: buf[start, end) holds whole lines separated by '\n'. */
  lines(buf: Buffer, start: number, end: number, transport: number, nowMs: number): void {
    const st = this.stats;
    const s = this.scan;
    const max = this.maxLineSize;
    const dv = viewOf(buf);
    let pos = start;
    let lines = 0;
    while (pos < end) {
      if (buf[pos] === 10) {
        pos++;
        continue;
      }
      lines++;
      const r = scanLine(buf, dv, pos, end, s, max);
      pos = s.lineEnd + 1;
      if (r !== R_OK) {
        st.parseErrors[r]!++;
        continue;
      }
      let e = this.table[s.hash & this.mask];
      let chain = 0;
      while (e !== undefined && !matches(e, dv, buf, s)) {
        e = e.next;
        chain++;
      }
      if (e === undefined) {
        e = this.resolve(buf, s, nowMs, chain < MAX_CHAIN);
        if (e === undefined) continue; // refused by a budget (counted)
      }
      if (e.tagErrors !== null) addTagErrors(st, e.tagErrors);
      const series = e.series;
      if (series === null) {
        st.parseErrors[e.reason]!++;
        continue;
      }
      const rr = this.apply(series, s, buf);
      if (rr !== R_OK) {
        if (isRefused(rr)) {
          st.seriesRejected++;
          st.seriesRejectedBy[refusalOf(rr)]!++;
        } else st.parseErrors[rr]!++;
        continue;
      }
      const src = series.source;
      if (src !== null) {
        src.lastSeenMs = nowMs;
        if (!src.live) series.source = this.store.revive(src, nowMs);
      }
      st.linesAccepted++;
      st.samples[s.type]! += s.nValues;
    }
    st.lines[transport]! += lines;
  }

  /** Counts a line a stream framer had to cut (longer than --max-line-size without a newline). */
  overlongStreamLine(transport: number, reason: number): void {
    this.stats.lines[transport]!++;
    this.stats.parseErrors[reason]!++;
  }

  /** Counts bytes/chunks read from a TCP connection (lines are counted as they complete). */
  streamChunk(bytes: number): void {
    this.stats.packets[TR_TCP]!++;
    this.stats.bytes[TR_TCP]! += bytes;
  }

  private apply(series: Series, s: LineScan, buf: Buffer): number {
    const type = s.type;
    if (type === T_COUNTER) {
      series.value += s.values[0]! / s.rate;
    } else if (type === T_GAUGE) {
      series.value = s.relative ? series.value + s.values[0]! : s.values[0]!;
    } else if (type === T_SET) {
      const members = series.members!;
      const m = buf.toString('utf8', s.valueStart, s.valueEnd);
      if (!members.has(m)) {
        if (members.size >= this.maxSetSize) return R_SET_FULL;
        // Members are memory the sender chooses (10k × 8 KB per set): they count in --max-series-bytes.
        const cost = m.length + SET_MEMBER_OVERHEAD;
        if (!this.store.charge(cost)) return refused(RF_MAX_SERIES_BYTES);
        series.memberBytes += cost;
        members.add(m);
      }
    } else {
      const bounds = this.store.bounds;
      const nb = bounds.length;
      const buckets = series.buckets!;
      const w = 1 / s.rate;
      const vals = s.values;
      for (let k = 0; k < s.nValues; k++) {
        const x = vals[k]!;
        let i = 0;
        while (i < nb && x > bounds[i]!) i++;
        buckets[i]! += w;
        series.sum += x * w;
        series.count += w;
      }
    }
    return R_OK;
  }

  /** Doubles the table (load factor 1) and rehashes the chains. */
  private grow(): void {
    const old = this.table;
    const table: (CacheEntry | undefined)[] = new Array(old.length * 2).fill(undefined);
    const mask = table.length - 1;
    for (let e of old) {
      while (e !== undefined) {
        const next = e.next;
        e.next = table[e.hash & mask];
        table[e.hash & mask] = e;
        e = next;
      }
    }
    this.table = table;
    this.mask = mask;
  }

  /** Cache miss: decode, sanitise, find or create the series, remember the raw key. */
  private resolve(buf: Buffer, s: LineScan, nowMs: number, cache: boolean): CacheEntry | undefined {
    const d = validateLine(buf, s) ? decodeKey(buf, s) : R_INVALID_UTF8;
    let series: Series | null = null;
    let reason = R_OK;
    let tagErrors: Uint32Array | null = null;
    if (typeof d === 'number') reason = d;
    else {
      tagErrors = d.tagReasons;
      const r = this.store.resolve(d, s.type, nowMs);
      if (typeof r === 'number' && isRefused(r)) {
        // Not cached: the budget may have room later, and a refused key must not cost cache memory either.
        this.stats.seriesRejected++;
        this.stats.seriesRejectedBy[refusalOf(r)]!++;
        if (tagErrors !== null) addTagErrors(this.stats, tagErrors);
        return undefined;
      }
      if (typeof r === 'number') reason = r;
      else series = r;
    }
    const e = new CacheEntry(
      s.hash,
      s.type,
      Uint8Array.prototype.slice.call(buf, s.lineStart, s.keyEnd),
      s.tagsStart >= 0 ? Uint8Array.prototype.slice.call(buf, s.tagsStart, s.tagsEnd) : EMPTY,
      s.contStart >= 0 ? Uint8Array.prototype.slice.call(buf, s.contStart, s.contEnd) : EMPTY,
      series,
      reason,
      tagErrors,
    );
    if (!cache) return e; // a crowded bucket (colliding keys): correct, just not remembered
    const bytes = e.name.length + e.tags.length + e.cont.length + CACHE_ENTRY_OVERHEAD;
    if (this.cacheSize >= this.maxCache || this.cacheBytes + bytes > this.maxCacheBytes) {
      this.table = new Array(this.table.length).fill(undefined);
      this.cacheSize = 0;
      this.cacheBytes = 0;
    } else if (this.cacheSize >= this.table.length) this.grow();
    const b = s.hash & this.mask;
    e.next = this.table[b];
    this.table[b] = e;
    this.cacheSize++;
    this.cacheBytes += bytes;
    return e;
  }
}

const EMPTY = new Uint8Array(0);
/** Rough size of a CacheEntry beyond its key bytes (object, three arrays, two DataViews), bytes. */
const CACHE_ENTRY_OVERHEAD = 300;

function matches(e: CacheEntry, dv: DataView, buf: Uint8Array, s: LineScan): boolean {
  if (e.type !== s.type) return false;
  const nameLen = s.keyEnd - s.lineStart;
  if (nameLen !== e.name.length) return false;
  const tagsLen = s.tagsStart >= 0 ? s.tagsEnd - s.tagsStart : 0;
  if (tagsLen !== e.tags.length) return false;
  const contLen = s.contStart >= 0 ? s.contEnd - s.contStart : 0;
  if (contLen !== e.cont.length) return false;
  if (!sameBytes(dv, buf, s.lineStart, nameLen, e.nameView, e.name)) return false;
  if (tagsLen > 0 && !sameBytes(dv, buf, s.tagsStart, tagsLen, e.tagsView, e.tags)) return false;
  for (let i = 0; i < contLen; i++) if (buf[s.contStart + i] !== e.cont[i]) return false;
  return true;
}
