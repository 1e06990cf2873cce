import { isUtf8 } from 'node:buffer';
import {
  R_BAD_RATE,
  R_BAD_TIMESTAMP,
  R_BAD_VALUE,
  R_DSD_EVENT,
  R_DSD_SERVICE_CHECK,
  R_EMPTY_NAME,
  R_INVALID_UTF8,
  R_LINE_TOO_LONG,
  R_MALFORMED,
  R_MULTI_VALUE,
  R_NEGATIVE_COUNTER,
  R_OK,
  R_UNKNOWN_COMPONENT,
  R_UNKNOWN_TYPE,
  T_COUNTER,
  T_DISTRIBUTION,
  T_GAUGE,
  T_HISTOGRAM,
  T_SET,
  T_TIMER,
} from './codes.ts';
import { parseDecimal } from './number.ts';

// The hot path: one pass over a line that finds its parts, hashes the parts that identify a series
// (name region, type, DogStatsD tags, container id) and parses the values, without allocating.
// Line grammar: <name-and-maybe-tags>:<value>[:<value>...]|<type>[|@<rate>][|#<tags>][|c:<container>][|T<ts>]
// The two long regions (name, tags) are scanned four bytes at a time (SWAR through a DataView: find the
// delimiter with the has-zero-byte trick, hash whole words), which is ~2.5x cheaper than a byte loop.
// Decoding names and tags into strings (decode.ts) happens only when a key is seen for the first time;
// that is also when the key's bytes are checked for valid UTF-8 (validateLine), so a known key is not re-checked.

const NL = 10;
const COLON = 58;
const PIPE = 124;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const ONES = 0x01010101;
const HIGHS = 0x80808080 | 0;
const COLONS = 0x3a3a3a3a;
const NLS = 0x0a0a0a0a;
const PIPES = 0x7c7c7c7c;

/** Reused scratch space describing the line that was just scanned (indexes into the packet buffer). */
export class LineScan {
  lineStart = 0;
  /** Index of the terminating '\n', or the end of the packet. The next line starts at lineEnd + 1. */
  lineEnd = 0;
  /** [lineStart, keyEnd): the name, including InfluxDB / Librato / SignalFx tags. */
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  type = 0;
  /** DogStatsD tag components: from the first '#' to the end of the last '#' component; -1 if none. */
  tagsStart = -1;
  tagsEnd = -1;
  /** DogStatsD 1.2 container id (after "c:"); -1 if none. */
  contStart = -1;
  contEnd = -1;
  rate = 1;
  /** Hash of the series-identifying bytes, folded to a small non-negative integer (a Smi). */
  hash = 0;
  /** Parsed numeric values (multi-value lines have several); timers already in seconds. */
  readonly values: Float64Array;
  nValues = 0;
  /** Gauge given as +n / -n. */
  relative = false;
  /** Hash seed: random per process, so colliding keys cannot be computed in advance. */
  readonly seed: number;

  constructor(maxValues: number, seed = FNV_OFFSET) {
    this.values = new Float64Array(Math.max(1, maxValues));
    this.seed = seed | 0;
  }
}

/** A DataView over a packet, for scanLine. One per packet. */
export function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

let gHash = 0;

/**
 * From pos, finds the first byte equal to b1 or b2 (p1, p2: that byte repeated four times), mixing the
 * bytes before it into gHash, and returns its index (or end). The mix is a function of the region's bytes
 * only: whole words, then the last partial word zero-extended, then the length.
 */
function scanRegion(
  dv: DataView,
  buf: Uint8Array,
  pos: number,
  end: number,
  p1: number,
  p2: number,
  b1: number,
  b2: number,
): number {
  const start = pos;
  let h = gHash;
  const last = end - 4;
  while (pos <= last) {
    const w = dv.getInt32(pos, true);
    const x = w ^ p1;
    const y = w ^ p2;
    const m = (((x - ONES) & ~x) | ((y - ONES) & ~y)) & HIGHS;
    if (m !== 0) {
      const k = (31 - Math.clz32(m & -m)) >> 3; // bytes before the delimiter in this word
      if (k > 0) h = Math.imul(h ^ (w & (0xffffffff >>> (32 - 8 * k))), FNV_PRIME);
      pos += k;
      gHash = Math.imul(h ^ (pos - start), FNV_PRIME);
      return pos;
    }
    h = Math.imul(h ^ w, FNV_PRIME);
    pos += 4;
  }
  let w = 0;
  let shift = 0;
  while (pos < end) {
    const c = buf[pos]!;
    if (c === b1 || c === b2) break;
    w |= c << shift;
    shift += 8;
    pos++;
  }
  if (shift > 0) h = Math.imul(h ^ w, FNV_PRIME);
  gHash = Math.imul(h ^ (pos - start), FNV_PRIME);
  return pos;
}

/** Whether buf[pos, pos + len) equals key (key's DataView kv), four bytes at a time. */
export function sameBytes(
  dv: DataView,
  buf: Uint8Array,
  pos: number,
  len: number,
  kv: DataView,
  key: Uint8Array,
): boolean {
  let i = 0;
  for (; i + 4 <= len; i += 4) if (dv.getInt32(pos + i, true) !== kv.getInt32(i, true)) return false;
  for (; i < len; i++) if (buf[pos + i] !== key[i]) return false;
  return true;
}

/**
 * Scans the line that starts at `pos` (which must not be '\n') and returns a drop reason (R_OK = 0 when
 * the line is well-formed). Always sets s.lineEnd, so the caller can continue after a bad line.
 * Precedence when a line has several faults: too long, then invalid UTF-8, then the first fault from the left.
 * R_OK does not vouch for the UTF-8 of the name and tag regions: the caller runs validateLine() once per
 * distinct key (equal bytes are equally valid).
 */
export function scanLine(
  buf: Uint8Array,
  dv: DataView,
  pos: number,
  end: number,
  s: LineScan,
  maxLineSize: number,
): number {
  const lineStart = pos;
  s.lineStart = pos;
  s.tagsStart = -1;
  s.tagsEnd = -1;
  s.contStart = -1;
  s.contEnd = -1;
  s.rate = 1;
  s.nValues = 0;
  s.relative = false;
  let c = 0;
  let reason = R_OK;

  // 0. DogStatsD events (_e{…}) and service checks (_sc|…) are not metrics: counted under their own reasons
  if (end - pos >= 3 && buf[pos] === 95 /* _ */) {
    if (buf[pos + 1] === 101 /* e */ && buf[pos + 2] === 123 /* { */)
      return finishBad(buf, pos, end, s, R_DSD_EVENT, maxLineSize);
    if (
      end - pos >= 4 &&
      buf[pos + 1] === 115 /* s */ &&
      buf[pos + 2] === 99 /* c */ &&
      buf[pos + 3] === PIPE
    )
      return finishBad(buf, pos, end, s, R_DSD_SERVICE_CHECK, maxLineSize);
  }

  // 1. name region, up to the first ':'
  gHash = s.seed;
  pos = scanRegion(dv, buf, pos, end, COLONS, NLS, COLON, NL);
  s.keyEnd = pos;
  if (pos >= end || buf[pos] !== COLON) return finishBad(buf, pos, end, s, R_MALFORMED, maxLineSize);
  if (pos === lineStart) return finishBad(buf, pos, end, s, R_EMPTY_NAME, maxLineSize);
  pos++;

  // 2. value region, up to the first '|'
  s.valueStart = pos;
  let colons = 0;
  while (pos < end) {
    c = buf[pos]!;
    if (c === PIPE || c === NL) break;
    if (c === COLON) colons++;
    pos++;
  }
  s.valueEnd = pos;
  if (pos >= end || c !== PIPE) return finishBad(buf, pos, end, s, R_MALFORMED, maxLineSize);
  pos++;

  // 3. type
  let type = -1;
  c = pos < end ? buf[pos]! : NL;
  if (c === 99 /* c */) type = T_COUNTER;
  else if (c === 103 /* g */) type = T_GAUGE;
  else if (c === 104 /* h */) type = T_HISTOGRAM;
  else if (c === 100 /* d */) type = T_DISTRIBUTION;
  else if (c === 115 /* s */) type = T_SET;
  else if (c === 109 /* m */ && pos + 1 < end && buf[pos + 1] === 115) {
    type = T_TIMER;
    pos++;
  }
  if (type >= 0) pos++;
  if (type < 0 || (pos < end && buf[pos] !== PIPE && buf[pos] !== NL))
    return finishBad(buf, pos, end, s, R_UNKNOWN_TYPE, maxLineSize);
  s.type = type;
  let h = Math.imul(gHash ^ (0x100 + type), FNV_PRIME);

  // 4. components: |@rate |#tags |c:container |T<timestamp>
  while (pos < end && buf[pos] === PIPE) {
    pos++;
    c = pos < end ? buf[pos]! : NL;
    if (c === NL || c === PIPE) {
      reason = R_MALFORMED;
      break;
    }
    const compStart = pos;
    const first = c;
    if (first === 35 /* # */) {
      if (s.tagsStart < 0) s.tagsStart = pos;
      gHash = h;
      pos = scanRegion(dv, buf, pos, end, PIPES, NLS, PIPE, NL);
      h = gHash;
      s.tagsEnd = pos;
      continue;
    }
    while (pos < end) {
      c = buf[pos]!;
      if (c === PIPE || c === NL) break;
      pos++;
    }
    if (first === 64 /* @ */) {
      const r = parseDecimal(buf, compStart + 1, pos);
      if (!(r > 0 && r <= 1)) {
        reason = R_BAD_RATE;
        break;
      }
      s.rate = r;
    } else if (first === 99 /* c */ && compStart + 1 < pos && buf[compStart + 1] === COLON) {
      if (compStart + 2 >= pos || s.contStart >= 0) {
        reason = R_UNKNOWN_COMPONENT;
        break;
      }
      s.contStart = compStart + 2;
      s.contEnd = pos;
      for (let i = compStart; i < pos; i++) h = Math.imul(h ^ buf[i]!, FNV_PRIME);
    } else if (first === 84 /* T */) {
      if (pos === compStart + 1) {
        reason = R_BAD_TIMESTAMP;
        break;
      }
      for (let i = compStart + 1; i < pos; i++) {
        const d = buf[i]!;
        if (d < 48 || d > 57) {
          reason = R_BAD_TIMESTAMP;
          break;
        }
      }
      if (reason !== R_OK) break;
    } else {
      reason = R_UNKNOWN_COMPONENT;
      break;
    }
  }
  if (reason !== R_OK) return finishBad(buf, pos, end, s, reason, maxLineSize);
  // Now at '\n' or the end of the packet.
  s.lineEnd = pos;
  if (pos - lineStart > maxLineSize) return R_LINE_TOO_LONG;

  // 5. values (the type is known now: sets take the value as an opaque string)
  if (type === T_SET) {
    if (s.valueEnd === s.valueStart) return settle(buf, s, R_BAD_VALUE);
    for (let i = s.valueStart; i < s.valueEnd; i++) {
      // the member is not part of the key, so its UTF-8 is checked here
      if (buf[i]! >= 0x80) {
        if (!isUtf8(bufView(buf, lineStart, pos))) return R_INVALID_UTF8;
        break;
      }
    }
    s.nValues = 1;
  } else {
    if (colons > 0 && (type === T_COUNTER || type === T_GAUGE)) return settle(buf, s, R_MULTI_VALUE);
    if (colons + 1 > s.values.length) return R_LINE_TOO_LONG;
    let vs = s.valueStart;
    const ve = s.valueEnd;
    const shift = type === T_TIMER ? -3 : 0; // timers: milliseconds in, seconds out
    let n = 0;
    for (let i = vs; i <= ve; i++) {
      if (i === ve || buf[i] === COLON) {
        const v = parseDecimal(buf, vs, i, shift);
        if (Number.isNaN(v)) return settle(buf, s, R_BAD_VALUE);
        s.values[n++] = v;
        vs = i + 1;
      }
    }
    s.nValues = n;
    if (type === T_COUNTER && s.values[0]! < 0) return settle(buf, s, R_NEGATIVE_COUNTER);
    // A rate is a divisor: 1e-320 is inside (0, 1] but makes the scaled value (or a histogram's weight) +Inf.
    if (s.rate !== 1 && type !== T_GAUGE) {
      if (!Number.isFinite(1 / s.rate)) return settle(buf, s, R_BAD_RATE);
      for (let k = 0; k < n; k++)
        if (!Number.isFinite(s.values[k]! / s.rate)) return settle(buf, s, R_BAD_RATE);
    }
    if (type === T_GAUGE) {
      const first = buf[s.valueStart];
      s.relative = first === 43 || first === 45;
    }
  }
  s.hash = (h ^ (h >>> 15)) & 0x3fffffff;
  return R_OK;
}

/** Checks the whole line for valid UTF-8 (once per distinct key, and on every error path). */
export function validateLine(buf: Uint8Array, s: LineScan): boolean {
  for (let i = s.lineStart; i < s.lineEnd; i++)
    if (buf[i]! >= 0x80) return isUtf8(bufView(buf, s.lineStart, s.lineEnd));
  return true;
}

/** A fault found after the whole line was scanned: invalid UTF-8 takes precedence. */
function settle(buf: Uint8Array, s: LineScan, reason: number): number {
  return validateLine(buf, s) ? reason : R_INVALID_UTF8;
}

/** Skips to the end of a bad line and settles the reason by precedence (too long > invalid UTF-8 > fault). */
function finishBad(
  buf: Uint8Array,
  pos: number,
  end: number,
  s: LineScan,
  reason: number,
  maxLineSize: number,
): number {
  while (pos < end && buf[pos] !== NL) pos++;
  s.lineEnd = pos;
  if (pos - s.lineStart > maxLineSize) return R_LINE_TOO_LONG;
  return settle(buf, s, reason);
}

function bufView(buf: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset + start, end - start);
}
