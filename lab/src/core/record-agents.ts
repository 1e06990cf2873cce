// #29: pull through per-host agents — a Prometheus in agent mode on every producer host scrapes that host's
// pods and remote-writes to pull's central store. The record's vocabulary for it: the topology choice, what
// the observer reads of each agent every second, and what the record keeps of every agent at the end.

/** `--pull-topology`: one Prometheus scraping every pod (`central`), or an agent per host (`agent`). */
export const PULL_TOPOLOGIES = ['central', 'agent'] as const;
export type PullTopology = (typeof PULL_TOPOLOGIES)[number];

/** The part of the burst config that chooses the topology (absent in older records = central). */
export interface AgentConfigPart {
  pullTopology?: PullTopology;
}

/** The pull path's label in tables and verdicts. */
export function pullLabel(config: AgentConfigPart): string {
  return config.pullTopology === 'agent' ? 'pull (agents → remote_write)' : 'pull (Prometheus scrape)';
}

/** Name of the agent on producer host `producer-<i>`: `prometheus-agent-<i>`. */
export function agentNameOf(producer: string): string {
  return `prometheus-agent-${producer.replace(/^producer-/, '')}`;
}

export const isAgentName = (name: string): boolean => /^prometheus-agent-\d+$/.test(name);

/**
 * One agent's own /metrics at one instant (`prometheus_remote_storage_*`, its WAL, its scrape loop), summed
 * over its remote-write queues. null = the family was absent.
 */
export interface AgentSelf {
  /** Samples appended to the WAL (`prometheus_remote_storage_samples_in_total`). */
  samplesIn: number | null;
  /** Samples sent to the central store (`prometheus_remote_storage_samples_total`). */
  samplesSent: number | null;
  /** Samples that failed on a non-recoverable error (a 4xx other than 429): given up. */
  samplesFailed: number | null;
  /** Samples re-sent after a recoverable error (5xx, 429, no connection). */
  samplesRetried: number | null;
  /** Samples dropped after being read from the WAL (relabelling, or an unknown series reference). */
  samplesDropped: number | null;
  /** Samples in the queue's shards, not sent yet. */
  samplesPending: number | null;
  /** Newest sample appended to the WAL and newest sent (epoch seconds): their difference is the queue's lag. */
  highestTs: number | null;
  highestSentTs: number | null;
  shards: number | null;
  shardsMax: number | null;
  shardsDesired: number | null;
  /** WAL corruptions and failed truncations/checkpoints seen by the agent's storage. */
  walCorruptions: number | null;
  walTruncationsFailed: number | null;
  /** p99 of the agent's actual scrape interval. */
  intervalP99: number | null;
}

/**
 * The central store's remote-write receiver (`prometheus_http_requests_total{handler="/api/v1/write"}`): how
 * it answered, by status class.
 */
export interface CentralReceiver {
  ok: number;
  /** 429: too many requests. */
  throttled: number;
  /** Other 4xx (the agent gives those samples up). */
  refused: number;
  /** 5xx (the agent retries). */
  errors: number;
}

/** What one probe tick read of the agents (#29). */
export interface AgentSamplePart {
  /** Each agent's own /metrics, by agent name, when read this tick. */
  agents?: Record<string, AgentSelf>;
  /** The central store's remote-write receiver, when read this tick. */
  centralReceiver?: CentralReceiver;
}

/** One agent in the record: its host, its remote-write counters at the end, and its cost. */
export interface AgentRecord {
  name: string;
  /** The producer host whose pods it scraped. */
  host: string;
  pods: number;
  /** Its /metrics read at the end (null: it did not answer). */
  final: AgentSelf | null;
  /** Pods it had scraped successfully after quiesce (its /api/v1/targets; null: it did not answer). */
  scrapedAfterQuiesce: number | null;
  /** Cores used over the burst (open to quiesce), from its CPU seconds; and its peak resident memory. */
  cpuCores: number | null;
  rssMaxBytes: number | null;
}

/** run.json `pullAgents` (#29): every agent and the central store they write to. */
export interface PullAgentsRecord {
  topology: 'agent';
  agents: AgentRecord[];
  central: {
    name: string;
    cpuCores: number | null;
    rssMaxBytes: number | null;
    receiver: CentralReceiver | null;
  };
  /** How the pull pipeline's budget covers them (the default plan: one budget for the central store and every agent). */
  budget: string;
}

/** The part of the run record the agents add. */
export interface AgentRecordPart {
  pullAgents?: PullAgentsRecord;
}

/** Loss causes of the agent tier: samples scraped at the agent that never reached the central store. */
export type AgentLossCauseName =
  | 'remote-write-pending'
  | 'remote-write-failed'
  | 'remote-write-dropped'
  | 'wal-corrupt';

export const AGENT_CAUSE_TEXT: Record<AgentLossCauseName, string> = {
  'remote-write-pending':
    "scraped by its host's agent, still in its remote-write queue (WAL) when the run ended",
  'remote-write-failed':
    "scraped by its host's agent, given up after the central store refused it (non-recoverable)",
  'remote-write-dropped': "scraped by its host's agent, dropped from its remote-write queue",
  'wal-corrupt': "scraped by its host's agent, lost to a corrupt or truncated WAL",
};
