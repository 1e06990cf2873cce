import { AGENT_METRIC_NAMES } from '../agent/books.ts';
import type { IngestStats } from '../aggregate/ingest.ts';
import { formatValue, OTLP_REFUSAL_REASONS, type OtlpStats } from '../aggregate/otlp.ts';
import type { Store } from '../aggregate/store.ts';
import {
  DROP_REASONS,
  REFUSAL_REASONS,
  TAG_ERROR_REASONS,
  TRANSPORT_NAMES,
  TYPE_NAMES,
} from '../parse/codes.ts';
import { escapeLabelValue } from '../parse/names.ts';
import { family } from './family.ts';
import type { UdpKernelCounters } from './kernel.ts';

// The collector's own metrics (GET /metrics/self, and the end of GET /metrics): what arrived and what became
// of it, the store's budgets, the kernel's drops, sources, connections and the OTLP receiver.

/** Values known only to the running process, read when the self-metrics block is rendered. */
export interface SelfValues {
  nowMs: number;
  sourceActiveWindowMs: number;
  rcvbufGranted: number | null;
  lastFlushSeconds: number;
  eventLoopLagSeconds: number;
  kernel: UdpKernelCounters | null;
  /** sk_drops of the collector's own UDP socket (/proc/net/udp), null when unknown. */
  socketDrops: number | null;
  tcpConnections: number;
  tcpOpen: number;
  tcpRefused: number;
  tcpIdleClosed: number;
  /** HTTP refusals and timeouts (null before the HTTP server exists). */
  http: {
    refusedBusy: number;
    refusedConnections: number;
    refusedBadRequest: number;
    refusedBodyTimeout: number;
    timeouts: number;
  } | null;
  /** The OTLP receiver's counters (null when --otlp-http is off). */
  otlp?: OtlpSelf | null;
  /** Agent mode's books, rendered (null in collector mode). */
  agent?: string | null;
}

/** What the OTLP/HTTP edge adds to the point outcomes. */
export interface OtlpSelf {
  points: OtlpStats;
  /** Requests answered, by HTTP status code. */
  requests: ReadonlyMap<number, number>;
  bytes: number;
  /** Request latency histogram: bounds (seconds), per-bucket counts (+Inf last), sum, count. */
  latency: { bounds: readonly number[]; counts: Float64Array; sum: number; count: number };
  /** Bytes of request bodies being received now, against --otlp-max-inflight-bytes. */
  inflightBytes: number;
}

/** Every family name the collector itself exposes: senders may not take these names. */
export const SELF_METRIC_NAMES = [
  'collector_packets_total',
  'collector_bytes_total',
  'collector_lines_total',
  'collector_lines_accepted_total',
  'collector_packets_too_large_total',
  'collector_samples_total',
  'collector_parse_errors_total',
  'collector_tag_errors_total',
  'collector_series',
  'collector_series_rejected_total',
  'collector_series_bytes',
  'collector_series_unrendered_total',
  'collector_flush_duration_seconds',
  'collector_event_loop_lag_seconds',
  'collector_kernel_udp_rcvbuf_errors_total',
  'collector_kernel_udp_in_errors_total',
  'collector_kernel_udp_in_datagrams_total',
  'collector_udp_socket_drops_total',
  'collector_source_last_seen_timestamp_seconds',
  'collector_sources_active',
  'collector_udp_rcvbuf_bytes',
  'collector_tcp_connections_total',
  'collector_tcp_connections_open',
  'collector_tcp_connections_refused_total',
  'collector_tcp_connections_idle_closed_total',
  'collector_http_refused_total',
  'collector_http_timeouts_total',
  'collector_otlp_points_total',
  'collector_otlp_points_refused_total',
  'collector_otlp_attribute_errors_total',
  'collector_otlp_requests_total',
  'collector_otlp_request_bytes_total',
  'collector_otlp_request_seconds',
  'collector_otlp_inflight_bytes',
] as const;

/** Every sample name the collector writes: the families above plus its own histogram's series. */
export const RESERVED_NAMES: readonly string[] = [
  ...SELF_METRIC_NAMES,
  // #27: agent mode's books (rendered only in agent mode; reserved in every mode)
  ...AGENT_METRIC_NAMES,
  ...['_bucket', '_sum', '_count'].map((x) => `collector_otlp_request_seconds${x}`),
];

/** The self-metrics block alone (GET /metrics/self): no sender series, so cheap to render often. */
export function selfExposition(store: Store, stats: IngestStats, self: SelfValues): string {
  return renderSelf(store, stats, self);
}

/** The self-metrics block: traffic, the store, the kernel's view, sources, connections, OTLP. */
export function renderSelf(store: Store, st: IngestStats, v: SelfValues): string {
  let o = renderTraffic(st) + renderStore(store, st, v) + renderKernel(v) + renderSources(store, v);
  o += renderConnections(v);
  if (v.otlp != null) o += renderOtlp(v.otlp);
  if (v.agent != null) o += v.agent;
  return o;
}

/** What arrived and what became of each line. */
function renderTraffic(st: IngestStats): string {
  let o = '';
  o += family('collector_packets_total', 'counter', 'Datagrams (udp) or reads (tcp) received.');
  for (let t = 0; t < 2; t++)
    o += `collector_packets_total{transport="${TRANSPORT_NAMES[t]}"} ${st.packets[t]}\n`;
  o += family('collector_bytes_total', 'counter', 'Bytes received.');
  for (let t = 0; t < 2; t++)
    o += `collector_bytes_total{transport="${TRANSPORT_NAMES[t]}"} ${st.bytes[t]}\n`;
  o += family('collector_lines_total', 'counter', 'Non-empty lines received.');
  for (let t = 0; t < 2; t++)
    o += `collector_lines_total{transport="${TRANSPORT_NAMES[t]}"} ${st.lines[t]}\n`;
  o += family(
    'collector_lines_accepted_total',
    'counter',
    'Lines aggregated. lines = accepted + parse errors + series rejected.',
  );
  o += `collector_lines_accepted_total ${st.linesAccepted}\n`;
  o += family(
    'collector_packets_too_large_total',
    'counter',
    'Datagrams dropped whole because they exceed --max-packet-size (their lines are not counted).',
  );
  for (let t = 0; t < 2; t++)
    o += `collector_packets_too_large_total{transport="${TRANSPORT_NAMES[t]}"} ${st.packetsTooLarge[t]}\n`;
  o += family('collector_samples_total', 'counter', 'Values aggregated, by StatsD type.');
  for (let t = 0; t < TYPE_NAMES.length; t++)
    o += `collector_samples_total{type="${TYPE_NAMES[t]}"} ${st.samples[t]}\n`;
  o += family('collector_parse_errors_total', 'counter', 'Lines dropped, by reason.');
  for (let r = 1; r < DROP_REASONS.length; r++)
    o += `collector_parse_errors_total{reason="${DROP_REASONS[r]}"} ${st.parseErrors[r]}\n`;
  o += family(
    'collector_tag_errors_total',
    'counter',
    'Tags ignored, the line kept, by reason (malformed, reserved "__" name, collision with a collector label, duplicate).',
  );
  for (let r = 0; r < TAG_ERROR_REASONS.length; r++)
    o += `collector_tag_errors_total{reason="${TAG_ERROR_REASONS[r]}"} ${st.tagErrors[r]}\n`;
  return o;
}

/** The store's budgets and the work of rendering it. */
function renderStore(store: Store, st: IngestStats, v: SelfValues): string {
  let o = '';
  o += family('collector_series', 'gauge', 'Series held (all sender families).');
  o += `collector_series ${store.seriesCount}\n`;
  o += family(
    'collector_series_bytes',
    'gauge',
    'What the series hold against --max-series-bytes (label text, names, a fixed overhead per series).',
  );
  o += `collector_series_bytes ${store.bytes}\n`;
  o += family(
    'collector_series_rejected_total',
    'counter',
    'Lines refused by a memory budget, by reason (--max-series, --max-label-value-length, --max-series-bytes).',
  );
  for (let r = 0; r < REFUSAL_REASONS.length; r++)
    o += `collector_series_rejected_total{reason="${REFUSAL_REASONS[r]}"} ${st.seriesRejectedBy[r]}\n`;
  o += family(
    'collector_series_unrendered_total',
    'counter',
    'Series left out of /metrics renders because their text would exceed 16 MiB (the rest is served).',
  );
  o += `collector_series_unrendered_total ${store.unrendered}\n`;
  o += family('collector_flush_duration_seconds', 'gauge', 'CPU time of the previous /metrics render.');
  o += `collector_flush_duration_seconds ${formatValue(v.lastFlushSeconds)}\n`;
  o += family(
    'collector_event_loop_lag_seconds',
    'gauge',
    'Maximum event-loop delay in the last flush interval.',
  );
  o += `collector_event_loop_lag_seconds ${formatValue(v.eventLoopLagSeconds)}\n`;
  return o;
}

/** Drops before the collector's socket, as the kernel counts them. */
function renderKernel(v: SelfValues): string {
  let o = '';
  if (v.kernel !== null) {
    const k = v.kernel;
    o += family(
      'collector_kernel_udp_rcvbuf_errors_total',
      'counter',
      'Udp RcvbufErrors of this network namespace (/proc/net/snmp): datagrams dropped because a receive buffer was full.',
    );
    o += `collector_kernel_udp_rcvbuf_errors_total ${k.RcvbufErrors}\n`;
    o += family(
      'collector_kernel_udp_in_errors_total',
      'counter',
      'Udp InErrors of this network namespace (/proc/net/snmp).',
    );
    o += `collector_kernel_udp_in_errors_total ${k.InErrors}\n`;
    o += family(
      'collector_kernel_udp_in_datagrams_total',
      'counter',
      'Udp InDatagrams of this network namespace (/proc/net/snmp).',
    );
    o += `collector_kernel_udp_in_datagrams_total ${k.InDatagrams}\n`;
  }
  if (v.socketDrops !== null) {
    o += family(
      'collector_udp_socket_drops_total',
      'counter',
      "Datagrams the kernel dropped on the collector's own UDP socket (/proc/net/udp drops: receive buffer full).",
    );
    o += `collector_udp_socket_drops_total ${v.socketDrops}\n`;
  }
  return o;
}

/** Push sources' liveness. */
function renderSources(store: Store, v: SelfValues): string {
  let o = '';
  o += family(
    'collector_source_last_seen_timestamp_seconds',
    'gauge',
    'Unix time a source (the --source-tag tag) last sent a line; kept until --source-ttl.',
  );
  for (const src of store.sources.values())
    o += `collector_source_last_seen_timestamp_seconds{source="${escapeLabelValue(src.name)}"} ${src.lastSeenMs / 1000}\n`;
  o += family('collector_sources_active', 'gauge', 'Sources seen within --source-active-window.');
  o += `collector_sources_active ${store.activeSources(v.nowMs, v.sourceActiveWindowMs)}\n`;
  return o;
}

/** The UDP buffer, TCP connections and the HTTP listeners' refusals. */
function renderConnections(v: SelfValues): string {
  let o = '';
  if (v.rcvbufGranted !== null) {
    o += family(
      'collector_udp_rcvbuf_bytes',
      'gauge',
      'UDP receive buffer granted by the kernel (SO_RCVBUF).',
    );
    o += `collector_udp_rcvbuf_bytes ${v.rcvbufGranted}\n`;
  }
  o += family('collector_tcp_connections_total', 'counter', 'TCP connections accepted.');
  o += `collector_tcp_connections_total ${v.tcpConnections}\n`;
  o += family('collector_tcp_connections_open', 'gauge', 'TCP connections open now.');
  o += `collector_tcp_connections_open ${v.tcpOpen}\n`;
  o += family(
    'collector_tcp_connections_refused_total',
    'counter',
    'TCP connections closed on arrival because --max-tcp-connections were open (their lines were never read).',
  );
  o += `collector_tcp_connections_refused_total ${v.tcpRefused}\n`;
  o += family(
    'collector_tcp_connections_idle_closed_total',
    'counter',
    'TCP connections closed after --tcp-idle-timeout without data.',
  );
  o += `collector_tcp_connections_idle_closed_total ${v.tcpIdleClosed}\n`;
  if (v.http !== null) {
    o += family(
      'collector_http_refused_total',
      'counter',
      'HTTP refused on either listener: /metrics answered 503 (busy: --http-max-renders), connection closed on arrival (connections: --http-max-connections), request the parser refused (bad_request: 400), body not in time (body_timeout: 408).',
    );
    o += `collector_http_refused_total{reason="busy"} ${v.http.refusedBusy}\n`;
    o += `collector_http_refused_total{reason="connections"} ${v.http.refusedConnections}\n`;
    o += `collector_http_refused_total{reason="bad_request"} ${v.http.refusedBadRequest}\n`;
    o += `collector_http_refused_total{reason="body_timeout"} ${v.http.refusedBodyTimeout}\n`;
    o += family(
      'collector_http_timeouts_total',
      'counter',
      'HTTP responses cut because the client made no progress for --http-timeout.',
    );
    o += `collector_http_timeouts_total ${v.http.timeouts}\n`;
  }
  return o;
}

function renderOtlp(v: OtlpSelf): string {
  const p = v.points;
  let refused = 0;
  for (const n of p.refusedBy) refused += n;
  let o = family(
    'collector_otlp_points_total',
    'counter',
    'OTLP data points decoded, by outcome: accepted, or refused (reasons in collector_otlp_points_refused_total; reported to the sender in partial_success).',
  );
  o += `collector_otlp_points_total{outcome="accepted"} ${p.pointsAccepted}\n`;
  o += `collector_otlp_points_total{outcome="refused"} ${refused}\n`;
  o += family('collector_otlp_points_refused_total', 'counter', 'OTLP data points refused, by reason.');
  for (let r = 0; r < OTLP_REFUSAL_REASONS.length; r++)
    o += `collector_otlp_points_refused_total{reason="${OTLP_REFUSAL_REASONS[r]}"} ${p.refusedBy[r]}\n`;
  o += family(
    'collector_otlp_attribute_errors_total',
    'counter',
    'OTLP attributes not made labels, the point kept, by reason (as collector_tag_errors_total).',
  );
  for (let r = 0; r < TAG_ERROR_REASONS.length; r++)
    o += `collector_otlp_attribute_errors_total{reason="${TAG_ERROR_REASONS[r]}"} ${p.tagErrors[r]}\n`;
  o += family(
    'collector_otlp_requests_total',
    'counter',
    'OTLP/HTTP export requests answered, by status code (400 undecodable, 413 too large, 415 unsupported type, 429 in-flight budget full).',
  );
  for (const [code, n] of [...v.requests].sort((a, b) => a[0] - b[0]))
    o += `collector_otlp_requests_total{code="${code}"} ${n}\n`;
  o += family('collector_otlp_request_bytes_total', 'counter', 'OTLP/HTTP request body bytes received.');
  o += `collector_otlp_request_bytes_total ${v.bytes}\n`;
  o += family(
    'collector_otlp_inflight_bytes',
    'gauge',
    'OTLP/HTTP request bytes being received now (budget: --otlp-max-inflight-bytes).',
  );
  o += `collector_otlp_inflight_bytes ${v.inflightBytes}\n`;
  const l = v.latency;
  o += family('collector_otlp_request_seconds', 'histogram', 'OTLP/HTTP request latency, every status code.');
  let cum = 0;
  for (let i = 0; i < l.counts.length; i++) {
    cum += l.counts[i]!;
    const le = i < l.bounds.length ? formatValue(l.bounds[i]!) : '+Inf';
    o += `collector_otlp_request_seconds_bucket{le="${le}"} ${cum}\n`;
  }
  o += `collector_otlp_request_seconds_sum ${formatValue(l.sum)}\ncollector_otlp_request_seconds_count ${l.count}\n`;
  return o;
}
