// What the probe keeps from one read of the collector and of node-exporter: part of the run record
// (record.ts re-exports them), in a file of their own so record.ts stays readable.

/** What the probe keeps from one read of the collector's /metrics (nulls = family absent). */
export interface CollectorSnapshot {
  /** Push delivered: the sum of all `orders` series (contract: loss accounting). */
  orders: number | null;
  packets: number | null;
  /** Datagrams received over UDP (collector_packets_total{transport="udp"}). */
  packetsUdp: number | null;
  lines: number | null;
  parseErrors: number | null;
  seriesRejected: number | null;
  /**
   * run@2: lines the collector refused, by reason (the `reason` label of collector_series_rejected_total and
   * collector_parse_errors_total; `packet_too_large` for whole datagrams over the size limit). null = absent.
   */
  refusedByReason?: Record<string, number> | null;
  /**
   * OTLP receiver (run@2, transport otlp): points accepted, points refused by reason
   * (collector_otlp_points_refused_total), and requests answered 429/503 (the receiver asked the exporter to
   * slow down). Absent/null when the collector exposes no OTLP families.
   */
  otlpAccepted?: number | null;
  otlpRefusedByReason?: Record<string, number> | null;
  otlpThrottled?: number | null;
  /** Any other collector drop counter (`collector_*drop*_total`, e.g. a queue), summed. */
  otherDrops: number | null;
  /** Datagrams the kernel dropped on the collector's OWN socket (sk_drops, /proc/net/udp): exact per socket. */
  socketDrops: number | null;
  kernelRcvbufErrors: number | null;
  kernelInErrors: number | null;
  kernelInDatagrams: number | null;
  series: number | null;
  eventLoopLagSeconds: number | null;
  rcvbufBytes: number | null;
  sourcesActive: number | null;
  bodyBytes: number;
}

export interface NodeUdpSnapshot {
  rcvbufErrors: number | null;
  inErrors: number | null;
  inDatagrams: number | null;
}
