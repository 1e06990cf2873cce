import { STATSD_TRANSPORTS, type StatsdTransport } from '@pushpull/common';

// Numeric codes shared by the hot path. Plain consts (not enums) so esbuild inlines them across modules.

/** Metric types in the order the self-metrics list them. */
export const T_COUNTER = 0;
export const T_GAUGE = 1;
export const T_TIMER = 2;
export const T_HISTOGRAM = 3;
export const T_DISTRIBUTION = 4;
export const T_SET = 5;
export const TYPE_NAMES = ['c', 'g', 'ms', 'h', 'd', 's'] as const;
export type StatsdType = (typeof TYPE_NAMES)[number];

/** Why a line was dropped. 0 means "accepted". The index of each name is its code. */
export const DROP_REASONS = [
  'ok',
  'malformed_line', // no ':' after the name, no '|' after the value, or an empty '|' component
  'empty_name', // nothing before ':' (or only tags)
  'bad_value', // not a finite decimal number (or an empty set member)
  'unknown_type', // type is not c, g, ms, h, d, s
  'bad_sample_rate', // @r with r not a number in (0, 1]
  'bad_timestamp', // DogStatsD |T<unix seconds> that is not an integer
  'unknown_component', // a |component that is not @rate, #tags, c:container or T<ts>
  'multi_value_not_allowed', // name:1:2|c or |g (multi-value is for ms, h, d)
  'negative_counter', // counters only go up
  'invalid_utf8', // the line is not valid UTF-8
  'mixed_tag_styles', // two of DogStatsD / InfluxDB / Librato / SignalFx tags in one line
  'line_too_long', // longer than --max-line-size
  'type_conflict', // the name already exists with another type
  'name_conflict', // the exposed name collides with another family (histogram suffixes, self-metrics)
  'set_full', // a set already holds --max-set-size distinct values in this window
  'dogstatsd_event', // a DogStatsD event, _e{title_len,text_len}:title|text|…: not a metric, not aggregated
  'dogstatsd_service_check', // a DogStatsD service check, _sc|name|status|…: not a metric, not aggregated
  'truncated_line', // TCP: the connection was reset (not closed) with a last line that had no newline
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export const R_OK = 0;
export const R_MALFORMED = 1;
export const R_EMPTY_NAME = 2;
export const R_BAD_VALUE = 3;
export const R_UNKNOWN_TYPE = 4;
export const R_BAD_RATE = 5;
export const R_BAD_TIMESTAMP = 6;
export const R_UNKNOWN_COMPONENT = 7;
export const R_MULTI_VALUE = 8;
export const R_NEGATIVE_COUNTER = 9;
export const R_INVALID_UTF8 = 10;
export const R_MIXED_TAGS = 11;
export const R_LINE_TOO_LONG = 12;
export const R_TYPE_CONFLICT = 13;
export const R_NAME_CONFLICT = 14;
export const R_SET_FULL = 15;
export const R_DSD_EVENT = 16;
export const R_DSD_SERVICE_CHECK = 17;
export const R_TRUNCATED = 18;
export const REASON_COUNT = DROP_REASONS.length;

/**
 * Why a tag was ignored (the line is kept without it): collector_tag_errors_total{reason}.
 * Prometheus rejects a whole scrape on one bad label name, so any tag that could not be exposed as sent
 * is dropped here, never passed through.
 */
export const TAG_ERROR_REASONS = [
  'malformed', // no value, empty key, or a lone SignalFx bracket
  'reserved', // label name starts with "__" after sanitising (Prometheus reserves them: __name__, ...)
  'collision', // a label the collector or Prometheus gives a meaning: "le", "quantile", "container_id" next to |c:<id>
  'duplicate', // the same label name twice in one line (after sanitising); the last value is kept
] as const;
export type TagErrorReason = (typeof TAG_ERROR_REASONS)[number];
export const TE_MALFORMED = 0;
export const TE_RESERVED = 1;
export const TE_COLLISION = 2;
export const TE_DUPLICATE = 3;
export const TAG_REASON_COUNT = TAG_ERROR_REASONS.length;

/**
 * Why a well-formed line was refused by a memory budget: collector_series_rejected_total{reason}.
 * The index is the code; Store.resolve returns -(code + 1).
 */
export const REFUSAL_REASONS = [
  'max_series', // a new series beyond --max-series
  'label_value_too_long', // a label value longer than --max-label-value-length bytes
  'max_series_bytes', // a new series would take the store beyond --max-series-bytes
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];
export const RF_MAX_SERIES = 0;
export const RF_LABEL_VALUE_TOO_LONG = 1;
export const RF_MAX_SERIES_BYTES = 2;
export const REFUSAL_COUNT = REFUSAL_REASONS.length;

/**
 * The StatsD transports (common's list, the one list of transports), as indexes into the per-transport
 * counters: a new line transport there gets its own slot here and in /metrics/self without another edit.
 */
export const TRANSPORT_NAMES = STATSD_TRANSPORTS;
export type Transport = StatsdTransport;
export const TRANSPORT_COUNT = TRANSPORT_NAMES.length;
// Literals (not indexOf) so the hot path's counter index inlines; the check below keeps them true to the list.
export const TR_UDP = 0;
export const TR_TCP = 1;
if (TRANSPORT_NAMES[TR_UDP] !== 'udp' || TRANSPORT_NAMES[TR_TCP] !== 'tcp')
  throw new Error(`codes.ts: TR_UDP/TR_TCP do not match STATSD_TRANSPORTS (${TRANSPORT_NAMES.join(', ')})`);
