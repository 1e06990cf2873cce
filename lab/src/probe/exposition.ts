// Reading the collector's and node-exporter's /metrics (the parser itself is core/exposition.ts, shared
// with the cost command).
import { type ExpoSample, parseExposition, sumFamilies } from '../core/exposition.ts';
import type { CollectorSnapshot, NodeUdpSnapshot } from '../core/record.ts';
import { transportNamed } from '../core/transports.ts';

export { type ExpoSample, parseExposition, sumFamilies };

export function firstValue(samples: readonly ExpoSample[], name: string): number | null {
  for (const s of samples) if (s.name === name) return s.value;
  return null;
}

const COLLECTOR_DIRECT = new Set([
  'collector_packets_total',
  'collector_lines_total',
  'collector_parse_errors_total',
  'collector_series_rejected_total',
  'collector_kernel_udp_rcvbuf_errors_total',
  'collector_kernel_udp_in_errors_total',
  'collector_kernel_udp_in_datagrams_total',
  'collector_udp_socket_drops_total',
  'collector_series',
  'collector_event_loop_lag_seconds',
  'collector_udp_rcvbuf_bytes',
  'collector_sources_active',
]);
/** Drops after the socket other than parse errors and rejected series (too-large packets, queues, ...). */
const isOtherDrop = (name: string) =>
  name === 'collector_packets_too_large_total' ||
  (name.startsWith('collector_') &&
    /drop/.test(name) &&
    name.endsWith('_total') &&
    !COLLECTOR_DIRECT.has(name));

/** Families whose samples are lines (or datagrams) the collector refused, each labelled with a reason. */
const REFUSAL_FAMILIES = new Set([
  'collector_series_rejected_total',
  'collector_parse_errors_total',
  'collector_packets_too_large_total',
]);

/** Refused lines by reason; null when the collector exposes none of the refusal families. */
function refusedByReason(samples: readonly ExpoSample[]): Record<string, number> | null {
  let out: Record<string, number> | null = null;
  for (const s of samples) {
    if (!REFUSAL_FAMILIES.has(s.name) || !Number.isFinite(s.value)) continue;
    const reason =
      s.name === 'collector_packets_too_large_total'
        ? 'packet_too_large'
        : (s.labels.reason ?? (s.name === 'collector_series_rejected_total' ? 'max_series' : 'parse_error'));
    if (reason === 'ok') continue;
    out = out ?? {};
    out[reason] = (out[reason] ?? 0) + s.value;
  }
  return out;
}

const OTLP_FAMILIES = new Set([
  'collector_otlp_points_total',
  'collector_otlp_points_refused_total',
  'collector_otlp_requests_total',
]);

/** The OTLP receiver's counters; every field null when the collector exposes none of them. */
function otlpCounts(samples: readonly ExpoSample[]) {
  let accepted: number | null = null;
  let throttled: number | null = null;
  let refused: Record<string, number> | null = null;
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    if (s.name === 'collector_otlp_points_total' && s.labels.outcome === 'accepted')
      accepted = (accepted ?? 0) + s.value;
    else if (s.name === 'collector_otlp_requests_total')
      throttled = (throttled ?? 0) + (s.labels.code === '429' || s.labels.code === '503' ? s.value : 0);
    else if (s.name === 'collector_otlp_points_refused_total') {
      refused = refused ?? {};
      if (s.value > 0)
        refused[s.labels.reason ?? 'unknown'] = (refused[s.labels.reason ?? 'unknown'] ?? 0) + s.value;
    }
  }
  return { otlpAccepted: accepted, otlpRefusedByReason: refused, otlpThrottled: throttled };
}

/** `ordersFamily` is `orders` (compatible naming) or `orders_total` (collector started with --strict-names). */
export function collectorSnapshot(text: string, ordersFamily = 'orders'): CollectorSnapshot {
  const samples = parseExposition(
    text,
    (n) => n === ordersFamily || COLLECTOR_DIRECT.has(n) || isOtherDrop(n) || OTLP_FAMILIES.has(n),
    (n) => n === 'collector_packets_total' || REFUSAL_FAMILIES.has(n) || OTLP_FAMILIES.has(n),
  );
  const sum = (n: string) => sumFamilies(samples, [n]);
  let other: number | null = null;
  for (const s of samples)
    if (isOtherDrop(s.name) && Number.isFinite(s.value)) other = (other ?? 0) + s.value;
  return {
    orders: sum(ordersFamily),
    packets: sum('collector_packets_total'),
    packetsUdp: (() => {
      let v: number | null = null;
      for (const x of samples)
        if (x.name === 'collector_packets_total' && transportNamed(x.labels.transport)?.kernelDrops)
          v = (v ?? 0) + x.value;
      return v;
    })(),
    lines: sum('collector_lines_total'),
    parseErrors: sum('collector_parse_errors_total'),
    seriesRejected: sum('collector_series_rejected_total'),
    otherDrops: other,
    refusedByReason: refusedByReason(samples),
    ...otlpCounts(samples),
    socketDrops: sum('collector_udp_socket_drops_total'),
    kernelRcvbufErrors: sum('collector_kernel_udp_rcvbuf_errors_total'),
    kernelInErrors: sum('collector_kernel_udp_in_errors_total'),
    kernelInDatagrams: sum('collector_kernel_udp_in_datagrams_total'),
    series: sum('collector_series'),
    eventLoopLagSeconds: firstValue(samples, 'collector_event_loop_lag_seconds'),
    rcvbufBytes: firstValue(samples, 'collector_udp_rcvbuf_bytes'),
    sourcesActive: firstValue(samples, 'collector_sources_active'),
    bodyBytes: text.length,
  };
}

export type { CollectorSnapshot, NodeUdpSnapshot };

export function nodeUdpSnapshot(text: string): NodeUdpSnapshot {
  const names = [
    'node_netstat_Udp_RcvbufErrors',
    'node_netstat_Udp_InErrors',
    'node_netstat_Udp_InDatagrams',
  ];
  const samples = parseExposition(text, (n) => names.includes(n), false);
  return {
    rcvbufErrors: firstValue(samples, names[0]!),
    inErrors: firstValue(samples, names[1]!),
    inDatagrams: firstValue(samples, names[2]!),
  };
}
