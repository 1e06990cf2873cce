// The producer's control API as a wire contract (docs/contracts.md "Control API"): the push settings a
// fleet runs with and the state GET /control/state answers. Defined once for the producer and the lab.

/** How pods push StatsD (`off`: no client at all, no orders or heartbeats pushed). */
export const PUSH_MODES = ['per-event', 'buffered', 'aggregated', 'off'] as const;
export type PushMode = (typeof PUSH_MODES)[number];

/**
 * The push transport: StatsD over `udp` or `tcp`, or `otlp` (each pod an OpenTelemetry SDK MeterProvider
 * exporting OTLP/HTTP protobuf every flush interval; the push mode then only says on or `off`).
 */
export const STATSD_TRANSPORTS = ['udp', 'tcp'] as const;
export const TRANSPORTS = [...STATSD_TRANSPORTS, 'otlp'] as const;
export type Transport = (typeof TRANSPORTS)[number];
/** The transports that carry StatsD lines (the collector counts packets, bytes and lines per each). */
export type StatsdTransport = (typeof STATSD_TRANSPORTS)[number];

/**
 * OTLP aggregation temporality. `cumulative` (the SDK's default): every export carries the totals, so a
 * failed export is healed by the next one. `delta`: every export carries what changed since the last
 * collection, so a failed export's points are gone.
 */
export const OTLP_TEMPORALITIES = ['cumulative', 'delta'] as const;
export type OtlpTemporality = (typeof OTLP_TEMPORALITIES)[number];

/** The producer's phase in its workload model. */
export type ProducerPhase = 'steady' | 'scheduled' | 'ramp' | 'peak' | 'decay' | 'done' | 'quiesced';

export interface PushSettings {
  mode: PushMode;
  jitter: boolean;
  transport: Transport;
  heartbeatMs: number;
  flushIntervalMs: number;
  /** Used by transport `otlp` only; optional on the wire (an older producer has none: cumulative). */
  otlpTemporality?: OtlpTemporality;
}

/** GET /control/state (and the answer to POST /control/schedule). */
export interface ControlState {
  name: string;
  pods: string[];
  phase: ProducerPhase;
  push: PushSettings;
  schedule: { startAtMs: number } | null;
  fleetOrdersPerSecond: number;
  podOrdersPerSecond: number;
  // Beyond the contract's minimum:
  atMs: number;
  profile: string;
  /** Orders due by the model but not generated yet (the process is behind). */
  backlogOrders: number;
  instruments: number;
  /**
   * The producer's clock when its first tick at or after the scheduled open ran (null before the open or
   * without a schedule): when it actually opened, in its own clock. Absent from producers before 2026-12-07.
   */
  openedAtMs?: number | null;
  /** TEST ONLY: the clock skew injected into this producer (PUSHPULL_TEST_CLOCK_SKEW_MS); absent when none. */
  testClockSkewMs?: number;
}
