// Agent mode's own books: every point a flush takes out of the store ends in exactly one of forwarded,
// refused by the central collector (partial_success), dropped by reason, or still queued; and for the
// --forward-tally families the same in counter increments, beside what the agent received of them:
//   aggregated = forwarded + refused-in-forwarded + dropped(queue_full, forward_failed, too_large) + queued
//   received − forwarded − dropped = what a kill would lose (received, not yet flushed or still queued)

export const AGENT_DROP_REASONS = ['queue_full', 'forward_failed', 'too_large'] as const;
export type AgentDropReason = (typeof AGENT_DROP_REASONS)[number];

export class AgentBooks {
  flushes = 0;
  pointsAggregated = 0;
  /** Points in requests the central collector accepted (2xx), minus those it reported rejected. */
  pointsForwarded = 0;
  /** partial_success.rejected_data_points of accepted requests. */
  pointsRefused = 0;
  readonly pointsDropped: Record<AgentDropReason, number> = {
    queue_full: 0,
    forward_failed: 0,
    too_large: 0,
  };
  /** Series a flush did not forward (sets, families written over OTLP). */
  seriesSkipped = 0;
  /** Forward attempts by outcome: an HTTP status code, `error` (connection) or `timeout`. */
  readonly requests = new Map<string, number>();
  retries = 0;
  /** Waits that honoured the central collector's Retry-After. */
  retryAfterHonoured = 0;
  /** Tallied counter increments by stage. */
  tallyAggregated = 0;
  tallyForwarded = 0;
  readonly tallyDropped: Record<AgentDropReason, number> = { queue_full: 0, forward_failed: 0, too_large: 0 };

  request(outcome: string): void {
    this.requests.set(outcome, (this.requests.get(outcome) ?? 0) + 1);
  }

  drop(reason: AgentDropReason, points: number, tally: number): void {
    this.pointsDropped[reason] += points;
    this.tallyDropped[reason] += tally;
  }
}

/** What the running agent adds when its books are rendered. */
export interface AgentLive {
  queuePoints: number;
  queueBatches: number;
  queueTally: number;
  /** Increments of the tallied families the store holds (every accepted line's). */
  tallyReceived: number;
}

export const AGENT_METRIC_NAMES = [
  'collector_agent_flushes_total',
  'collector_agent_points_aggregated_total',
  'collector_agent_points_forwarded_total',
  'collector_agent_points_refused_total',
  'collector_agent_points_dropped_total',
  'collector_agent_series_skipped_total',
  'collector_agent_queue_points',
  'collector_agent_queue_batches',
  'collector_agent_requests_total',
  'collector_agent_retries_total',
  'collector_agent_retry_after_honoured_total',
  'collector_agent_tally_total',
  'collector_agent_tally_queued',
] as const;

const fam = (name: string, type: string, help: string) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;

/** The books as exposition text (appended to the self-metrics). */
export function renderAgent(b: AgentBooks, live: AgentLive): string {
  let o = fam('collector_agent_flushes_total', 'counter', 'Flushes: the store read into OTLP delta points.');
  o += `collector_agent_flushes_total ${b.flushes}\n`;
  o += fam('collector_agent_points_aggregated_total', 'counter', 'Points flushes took out of the store.');
  o += `collector_agent_points_aggregated_total ${b.pointsAggregated}\n`;
  o += fam(
    'collector_agent_points_forwarded_total',
    'counter',
    'Points the central collector accepted (2xx, minus partial_success rejections).',
  );
  o += `collector_agent_points_forwarded_total ${b.pointsForwarded}\n`;
  o += fam(
    'collector_agent_points_refused_total',
    'counter',
    'Points the central collector refused (its partial_success.rejected_data_points).',
  );
  o += `collector_agent_points_refused_total ${b.pointsRefused}\n`;
  o += fam('collector_agent_points_dropped_total', 'counter', 'Points the agent dropped, by reason.');
  for (const r of AGENT_DROP_REASONS)
    o += `collector_agent_points_dropped_total{reason="${r}"} ${b.pointsDropped[r]}\n`;
  o += fam(
    'collector_agent_series_skipped_total',
    'counter',
    'Series a flush did not forward (sets, OTLP-written).',
  );
  o += `collector_agent_series_skipped_total ${b.seriesSkipped}\n`;
  o += fam(
    'collector_agent_queue_points',
    'gauge',
    'Points waiting to be forwarded (the request in flight included).',
  );
  o += `collector_agent_queue_points ${live.queuePoints}\n`;
  o += fam(
    'collector_agent_queue_batches',
    'gauge',
    'Requests waiting to be forwarded (the one in flight included).',
  );
  o += `collector_agent_queue_batches ${live.queueBatches}\n`;
  o += fam(
    'collector_agent_requests_total',
    'counter',
    'Forward attempts by outcome (HTTP status, error, timeout).',
  );
  for (const [k, v] of [...b.requests].sort()) o += `collector_agent_requests_total{outcome="${k}"} ${v}\n`;
  o += fam('collector_agent_retries_total', 'counter', 'Forward attempts that were retries.');
  o += `collector_agent_retries_total ${b.retries}\n`;
  o += fam(
    'collector_agent_retry_after_honoured_total',
    'counter',
    "Retries that waited the central collector's Retry-After.",
  );
  o += `collector_agent_retry_after_honoured_total ${b.retryAfterHonoured}\n`;
  o += fam(
    'collector_agent_tally_total',
    'counter',
    'Counter increments of the --forward-tally families by stage: received (accepted lines), aggregated, forwarded, dropped_<reason>.',
  );
  o += `collector_agent_tally_total{stage="received"} ${live.tallyReceived}\n`;
  o += `collector_agent_tally_total{stage="aggregated"} ${b.tallyAggregated}\n`;
  o += `collector_agent_tally_total{stage="forwarded"} ${b.tallyForwarded}\n`;
  for (const r of AGENT_DROP_REASONS)
    o += `collector_agent_tally_total{stage="dropped_${r}"} ${b.tallyDropped[r]}\n`;
  o += fam(
    'collector_agent_tally_queued',
    'gauge',
    'Counter increments of the --forward-tally families waiting to be forwarded.',
  );
  o += `collector_agent_tally_queued ${live.queueTally}\n`;
  return o;
}
