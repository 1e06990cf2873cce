import type { AgentSelf, CentralReceiver } from '../core/record-agents.ts';
import { parseExposition } from './exposition.ts';
import type { ActiveTarget } from './stores.ts';

// #29: what the observer reads of each pull agent and of the central store's remote-write receiver, pure:
// an agent's own /metrics (its remote-write queue, its WAL, its scrape loop) and /api/v1/targets (which pods it
// scraped when). Neither runs PromQL: agent mode has no query engine.

/** Every family an agent's snapshot sums (over its remote-write queues), by its AgentSelf field. */
const SUMS: Record<string, keyof AgentSelf> = {
  prometheus_remote_storage_samples_in_total: 'samplesIn',
  prometheus_remote_storage_samples_total: 'samplesSent',
  prometheus_remote_storage_samples_failed_total: 'samplesFailed',
  prometheus_remote_storage_samples_retried_total: 'samplesRetried',
  prometheus_remote_storage_samples_dropped_total: 'samplesDropped',
  prometheus_remote_storage_samples_pending: 'samplesPending',
  prometheus_remote_storage_shards: 'shards',
  prometheus_remote_storage_shards_max: 'shardsMax',
  prometheus_remote_storage_shards_desired: 'shardsDesired',
  prometheus_agent_corruptions_total: 'walCorruptions',
  prometheus_tsdb_wal_corruptions_total: 'walCorruptions',
  prometheus_tsdb_wal_truncations_failed_total: 'walTruncationsFailed',
  prometheus_agent_checkpoint_creations_failed_total: 'walTruncationsFailed',
};
/** Families read as the largest value (timestamps, the interval's p99). */
const MAXES: Record<string, keyof AgentSelf> = {
  prometheus_remote_storage_highest_timestamp_in_seconds: 'highestTs',
  prometheus_remote_storage_queue_highest_sent_timestamp_seconds: 'highestSentTs',
  prometheus_target_interval_length_seconds: 'intervalP99',
};

export function emptyAgentSelf(): AgentSelf {
  return {
    samplesIn: null,
    samplesSent: null,
    samplesFailed: null,
    samplesRetried: null,
    samplesDropped: null,
    samplesPending: null,
    highestTs: null,
    highestSentTs: null,
    shards: null,
    shardsMax: null,
    shardsDesired: null,
    walCorruptions: null,
    walTruncationsFailed: null,
    intervalP99: null,
  };
}

/** An agent's /metrics text → its remote-write, WAL and scrape-loop readings; a bad line is skipped. */
export function agentSelfSnapshot(text: string): AgentSelf {
  const out = emptyAgentSelf();
  const samples = parseExposition(
    text,
    (n) => n in SUMS || n in MAXES,
    (n) => n === 'prometheus_target_interval_length_seconds',
  );
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    const sum = SUMS[s.name];
    if (sum) {
      out[sum] = (out[sum] ?? 0) + s.value;
      continue;
    }
    const max = MAXES[s.name]!;
    if (max === 'intervalP99' && s.labels.quantile !== '0.99') continue;
    const cur = out[max];
    if (cur === null || s.value > cur) out[max] = s.value;
  }
  return out;
}

/** Seconds the agent's remote-write queue trails its WAL (newest appended − newest sent); null = unknown. */
export function remoteWriteLag(a: AgentSelf): number | null {
  if (a.highestTs === null || a.highestSentTs === null || a.highestTs <= 0) return null;
  // Nothing sent yet since start: the whole span from the first append is behind, which the WAL reading shows.
  return Math.max(0, a.highestTs - a.highestSentTs);
}

/** The central store's /metrics → how its remote-write receiver answered, by status class. */
export function centralReceiverSnapshot(text: string): CentralReceiver | null {
  const samples = parseExposition(text, (n) => n === 'prometheus_http_requests_total');
  const out: CentralReceiver = { ok: 0, throttled: 0, refused: 0, errors: 0 };
  let seen = false;
  for (const s of samples) {
    if (s.labels.handler !== '/api/v1/write' || !Number.isFinite(s.value)) continue;
    seen = true;
    const code = Number(s.labels.code);
    if (code === 429) out.throttled += s.value;
    else if (code >= 500) out.errors += s.value;
    else if (code >= 400) out.refused += s.value;
    else out.ok += s.value;
  }
  return seen ? out : null;
}

/** One agent's active target with the time of its last scrape (/api/v1/targets). */
export interface AgentTarget extends ActiveTarget {
  lastScrape?: string;
}

/** Pods (the `pod` label) an agent scraped successfully at or after `afterMs`. */
export function podsScrapedAfter(active: readonly AgentTarget[], afterMs: number): string[] {
  const out: string[] = [];
  for (const t of active) {
    const pod = t.labels?.pod;
    const at = t.lastScrape ? Date.parse(t.lastScrape) : Number.NaN;
    if (pod && t.health === 'up' && Number.isFinite(at) && at >= afterMs) out.push(pod);
  }
  return out;
}
