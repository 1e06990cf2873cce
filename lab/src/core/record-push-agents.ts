// #27: push as teams deploy it — a collector agent per producer host that aggregates StatsD and forwards
// OTLP/HTTP to the central collector. The record's vocabulary for it (BurstConfig and RunRecord extend these).

export const PUSH_TOPOLOGIES = ['central', 'agent'] as const;
export type PushTopology = (typeof PUSH_TOPOLOGIES)[number];

/** The burst config's part about the push topology. */
export interface PushTopologyConfig {
  /** --push-topology: every pod to the central collector, or through an agent per producer host (absent = central). */
  pushTopology?: PushTopology;
}

/** Loss causes of the agent tier (lab/README.md "Loss by cause"). */
export type PushAgentCauseName =
  | 'agent-rcvbuf'
  | 'agent-refused'
  | 'agent-queue-full'
  | 'agent-forward-failed'
  | 'agent-died';

/** One agent's books as the lab read them: its last reading (a dead agent's: the last before it died). */
export interface PushAgentReading {
  /** `agent-<i>`, beside `producer-<i>` on the same host (swarm: `agent-<k>`, the agent of a producer node). */
  name: string;
  /** Epoch ms of the reading (null: never read). */
  readAtMs: number | null;
  /** Whether it was still running at the end of the run. */
  alive: boolean;
  /** Datagrams it read from its UDP socket, and what the kernel dropped on that socket (/proc/net/udp). */
  datagrams: number;
  socketDrops: number | null;
  /** Lines it refused, by reason (parse errors, series budget). */
  refusedLines: Record<string, number>;
  /** Increments of the tallied counter (`orders`) by stage. */
  orders: {
    received: number;
    aggregated: number;
    forwarded: number;
    queued: number;
    droppedQueueFull: number;
    droppedForwardFailed: number;
    droppedTooLarge: number;
  };
  /** Points the central collector refused (partial_success), and forward attempts by outcome. */
  pointsRefused: number;
  requests: Record<string, number>;
  retries: number;
  /** The most points it held queued at one reading. */
  queuePeakPoints: number;
}

/** Per agent host: what the agent cost over the burst (the seed's "operational complexity" in numbers). */
export interface PushAgentCost {
  name: string;
  /** Cores, mean over the burst (CPU seconds between the open and quiesce / seconds). */
  cpuCores: number | null;
  /** Peak resident memory, bytes. */
  rssPeakBytes: number | null;
}

/**
 * A probe second's view of the agents' sockets: their kernel drops (/proc/net/udp), summed over each agent's
 * latest reading at that second (absent/null: no agent tier, or none read yet). The failure detectors and the
 * resource conditions read the agents' drops here, not the central collector's.
 */
export interface PushAgentSamplePart {
  pushAgentDrops?: number | null;
}

/** The run record's part about the agents (absent with the central topology). */
export interface PushAgentRecordPart {
  pushAgents?: { readings: PushAgentReading[]; cost: PushAgentCost[]; flushIntervalMs: number };
}
