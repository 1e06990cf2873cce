import { isUtf8 } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import { checkJson } from './otlp-json.ts';
import {
  type ExportRequest,
  type Int64,
  OtlpDecodeError,
  RequestT,
  ResponseT,
  StatusT,
} from './otlp-schema.ts';
import { decodeProtobufSteps } from './otlp-wire.ts';

// OTLP/HTTP metrics: decoding ExportMetricsServiceRequest (binary protobuf or OTLP/JSON) and encoding the
// response. The message definitions are in otlp-schema.ts; binary bodies are decoded point by point
// (otlp-wire.ts, in slices that yield), OTLP/JSON is checked against the proto3 JSON mapping first
// (otlp-json.ts: a wrong type is a 400 naming the field), then converted.

export * from './otlp-schema.ts';

export type Encoding = 'protobuf' | 'json';

/** gzip is the one Content-Encoding OTLP/HTTP defines; the inflated body is bounded like the raw one. */
export function inflate(body: Buffer, encoding: string | undefined, maxBytes: number): Buffer {
  if (encoding === undefined || encoding === '' || encoding === 'identity') return body;
  // RFC 9110 §15.5.16: a content coding the server does not understand is 415, not 400.
  if (encoding !== 'gzip')
    throw new OtlpDecodeError(`unsupported Content-Encoding "${encoding.slice(0, 100)}"`, false, 415);
  try {
    return gunzipSync(body, { maxOutputLength: maxBytes });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE')
      throw new OtlpDecodeError(`gzip body inflates beyond ${maxBytes} bytes`, true);
    throw new OtlpDecodeError(`bad gzip body: ${(e as Error).message}`);
  }
}

/** snake_case → lowerCamelCase, for OTLP/JSON senders that use the proto field names. */
function camelKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const o = value as Record<string, unknown>;
  let snake = false;
  for (const k in o) if (k.includes('_')) snake = true;
  if (!snake) return o;
  const out: Record<string, unknown> = {};
  for (const k in o) out[k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())] = o[k];
  return out;
}

/** Decodes a request body at once. Throws OtlpDecodeError (the receiver answers 400/413). */
export function decodeRequest(body: Buffer, encoding: Encoding, maxPoints = Infinity): ExportRequest {
  const it = decodeSteps(body, encoding, maxPoints);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

/**
 * Decodes a request body in steps: protobuf point by point, yielding every few hundred points (the caller
 * lets the event loop run in between); OTLP/JSON in one step (JSON.parse has no slices). More than
 * maxPoints data points: 413, found while decoding, so a few KB of gzip that would inflate to millions of
 * empty points costs at most maxPoints of work.
 */
export function* decodeSteps(
  body: Buffer,
  encoding: Encoding,
  maxPoints: number,
): Generator<void, ExportRequest, undefined> {
  try {
    if (encoding === 'protobuf') return yield* decodeProtobufSteps(body, maxPoints);
    // JSON text is UTF-8 (RFC 8259 §8.1): bytes that are not are an undecodable body, not a point's fault.
    if (!isUtf8(body)) throw new Error('the body is not valid UTF-8');
    const json: unknown = JSON.parse(body.toString('utf8'), camelKeys);
    if (json === null || typeof json !== 'object' || Array.isArray(json))
      throw new Error('the body is not a JSON object');
    checkJson(json as Record<string, unknown>, RequestT, maxPoints);
    return RequestT.fromObject(json as Record<string, unknown>) as unknown as ExportRequest;
  } catch (e) {
    if (e instanceof OtlpDecodeError) throw e;
    throw new OtlpDecodeError(
      `cannot decode ${encoding} ExportMetricsServiceRequest: ${(e as Error).message}`,
    );
  }
}

/** ExportMetricsServiceResponse; partial_success only when something was rejected (as the spec asks). */
export function encodeResponse(encoding: Encoding, rejected: number, errorMessage: string): Buffer | string {
  const partial = rejected > 0 || errorMessage !== '';
  if (encoding === 'json')
    return JSON.stringify(
      partial ? { partialSuccess: { rejectedDataPoints: String(rejected), errorMessage } } : {},
    );
  const msg = partial ? { partialSuccess: { rejectedDataPoints: rejected, errorMessage } } : {};
  return Buffer.from(ResponseT.encode(ResponseT.fromObject(msg)).finish());
}

/** google.rpc.Status, the body OTLP/HTTP sends with a failure status. */
export function encodeStatus(encoding: Encoding, grpcCode: number, message: string): Buffer | string {
  if (encoding === 'json') return JSON.stringify({ code: grpcCode, message });
  return Buffer.from(StatusT.encode(StatusT.fromObject({ code: grpcCode, message })).finish());
}

/** For tests and tools: encodes a request given as a plain (camelCase) object. */
export function encodeRequest(obj: Record<string, unknown>): Buffer {
  return Buffer.from(RequestT.encode(RequestT.fromObject(obj)).finish());
}

/** For tests: decodes a response body. */
export function decodeResponse(body: Buffer): {
  partialSuccess?: { rejectedDataPoints?: Int64; errorMessage?: string };
} {
  return ResponseT.toObject(ResponseT.decode(body), { longs: Number }) as never;
}
