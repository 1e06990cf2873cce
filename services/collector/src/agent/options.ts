import type { OptionDef } from '../options.ts';

// Agent mode's options (the collector's options table takes them in): a collector per host that receives
// StatsD over loopback UDP, aggregates per flush interval and forwards OTLP/HTTP protobuf to a central
// collector's OTLP receiver.

export interface AgentConfig {
  /** `collector` (the default: exposes what it holds) or `agent` (also forwards it, as deltas, to --forward-otlp). */
  mode: string;
  /** The central OTLP/HTTP receiver, http://HOST:PORT[/path] (path default /v1/metrics), or 'off'. */
  forwardOtlp: string;
  /** Data points per forwarded request (keep it at or below the central --otlp-max-points). */
  forwardMaxPoints: number;
  /** Bytes per forwarded request body (keep it at or below the central --otlp-max-request-size). */
  forwardMaxBytes: number;
  /** Points waiting to be forwarded, at most; a flush that does not fit is dropped (queue_full). */
  forwardQueuePoints: number;
  /** Milliseconds one forward request may take. */
  forwardTimeout: number;
  /** Milliseconds a batch may keep being retried after its first attempt; then dropped (forward_failed). */
  forwardMaxElapsed: number;
  /** Counter families whose increments the agent books by outcome (what a loss accounting needs). */
  forwardTally: readonly string[];
}

export const AGENT_MODES = ['collector', 'agent'] as const;

export const AGENT_OPTIONS: Record<keyof AgentConfig, OptionDef> = {
  mode: {
    flag: 'mode',
    env: 'COLLECTOR_MODE',
    kind: 'choice',
    choices: AGENT_MODES,
    default: 'collector',
    help: 'collector (expose what it holds) or agent (also forward it as OTLP/HTTP deltas to --forward-otlp every --flush-interval)',
  },
  forwardOtlp: {
    flag: 'forward-otlp',
    env: 'COLLECTOR_FORWARD_OTLP',
    kind: 'url-or-off',
    default: 'off',
    help: 'agent mode: the central OTLP/HTTP receiver, http://HOST:PORT[/path] (path default /v1/metrics)',
  },
  forwardMaxPoints: {
    flag: 'forward-max-points',
    env: 'COLLECTOR_FORWARD_MAX_POINTS',
    kind: 'int',
    default: 10_000,
    min: 1,
    max: 10_000_000,
    help: 'agent mode: data points per forwarded request (≤ the central --otlp-max-points)',
  },
  forwardMaxBytes: {
    flag: 'forward-max-bytes',
    env: 'COLLECTOR_FORWARD_MAX_BYTES',
    kind: 'bytes',
    default: '1MiB',
    min: 1024,
    max: 1 << 30,
    help: 'agent mode: bytes per forwarded request body (≤ the central --otlp-max-request-size)',
  },
  forwardQueuePoints: {
    flag: 'forward-queue-points',
    env: 'COLLECTOR_FORWARD_QUEUE_POINTS',
    kind: 'int',
    default: 200_000,
    min: 1,
    max: 100_000_000,
    help: 'agent mode: points waiting to be forwarded at most; a flush that does not fit is dropped (queue_full)',
  },
  forwardTimeout: {
    flag: 'forward-timeout',
    env: 'COLLECTOR_FORWARD_TIMEOUT',
    kind: 'duration',
    default: '5s',
    min: 10,
    help: 'agent mode: time one forward request may take (then retried)',
  },
  forwardMaxElapsed: {
    flag: 'forward-max-elapsed',
    env: 'COLLECTOR_FORWARD_MAX_ELAPSED',
    kind: 'duration',
    default: '30s',
    min: 0,
    help: 'agent mode: how long a batch is retried after its first attempt; then dropped (forward_failed)',
  },
  forwardTally: {
    flag: 'forward-tally',
    env: 'COLLECTOR_FORWARD_TALLY',
    kind: 'list',
    default: '',
    help: 'agent mode: counter families (exposed names) whose increments are booked by outcome in collector_agent_tally_*',
  },
};
