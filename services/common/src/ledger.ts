// The ground-truth ledger's shape: what every pod emitted, counted where it is emitted (the producer) and
// read by the orchestrator over the control API, never through the pull or push path being measured.
// One definition for both sides of the wire (docs/contracts.md "Ledger"), so they cannot drift apart.

export interface LedgerCounts {
  /** Orders generated (= pull emitted: each one is recorded in the pod's registry). */
  orders: number;
  /** Orders whose `orders` increment was handed to the push client (aggregated: counted when flushed). */
  ordersPushed: number;
  rejects: number;
  /** Metric events recorded in the pod's registry (inc, observe, set). */
  registryEvents: number;
  /** StatsD lines handed to the push client (orders, latency, rejects, queue depth, heartbeat). */
  pushEvents: number;
  /** Datagrams (UDP) or writes (TCP) handed to the socket, and their payload bytes. */
  datagrams: number;
  bytes: number;
  /** Send errors reported by hot-shots (errorHandler / flush callbacks) or by the transport. */
  sendErrors: number;
  /** Heartbeat increments handed to the push client. */
  heartbeats: number;
  // Transport `otlp` (optional: an older producer has none; sumCounts counts a missing one as 0). Counted
  // from the SDK's own export results (a delegating exporter sees every export and its final outcome).
  /** Exports the SDK's reader handed to the OTLP exporter (periodic and forced). */
  otlpExports?: number;
  /** Exports whose final result (after the exporter's own retries) was a failure. */
  otlpExportsFailed?: number;
  /** Data points in exports that succeeded / finally failed. */
  otlpPointsExported?: number;
  otlpPointsFailed?: number;
  /**
   * Orders the receiver holds by the SDK's successful exports: cumulative, the `orders` total of the last
   * successful export; delta, the sum of the `orders` deltas of every successful export.
   */
  otlpOrdersExported?: number;
  /** HTTP requests the pod's exporter sent (retries included), and those answered 429/502/503/504. */
  otlpRequests?: number;
  otlpRequestsRetryable?: number;
}

export const LEDGER_KEYS = [
  'orders',
  'ordersPushed',
  'rejects',
  'registryEvents',
  'pushEvents',
  'datagrams',
  'bytes',
  'sendErrors',
  'heartbeats',
  'otlpExports',
  'otlpExportsFailed',
  'otlpPointsExported',
  'otlpPointsFailed',
  'otlpOrdersExported',
  'otlpRequests',
  'otlpRequestsRetryable',
] as const satisfies readonly (keyof LedgerCounts)[];

export function emptyCounts(): Required<LedgerCounts> {
  const c = {} as Required<LedgerCounts>;
  for (const k of LEDGER_KEYS) c[k] = 0;
  return c;
}

/**
 * Sums ledger counts. Tolerant of what arrives over the wire: a missing or non-numeric field counts as 0
 * (an older producer without a field must not turn a total into NaN).
 */
export function sumCounts(all: Iterable<Partial<LedgerCounts>>): Required<LedgerCounts> {
  const total = emptyCounts();
  for (const c of all) for (const k of LEDGER_KEYS) total[k] += Number(c[k] ?? 0) || 0;
  return total;
}

/** Per-event cost quantiles, in nanoseconds. */
export interface CostSummary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
}

/** What `GET /control/ledger` answers. */
export interface Ledger {
  name: string;
  atMs: number;
  quiesced: boolean;
  total: LedgerCounts;
  pods: Record<string, LedgerCounts>;
  /** Optional for readers: the orchestrator accounts without it. */
  cost?: {
    pullRecordNs: CostSummary;
    pushSendNs: CostSummary;
    /** The push send cost split by the mode that was active. */
    pushSendNsByMode?: Record<string, CostSummary>;
    /** One in `sampleEvery` orders is timed. */
    sampleEvery?: number;
  };
}
