import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';
import { type ExportRequest, type Metric, OtlpDecodeError, root } from './otlp-schema.ts';

// Binary OTLP decoded point by point. The envelope (request → resource metrics → scope metrics → metric →
// data) is walked here on the wire format; each data point, resource and the like is decoded by protobufjs
// from the same reader. That bounds the work per request by the number of points (counted as they come,
// refused past --otlp-max-points with 413 before the rest is touched) and lets the caller yield to the
// event loop every YIELD_EVERY points. Strings are decoded strictly: bytes that are not valid UTF-8 come
// out with a lone surrogate in front (valid UTF-8 never decodes to one), which the point check refuses as
// `invalid_utf8`, point by point, instead of the silent U+FFFD substitution.

const ResourceT = root.lookupType('otlp.Resource');
const NumberPointT = root.lookupType('otlp.NumberDataPoint');
const HistogramPointT = root.lookupType('otlp.HistogramDataPoint');

/** Points decoded between two yields. */
export const YIELD_EVERY = 256;
/** The marker put in front of a string whose bytes were not UTF-8. */
export const INVALID_UTF8_MARK = '\uD800';

/** protobufjs' Buffer reader, with strings decoded strictly (see above). */
class StrictReader extends protobuf.BufferReader {
  override string(): string {
    const len = this.uint32();
    const start = this.pos;
    const end = start + len;
    if (end > this.len) throw new RangeError(`index out of range: ${end} > ${this.len}`);
    this.pos = end;
    const buf = this.buf as Buffer;
    let ascii = true;
    for (let i = start; i < end; i++)
      if (buf[i]! >= 0x80) {
        ascii = false;
        break;
      }
    if (ascii) return buf.toString('latin1', start, end);
    const text = buf.toString('utf8', start, end);
    return isUtf8(buf.subarray(start, end)) ? text : INVALID_UTF8_MARK + text;
  }
}

const WT_LEN = 2;

interface Budget {
  points: number;
  readonly max: number;
  sinceYield: number;
}

/** The body of a length-delimited field as a reader of its own (checked against the parent's end). */
function sub(r: StrictReader, wt: number, what: string): StrictReader {
  if (wt !== WT_LEN) throw new OtlpDecodeError(`cannot decode protobuf: wire type ${wt} for ${what}`);
  const len = r.uint32();
  const end = r.pos + len;
  if (end > r.len) throw new OtlpDecodeError(`cannot decode protobuf: ${what} runs past its end`);
  const s = new StrictReader((r.buf as Buffer).subarray(r.pos, end));
  r.pos = end;
  return s;
}

/** One more point: refuses the request past the limit; true when it is time to yield. */
function counted(b: Budget): boolean {
  if (++b.points > b.max)
    throw new OtlpDecodeError(`more than ${b.max} data points in one request (--otlp-max-points)`, true);
  if (++b.sinceYield < YIELD_EVERY) return false;
  b.sinceYield = 0;
  return true;
}

export function* decodeProtobufSteps(
  body: Uint8Array,
  maxPoints: number,
): Generator<void, ExportRequest, undefined> {
  const b: Budget = { points: 0, max: maxPoints, sinceYield: 0 };
  const req: ExportRequest = { resourceMetrics: [] };
  const r = new StrictReader(
    Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.length),
  );
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 !== 1) {
      r.skipType(tag & 7);
      continue;
    }
    const rr = sub(r, tag & 7, 'resource_metrics');
    const rm: NonNullable<ExportRequest['resourceMetrics']>[number] = { scopeMetrics: [] };
    req.resourceMetrics!.push(rm);
    while (rr.pos < rr.len) {
      const t = rr.uint32();
      const f = t >>> 3;
      if (f === 1) rm.resource = ResourceT.decode(sub(rr, t & 7, 'resource')) as never;
      else if (f === 2) {
        const sr = sub(rr, t & 7, 'scope_metrics');
        const metrics: Metric[] = [];
        rm.scopeMetrics!.push({ metrics });
        while (sr.pos < sr.len) {
          const u = sr.uint32();
          if (u >>> 3 === 2) metrics.push(yield* decodeMetric(sub(sr, u & 7, 'metric'), b));
          else sr.skipType(u & 7);
        }
      } else rr.skipType(t & 7);
    }
  }
  return req;
}

const DATA_FIELDS: Record<number, keyof Metric> = {
  5: 'gauge',
  7: 'sum',
  9: 'histogram',
  10: 'exponentialHistogram',
  11: 'summary',
};

function* decodeMetric(mr: StrictReader, b: Budget): Generator<void, Metric, undefined> {
  const m: Metric = {};
  while (mr.pos < mr.len) {
    const t = mr.uint32();
    const f = t >>> 3;
    const kind = DATA_FIELDS[f];
    if (f === 1) {
      if ((t & 7) !== WT_LEN)
        throw new OtlpDecodeError(`cannot decode protobuf: wire type ${t & 7} for name`);
      m.name = mr.string();
    } else if (kind !== undefined) {
      // oneof data: the last one on the wire wins
      // (delete only when needed: it turns the object into a slow dictionary)
      for (const k of Object.values(DATA_FIELDS)) if (m[k] !== undefined) delete m[k];
      const dr = sub(mr, t & 7, kind);
      const data: { dataPoints: unknown[]; aggregationTemporality?: number; isMonotonic?: boolean } = {
        dataPoints: [],
      };
      const T =
        kind === 'histogram'
          ? HistogramPointT
          : kind === 'exponentialHistogram' || kind === 'summary'
            ? null
            : NumberPointT;
      while (dr.pos < dr.len) {
        const u = dr.uint32();
        const g = u >>> 3;
        if (g === 1) {
          if ((u & 7) !== WT_LEN)
            throw new OtlpDecodeError(`cannot decode protobuf: wire type ${u & 7} for data_points`);
          const len = dr.uint32();
          if (T === null) {
            dr.skip(len); // counted (refused as unsupported), never decoded
            data.dataPoints.push({});
          } else data.dataPoints.push(T.decode(dr, len));
          if (counted(b)) yield;
        } else if (g === 2 && kind !== 'gauge') data.aggregationTemporality = dr.int32();
        else if (g === 3 && kind === 'sum') data.isMonotonic = dr.bool();
        else dr.skipType(u & 7);
      }
      (m as Record<string, unknown>)[kind] = data;
    } else mr.skipType(t & 7);
  }
  return m;
}
