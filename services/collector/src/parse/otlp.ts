import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

// OTLP/HTTP metrics: decoding ExportMetricsServiceRequest (binary protobuf or OTLP/JSON) and encoding the
// response. No npm package ships these message definitions for decoding, so they are written here from
// opentelemetry-proto v1.x (opentelemetry/proto/collector/metrics/v1/metrics_service.proto,
// metrics/v1/metrics.proto, common/v1/common.proto, resource/v1/resource.proto; field numbers as in the
// v1.0.0–v1.7.0 releases, unchanged since 1.0) and google/rpc/status.proto for error bodies. Only what the
// collector reads is declared: everything else (exemplars, scope attributes, schema URLs, min/max,
// metadata, entity refs) is an unknown field, which protobuf decoding skips and fromObject ignores, as the
// OTLP specification requires of receivers. The test decodes what @opentelemetry/exporter-metrics-otlp-*
// actually send, so a wrong number here fails there.
const PROTO = `
syntax = "proto3";
package otlp;

message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1; }
message ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; }

message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
message InstrumentationScope { string name = 1; string version = 2; }

message Metric {
  string name = 1;
  string description = 2;
  string unit = 3;
  oneof data {
    Gauge gauge = 5;
    Sum sum = 7;
    Histogram histogram = 9;
    ExponentialHistogram exponential_histogram = 10;
    Summary summary = 11;
  }
}
enum AggregationTemporality {
  AGGREGATION_TEMPORALITY_UNSPECIFIED = 0;
  AGGREGATION_TEMPORALITY_DELTA = 1;
  AGGREGATION_TEMPORALITY_CUMULATIVE = 2;
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum {
  repeated NumberDataPoint data_points = 1;
  AggregationTemporality aggregation_temporality = 2;
  bool is_monotonic = 3;
}
message Histogram {
  repeated HistogramDataPoint data_points = 1;
  AggregationTemporality aggregation_temporality = 2;
}
// Counted (refused as unsupported), never decoded further: only the number of points matters.
message ExponentialHistogram { repeated Opaque data_points = 1; }
message Summary { repeated Opaque data_points = 1; }
message Opaque {}

message NumberDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  oneof value {
    double as_double = 4;
    sfixed64 as_int = 6;
  }
  uint32 flags = 8;
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  optional double sum = 5;
  repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7;
  uint32 flags = 10;
}

message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }

message Status { int32 code = 1; string message = 2; }
`;

const root = protobuf.parse(PROTO, { keepCase: false }).root;
const RequestT = root.lookupType('otlp.ExportMetricsServiceRequest');
const ResponseT = root.lookupType('otlp.ExportMetricsServiceResponse');
const StatusT = root.lookupType('otlp.Status');

/** A 64-bit integer as protobufjs hands it over: a Long, a number, or (JSON) a decimal string. */
export type Int64 = number | string | { toNumber(): number };

export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: Int64;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: Uint8Array | string;
}
export interface KeyValue {
  key?: string;
  value?: AnyValue;
}
export interface NumberDataPoint {
  attributes?: KeyValue[];
  startTimeUnixNano?: Int64;
  timeUnixNano?: Int64;
  asDouble?: number;
  asInt?: Int64;
  flags?: number;
}
export interface HistogramDataPoint {
  attributes?: KeyValue[];
  startTimeUnixNano?: Int64;
  timeUnixNano?: Int64;
  count?: Int64;
  sum?: number;
  bucketCounts?: Int64[];
  explicitBounds?: number[];
  flags?: number;
}
export interface Metric {
  name?: string;
  unit?: string;
  gauge?: { dataPoints?: NumberDataPoint[] };
  sum?: { dataPoints?: NumberDataPoint[]; aggregationTemporality?: number; isMonotonic?: boolean };
  histogram?: { dataPoints?: HistogramDataPoint[]; aggregationTemporality?: number };
  exponentialHistogram?: { dataPoints?: unknown[] };
  summary?: { dataPoints?: unknown[] };
}
export interface ExportRequest {
  resourceMetrics?: {
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: { metrics?: Metric[] }[];
  }[];
}

export const TEMPORALITY_DELTA = 1;
export const TEMPORALITY_CUMULATIVE = 2;
/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the point marks a gap (staleness), it carries no value. */
export const FLAG_NO_RECORDED_VALUE = 1;

export function toNumber(v: Int64 | undefined): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  return v.toNumber();
}

export type Encoding = 'protobuf' | 'json';

/** Why a body could not be decoded (answered 400 or 413). */
export class OtlpDecodeError extends Error {
  constructor(
    message: string,
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/** gzip is the one Content-Encoding OTLP/HTTP defines; the inflated body is bounded like the raw one. */
export function inflate(body: Buffer, encoding: string | undefined, maxBytes: number): Buffer {
  if (encoding === undefined || encoding === '' || encoding === 'identity') return body;
  if (encoding !== 'gzip') throw new OtlpDecodeError(`unsupported Content-Encoding "${encoding}"`);
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

/** Decodes a request body. Throws OtlpDecodeError (the receiver answers 400). */
export function decodeRequest(body: Buffer, encoding: Encoding): ExportRequest {
  try {
    if (encoding === 'protobuf') return RequestT.decode(body) as unknown as ExportRequest;
    const json: unknown = JSON.parse(body.toString('utf8'), camelKeys);
    if (json === null || typeof json !== 'object' || Array.isArray(json))
      throw new Error('the body is not a JSON object');
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
