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

export const root = protobuf.parse(PROTO, { keepCase: false }).root;
export const RequestT = root.lookupType('otlp.ExportMetricsServiceRequest');
export const ResponseT = root.lookupType('otlp.ExportMetricsServiceResponse');
export const StatusT = root.lookupType('otlp.Status');

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

/** A 64-bit integer (times, counts) exactly, as a bigint; absent or unreadable: 0n. */
export function toBigInt(v: Int64 | undefined): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  if (typeof v === 'string') return /^-?\d+$/.test(v) ? BigInt(v) : 0n;
  const l = v as unknown as { high: number; low: number; unsigned: boolean };
  const u = (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0); // a Long, exactly
  return l.unsigned ? u : BigInt.asIntN(64, u);
}

/** Why a body could not be decoded (answered 400, or 413 when too large, or 415 for the encoding). */
export class OtlpDecodeError extends Error {
  constructor(
    message: string,
    readonly tooLarge = false,
    readonly status: 400 | 413 | 415 = tooLarge ? 413 : 400,
  ) {
    super(message);
  }
}
