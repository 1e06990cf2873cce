import {
  type FlagSpecs,
  type FlagValues,
  formatHostPort,
  LabError,
  parseBytes,
  parseDurationMs,
  parseHostPort,
} from '@pushpull/common';
import { escapeMetricName } from './parse/names.ts';

// The collector's configuration: one table declares every option once (flag, env var, default, help,
// how to validate). The CLI and createCollector() both go through resolveConfig(), which rejects unknown
// keys and bad values (LabError naming the flag and the value) and returns a frozen object.

export interface CollectorConfig {
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

type Kind = 'address' | 'address-or-off' | 'bytes' | 'int' | 'duration' | 'bool' | 'tag' | 'buckets' | 'list';

interface OptionDef {
  flag: string;
  env: string;
  kind: Kind;
  default: string | number | boolean;
  help: string;
  min?: number;
  max?: number;
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
};

const KEYS = Object.keys(OPTIONS) as (keyof CollectorConfig)[];

/** Flag specs for @pushpull/common parseArgs (plus --help). */
export function flagSpecs(): FlagSpecs {
  const specs: FlagSpecs = {};
  for (const key of KEYS) {
    const o = OPTIONS[key];
    specs[o.flag] = {
      kind: o.kind === 'bool' ? 'bool' : o.kind === 'int' ? 'int' : 'string',
      env: o.env,
      default: o.default,
      help: o.help,
      ...(o.kind === 'int' ? { min: o.min, max: o.max } : {}),
    };
  }
  specs.help = { kind: 'bool', help: 'print this help and exit' };
  return specs;
}

/** Maps parsed flag values (by flag name) to config input (by key). */
export function inputFromFlags(flags: FlagValues): CollectorConfigInput {
  const input: Record<string, unknown> = {};
  for (const key of KEYS) {
    const v = flags[OPTIONS[key].flag];
    if (v !== undefined) input[key] = v;
  }
  return input as CollectorConfigInput;
}

function bad(o: OptionDef, value: unknown, why: string): LabError {
  return new LabError('LAB_ERR_FLAG_VALUE', `--${o.flag}: "${String(value)}" ${why}`, {
    flag: o.flag,
    value,
  });
}

function checkRange(o: OptionDef, raw: unknown, n: number): number {
  if (o.min !== undefined && n < o.min) throw bad(o, raw, `is below the minimum ${o.min}`);
  if (o.max !== undefined && n > o.max) throw bad(o, raw, `is above the maximum ${o.max}`);
  return n;
}

function convert(o: OptionDef, raw: unknown): CollectorConfig[keyof CollectorConfig] {
  switch (o.kind) {
    case 'address':
    case 'address-or-off': {
      if (typeof raw !== 'string') throw bad(o, raw, 'is not HOST:PORT');
      if (o.kind === 'address-or-off' && raw.trim().toLowerCase() === 'off') return 'off';
      return formatHostPort(parseHostPort(raw, `--${o.flag}`));
    }
    case 'bytes': {
      let n: number;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string') n = parseBytes(raw, `--${o.flag}`);
      else throw bad(o, raw, 'is not a size (e.g. 8MiB, 65536)');
      if (!Number.isInteger(n)) throw bad(o, raw, 'is not a whole number of bytes');
      return checkRange(o, raw, n);
    }
    case 'int': {
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw bad(o, raw, 'is not an integer');
      return checkRange(o, raw, n);
    }
    case 'duration': {
      let n: number;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string') n = parseDurationMs(raw, `--${o.flag}`);
      else throw bad(o, raw, 'is not a duration (e.g. 30s, 1h)');
      if (!Number.isFinite(n)) throw bad(o, raw, 'is not a duration (e.g. 30s, 1h)');
      return checkRange(o, raw, n);
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const v = typeof raw === 'string' ? raw.toLowerCase() : '';
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw bad(o, raw, 'is not a boolean (on/off, true/false)');
    }
    case 'tag': {
      if (typeof raw !== 'string' || raw.length === 0 || raw.length > 200)
        throw bad(o, raw, 'is not a tag name');
      return escapeMetricName(raw);
    }
    case 'buckets': {
      const list =
        typeof raw === 'string'
          ? raw
              .split(',')
              .map((x) => x.trim())
              .filter((x) => x !== '')
              .map((x) => (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(x) ? Number(x) : Number.NaN))
          : raw;
      if (!Array.isArray(list) || list.length === 0 || list.length > 200)
        throw bad(o, raw, 'is not a list of 1 to 200 bucket bounds (e.g. 0.005,0.01,0.1,1)');
      for (let i = 0; i < list.length; i++) {
        const b = list[i];
        if (typeof b !== 'number' || !Number.isFinite(b))
          throw bad(o, raw, `has a bound that is not a number`);
        if (i > 0 && b <= (list[i - 1] as number)) throw bad(o, raw, 'is not strictly ascending');
      }
      return Object.freeze([...(list as number[])]);
    }
    case 'list': {
      const list = typeof raw === 'string' ? raw.split(',') : raw;
      if (!Array.isArray(list) || list.length > 100)
        throw bad(o, raw, 'is not a comma-separated list (≤ 100 keys)');
      const keys = list.map((x) => (typeof x === 'string' ? x.trim() : '')).filter((x) => x !== '');
      if (
        keys.length !== list.filter((x) => String(x).trim() !== '').length ||
        keys.some((k) => k.length > 200)
      )
        throw bad(o, raw, 'has a key that is not a string of 1 to 200 characters');
      return Object.freeze(keys);
    }
  }
}

/** Validates once, fills defaults, freezes. Throws LabError (LAB_ERR_CONFIG / LAB_ERR_FLAG_VALUE). */
export function resolveConfig(input: CollectorConfigInput = {}): Readonly<CollectorConfig> {
  if (input === null || typeof input !== 'object')
    throw new LabError('LAB_ERR_CONFIG', `collector config must be an object, got ${String(input)}`);
  for (const k of Object.keys(input)) {
    if (!(k in OPTIONS))
      throw new LabError('LAB_ERR_CONFIG', `unknown collector option "${k}"; known: ${KEYS.join(', ')}`, {
        key: k,
      });
  }
  const out: Record<string, unknown> = {};
  for (const key of KEYS) {
    const o = OPTIONS[key];
    const given = (input as Record<string, unknown>)[key];
    out[key] = convert(o, given === undefined ? o.default : given);
  }
  const cfg = out as unknown as CollectorConfig;
  if (cfg.sourceActiveWindow > cfg.sourceTtl)
    throw bad(
      OPTIONS.sourceActiveWindow,
      cfg.sourceActiveWindow,
      `ms is longer than --source-ttl (${cfg.sourceTtl} ms)`,
    );
  return Object.freeze(cfg);
}
