// The collector's options table: every option declared once (flag, env var, default, help, limits), and the
// configuration type it describes. config.ts turns the table into flags and validates values against it.
import { AGENT_OPTIONS, type AgentConfig } from './agent/options.ts';

export interface CollectorConfig extends AgentConfig {
  /** HOST:PORT for StatsD over UDP. */
  statsdUdp: string;
  /** HOST:PORT for newline-delimited StatsD over TCP, or 'off'. */
  statsdTcp: string;
  /** HOST:PORT for GET /metrics and /healthz. */
  http: string;
  /** SO_RCVBUF to request, bytes (0 = keep the kernel default). */
  rcvbuf: number;
  maxSeries: number;
  /** Tag (label name after sanitising) that identifies a push source. */
  sourceTag: string;
  /** Milliseconds a source stays in collector_source_last_seen_timestamp_seconds after its last line. */
  sourceTtl: number;
  /** Milliseconds within which a source counts in collector_sources_active. */
  sourceActiveWindow: number;
  /** Append _total to counter names. */
  strictNames: boolean;
  maxLineSize: number;
  maxPacketSize: number;
  /** Histogram bucket upper bounds (seconds for timers), ascending. */
  buckets: readonly number[];
  /** Milliseconds between flushes (set windows, source expiry, event-loop lag window). */
  flushInterval: number;
  maxSetSize: number;
  maxTcpConnections: number;
  /** Milliseconds without data after which a TCP connection is closed (0 = never). */
  tcpIdleTimeout: number;
  /** Milliseconds without progress after which an HTTP connection is closed. */
  httpTimeout: number;
  /** Concurrent /metrics renders. */
  httpMaxRenders: number;
  /** Open HTTP connections. */
  httpMaxConnections: number;
  /** Longest label value kept, UTF-8 bytes; a line with a longer one is refused. */
  maxLabelValueLength: number;
  /** Budget for the label text and names the series hold, bytes. */
  maxSeriesBytes: number;
  /** HOST:PORT for the OTLP/HTTP receiver (POST /v1/metrics), or 'off'. */
  otlpHttp: string;
  /** Largest OTLP request body (after gzip inflation), bytes; larger: 413. */
  otlpMaxRequestSize: number;
  /** Request bytes being received at once; beyond it new requests get 429 + Retry-After. */
  otlpMaxInflightBytes: number;
  /** Resource attribute keys that become labels (as sent, e.g. service.instance.id). */
  otlpResourceLabels: readonly string[];
  /** Data points one OTLP request may carry; more: 413 (the work per request is bounded, not only its bytes). */
  otlpMaxPoints: number;
  /** Explicit bounds one OTLP histogram point may carry; more: the point is refused (too_many_bounds). */
  otlpMaxBounds: number;
  /** Longest OTLP metric name, characters; longer: the point is refused (name_too_long). */
  otlpMaxNameLength: number;
  /** Milliseconds a point's time may lie in the future; beyond: refused (future_timestamp). */
  otlpMaxFutureSkew: number;
  /** Milliseconds an OTLP request body may take to arrive; then 408 and its in-flight bytes are freed. */
  otlpBodyTimeout: number;
}

/** What callers may pass: every key optional; sizes, durations, buckets and booleans also as strings. */
export type CollectorConfigInput = { [K in keyof CollectorConfig]?: CollectorConfig[K] | string };

export type Kind =
  | 'address'
  | 'address-or-off'
  | 'bytes'
  | 'int'
  | 'duration'
  | 'bool'
  | 'tag'
  | 'buckets'
  | 'list'
  | 'choice'
  | 'url-or-off';

export interface OptionDef {
  flag: string;
  env: string;
  kind: Kind;
  default: string | number | boolean;
  help: string;
  min?: number;
  max?: number;
  /** kind 'choice': the values allowed. */
  choices?: readonly string[];
}

/** Prometheus client defaults (statsd_exporter's too), in seconds. */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export const OPTIONS: Record<keyof CollectorConfig, OptionDef> = {
  statsdUdp: {
    flag: 'statsd-udp',
    env: 'COLLECTOR_STATSD_UDP',
    kind: 'address',
    default: '127.0.0.1:8125',
    help: 'StatsD/DogStatsD over UDP, HOST:PORT (port 0 = any free port)',
  },
  statsdTcp: {
    flag: 'statsd-tcp',
    env: 'COLLECTOR_STATSD_TCP',
    kind: 'address-or-off',
    default: '127.0.0.1:8125',
    help: 'StatsD over TCP (newline-delimited), HOST:PORT or off',
  },
  http: {
    flag: 'http',
    env: 'COLLECTOR_HTTP',
    kind: 'address',
    default: '127.0.0.1:9102',
    help: 'GET /metrics and /healthz, HOST:PORT',
  },
  rcvbuf: {
    flag: 'rcvbuf',
    env: 'COLLECTOR_RCVBUF',
    kind: 'bytes',
    default: '8MiB',
    min: 0,
    max: 1 << 30,
    help: 'UDP receive buffer to request (SO_RCVBUF; capped by net.core.rmem_max; 0 = kernel default)',
  },
  maxSeries: {
    flag: 'max-series',
    env: 'COLLECTOR_MAX_SERIES',
    kind: 'int',
    default: 100000,
    min: 1,
    max: 100_000_000,
    help: 'cardinality limit: lines that would create more series are refused and counted',
  },
  sourceTag: {
    flag: 'source-tag',
    env: 'COLLECTOR_SOURCE_TAG',
    kind: 'tag',
    default: 'pod',
    help: 'tag that names a push source (liveness: collector_source_last_seen_timestamp_seconds)',
  },
  sourceTtl: {
    flag: 'source-ttl',
    env: 'COLLECTOR_SOURCE_TTL',
    kind: 'duration',
    default: '1h',
    min: 1000,
    help: 'how long a silent source stays in collector_source_last_seen_timestamp_seconds',
  },
  sourceActiveWindow: {
    flag: 'source-active-window',
    env: 'COLLECTOR_SOURCE_ACTIVE_WINDOW',
    kind: 'duration',
    default: '30s',
    min: 1,
    help: 'a source seen within this window counts in collector_sources_active',
  },
  strictNames: {
    flag: 'strict-names',
    env: 'COLLECTOR_STRICT_NAMES',
    kind: 'bool',
    default: false,
    help: 'append _total to counter names (default keeps statsd_exporter names)',
  },
  maxLineSize: {
    flag: 'max-line-size',
    env: 'COLLECTOR_MAX_LINE_SIZE',
    kind: 'bytes',
    default: '8KiB',
    min: 16,
    max: 1 << 20,
    help: 'longest accepted line, bytes',
  },
  maxPacketSize: {
    flag: 'max-packet-size',
    env: 'COLLECTOR_MAX_PACKET_SIZE',
    kind: 'bytes',
    default: '64KiB',
    min: 16,
    max: 1 << 20,
    help: 'largest accepted UDP datagram, bytes (larger ones are dropped whole and counted)',
  },
  buckets: {
    flag: 'buckets',
    env: 'COLLECTOR_BUCKETS',
    kind: 'buckets',
    default: DEFAULT_BUCKETS.join(','),
    help: 'histogram bucket upper bounds, comma-separated, ascending (seconds for timers)',
  },
  flushInterval: {
    flag: 'flush-interval',
    env: 'COLLECTOR_FLUSH_INTERVAL',
    kind: 'duration',
    default: '10s',
    min: 100,
    help: 'set window, source expiry and event-loop lag window',
  },
  maxSetSize: {
    flag: 'max-set-size',
    env: 'COLLECTOR_MAX_SET_SIZE',
    kind: 'int',
    default: 10000,
    min: 1,
    max: 10_000_000,
    help: 'distinct values a set keeps per flush interval',
  },
  maxTcpConnections: {
    flag: 'max-tcp-connections',
    env: 'COLLECTOR_MAX_TCP_CONNECTIONS',
    kind: 'int',
    default: 1024,
    min: 1,
    max: 1_000_000,
    help: 'concurrent StatsD TCP connections (more are closed at once, counted in collector_tcp_connections_refused_total)',
  },
  tcpIdleTimeout: {
    flag: 'tcp-idle-timeout',
    env: 'COLLECTOR_TCP_IDLE_TIMEOUT',
    kind: 'duration',
    default: '60s',
    min: 0,
    help: 'close a StatsD TCP connection that sent nothing for this long (0 = never)',
  },
  httpTimeout: {
    flag: 'http-timeout',
    env: 'COLLECTOR_HTTP_TIMEOUT',
    kind: 'duration',
    default: '10s',
    min: 100,
    help: 'close an HTTP connection that made no progress (a client not reading /metrics) for this long',
  },
  httpMaxRenders: {
    flag: 'http-max-renders',
    env: 'COLLECTOR_HTTP_MAX_RENDERS',
    kind: 'int',
    default: 8,
    min: 1,
    max: 1000,
    help: 'concurrent GET /metrics renders; more answer 503 (collector_http_refused_total{reason="busy"})',
  },
  httpMaxConnections: {
    flag: 'http-max-connections',
    env: 'COLLECTOR_HTTP_MAX_CONNECTIONS',
    kind: 'int',
    default: 256,
    min: 1,
    max: 100_000,
    help: 'open HTTP connections; more are closed on arrival (collector_http_refused_total{reason="connections"})',
  },
  maxLabelValueLength: {
    flag: 'max-label-value-length',
    env: 'COLLECTOR_MAX_LABEL_VALUE_LENGTH',
    kind: 'bytes',
    default: '1KiB',
    min: 1,
    max: 1 << 20,
    help: 'longest label (tag) value, bytes: a line with a longer one is refused and counted',
  },
  maxSeriesBytes: {
    flag: 'max-series-bytes',
    env: 'COLLECTOR_MAX_SERIES_BYTES',
    kind: 'bytes',
    default: '64MiB',
    min: 64 * 1024,
    max: 2 ** 40,
    help: 'memory budget of the series (label text, names, ~200 B each): new series beyond it are refused and counted',
  },
  otlpHttp: {
    flag: 'otlp-http',
    env: 'COLLECTOR_OTLP_HTTP',
    kind: 'address-or-off',
    default: 'off',
    help: 'OTLP/HTTP metrics receiver (POST /v1/metrics, protobuf or JSON), HOST:PORT or off (the OTLP port is 4318)',
  },
  otlpMaxRequestSize: {
    flag: 'otlp-max-request-size',
    env: 'COLLECTOR_OTLP_MAX_REQUEST_SIZE',
    kind: 'bytes',
    default: '4MiB',
    min: 1024,
    max: 1 << 30,
    help: 'largest OTLP request body (after gzip), bytes; larger requests get 413',
  },
  otlpMaxInflightBytes: {
    flag: 'otlp-max-inflight-bytes',
    env: 'COLLECTOR_OTLP_MAX_INFLIGHT_BYTES',
    kind: 'bytes',
    default: '32MiB',
    min: 1024,
    max: 1 << 30,
    help: 'OTLP request bytes being received at once; beyond it requests get 429 + Retry-After (the exporter retries)',
  },
  otlpResourceLabels: {
    flag: 'otlp-resource-labels',
    env: 'COLLECTOR_OTLP_RESOURCE_LABELS',
    kind: 'list',
    default: 'service.name,service.instance.id,pod',
    help: 'OTLP resource attributes that become labels (comma-separated keys as sent; dots become _)',
  },
  otlpMaxPoints: {
    flag: 'otlp-max-points',
    env: 'COLLECTOR_OTLP_MAX_POINTS',
    kind: 'int',
    default: 100_000,
    min: 1,
    max: 10_000_000,
    help: 'data points one OTLP request may carry; more: 413',
  },
  otlpMaxBounds: {
    flag: 'otlp-max-bounds',
    env: 'COLLECTOR_OTLP_MAX_BOUNDS',
    kind: 'int',
    default: 256,
    min: 1,
    max: 100_000,
    help: 'explicit bounds per OTLP histogram point; more: the point is refused (too_many_bounds)',
  },
  otlpMaxNameLength: {
    flag: 'otlp-max-name-length',
    env: 'COLLECTOR_OTLP_MAX_NAME_LENGTH',
    kind: 'int',
    default: 255,
    min: 1,
    max: 1 << 20,
    help: 'longest OTLP metric name, characters (the OTel API limit is 255); longer: refused (name_too_long)',
  },
  otlpMaxFutureSkew: {
    flag: 'otlp-max-future-skew',
    env: 'COLLECTOR_OTLP_MAX_FUTURE_SKEW',
    kind: 'duration',
    default: '10m',
    min: 0,
    help: 'how far in the future a point time may be; beyond: refused (future_timestamp), the series clock kept',
  },
  otlpBodyTimeout: {
    flag: 'otlp-body-timeout',
    env: 'COLLECTOR_OTLP_BODY_TIMEOUT',
    kind: 'duration',
    default: '5s',
    min: 10,
    help: 'time an OTLP request body may take to arrive; then 408, its in-flight bytes freed (counted)',
  },
  ...AGENT_OPTIONS,
};
