import protobuf from 'protobufjs';
import { OtlpDecodeError } from './otlp-schema.ts';

// OTLP/JSON checked against the proto3 JSON mapping before protobufjs converts it (its fromObject coerces:
// "abc" → NaN, "9999…" → a wrapped Long, 1.9 → 1, "false" → true, "1e18" → 1e18). A value of the wrong
// type is a 400 that names the field by its path. Unknown fields are ignored, as OTLP asks of receivers.
// 64-bit integers: a decimal string or a JSON number that is a safe integer (OTLP/JSON writes strings);
// exponents and fractions are refused. Data points are counted against --otlp-max-points here too.

const POINT_TYPES = new Set(['NumberDataPoint', 'HistogramDataPoint', 'Opaque']);
const INT = /^-?\d+$/;
const UINT = /^\d+$/;
const FLOAT = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const I64 = 2n ** 63n;
const U64 = 2n ** 64n;

interface Walk {
  points: number;
  readonly max: number;
}

function fail(path: string, want: string, v: unknown): never {
  const shown = JSON.stringify(v)?.slice(0, 60) ?? String(v);
  throw new OtlpDecodeError(`OTLP/JSON: ${path} must be ${want}, got ${shown}`);
}

function integerFault(v: unknown, lo: bigint, hi: bigint, want: string): string | null {
  let n: bigint;
  if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && (lo < 0n ? INT : UINT).test(v)) n = BigInt(v);
  else return want;
  return n < lo || n >= hi ? want : null;
}

function scalar(field: protobuf.Field, path: string, v: unknown, w: Walk): void {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, 'an object', v);
    message(v as Record<string, unknown>, rt, path, w);
    return;
  }
  if (rt instanceof protobuf.Enum) {
    if (typeof v === 'string' && Object.hasOwn(rt.values, v)) return;
    if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 31) return;
    fail(path, `one of ${Object.keys(rt.values).join(', ')}`, v);
  }
  const want = scalarFault(field.type, v);
  if (want !== null) fail(path, want, v);
}

/** null when v is a valid proto3 JSON value of the scalar type, else what was expected. */
function scalarFault(type: string, v: unknown): string | null {
  switch (type) {
    case 'double':
    case 'float': {
      const ok =
        typeof v === 'number' ||
        (typeof v === 'string' && (v === 'NaN' || v === 'Infinity' || v === '-Infinity' || FLOAT.test(v)));
      return ok ? null : 'a number';
    }
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return integerFault(v, -(2n ** 31n), 2n ** 31n, 'a 32-bit integer');
    case 'uint32':
    case 'fixed32':
      return integerFault(v, 0n, 2n ** 32n, 'an unsigned 32-bit integer');
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return integerFault(v, -I64, I64, 'a 64-bit integer (a decimal string)');
    case 'uint64':
    case 'fixed64':
      return integerFault(v, 0n, U64, 'an unsigned 64-bit integer (a decimal string)');
    case 'bool':
      return typeof v === 'boolean' ? null : 'true or false';
    case 'string':
      return typeof v === 'string' ? null : 'a string';
    case 'bytes':
      return typeof v === 'string' && BASE64.test(v) ? null : 'base64 text';
    default:
      return type;
  }
}

function message(o: Record<string, unknown>, type: protobuf.Type, path: string, w: Walk): void {
  if (POINT_TYPES.has(type.name) && ++w.points > w.max)
    throw new OtlpDecodeError(`more than ${w.max} data points in one request (--otlp-max-points)`, true);
  for (const key of Object.keys(o)) {
    const field = type.fields[key];
    const v = o[key];
    if (field === undefined || v === null) continue;
    field.resolve();
    const p = `${path}.${key}`;
    if (field.repeated) {
      if (!Array.isArray(v)) fail(p, 'an array', v);
      for (let i = 0; i < v.length; i++) scalar(field, `${p}[${i}]`, v[i], w);
    } else scalar(field, p, v, w);
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.oneof.filter((k) => o[k] !== undefined && o[k] !== null);
    if (set.length > 1) fail(`${path}.${set.join('/')}`, `only one of ${oneof.oneof.join(', ')}`, set);
  }
}

/** Throws OtlpDecodeError (400, or 413 past maxPoints) on the first value of the wrong type. */
export function checkJson(body: Record<string, unknown>, type: protobuf.Type, maxPoints: number): void {
  message(body, type, '$', { points: 0, max: maxPoints });
}
