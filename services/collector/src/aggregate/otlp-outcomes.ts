import { REFUSAL_REASONS } from '../parse/codes.ts';

// What applying OTLP points can end in: the refusal reasons (one per point refused, in the order the
// collector's self-metrics list them), the running counts, one request's result, and the per-request
// bounds. Apart from otlp.ts so the apply loop's file holds only the work per point.

export const OTLP_REFUSAL_REASONS = [
  'unsupported_type', // exponential histogram, summary, or a metric without data
  'bad_name', // empty metric name
  'bad_temporality', // a sum or histogram with AGGREGATION_TEMPORALITY_UNSPECIFIED
  'no_value', // a number point without as_double/as_int, or flagged "no recorded value"
  'bad_value', // NaN/Inf or a negative value on a monotonic sum; histogram buckets that do not add up
  'bad_time', // time_unix_nano missing (0): the spec says such points SHOULD be rejected
  'out_of_order', // a cumulative point older than the last one applied to its series
  'bounds_changed', // a histogram point whose bounds differ from its series'
  'type_conflict', // the name exists with another type, or is written by StatsD
  'name_conflict', // the exposed name collides (histogram suffixes, self-metrics)
  ...REFUSAL_REASONS, // the series budgets, as for StatsD lines
  'future_timestamp', // time_unix_nano more than --otlp-max-future-skew ahead of the collector's clock
  'invalid_utf8', // a metric name, attribute key or string value that is not valid UTF-8
  'name_too_long', // a metric name longer than --otlp-max-name-length
  'too_many_bounds', // a histogram point with more than --otlp-max-bounds explicit bounds
  'labels_too_long', // the series' label text (all attributes) longer than --max-line-size
] as const;
export type OtlpRefusalReason = (typeof OTLP_REFUSAL_REASONS)[number];
/** Point outcomes (the HTTP edge adds request counts and latency). */
export class OtlpStats {
  pointsAccepted = 0;
  readonly refusedBy = new Float64Array(OTLP_REFUSAL_REASONS.length);
  /** Attributes dropped, by TE_* reason (the same reasons as StatsD tags). */
  readonly tagErrors: Float64Array;
  constructor(tagReasons: number) {
    this.tagErrors = new Float64Array(tagReasons);
  }
}

export interface ApplyResult {
  accepted: number;
  refused: number;
  /** The first refusal, for partial_success.error_message ('' when none). */
  message: string;
}

export interface OtlpOptions {
  /** Resource attribute keys (as sent, e.g. "service.instance.id") that become labels. */
  resourceLabels: readonly string[];
  /** Longest metric name (characters). Default 255 (the OTel API's instrument name limit). */
  maxNameLength?: number;
  /** Most explicit bounds per histogram point. Default 256. */
  maxBounds?: number;
  /** Longest label text of one series (characters). Default 8 KiB (--max-line-size, a StatsD line's bound). */
  maxLabelsLength?: number;
  /** How far (ms) a point's time may lie ahead of the clock. Default 10 min. */
  maxFutureSkewMs?: number;
}
