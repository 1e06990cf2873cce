// Agent mode's own books: every point a flush takes out of the store ends in exactly one of forwarded,
// refused by the central collector (partial_success), dropped by reason, or still queued; and for the
// --forward-tally families the same in counter increments, beside what the agent received of them:
//   aggregated = forwarded + refused-in-forwarded + dropped(queue_full, forward_failed, too_large) + queued
//   received − forwarded − dropped = what a kill would lose (received, not yet flushed or still queued)

import { family, single } from '../expose/family.ts';

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

/** The books as exposition text (appended to the self-metrics). */
export function renderAgent(b: AgentBooks, live: AgentLive): string {
  const c = 'counter';
  const g = 'gauge';
  let o = single(
    'collector_agent_flushes_total',
    c,
    'Flushes: the store read into OTLP delta points.',
    b.flushes,
  );
  o += single(
    'collector_agent_points_aggregated_total',
    c,
    'Points flushes took out of the store.',
    b.pointsAggregated,
  );
  o += single(
    'collector_agent_points_forwarded_total',
    c,
    'Points the central collector accepted (2xx, minus partial_success rejections).',
    b.pointsForwarded,
  );
  o += single(
    'collector_agent_points_refused_total',
    c,
    'Points the central collector refused (its partial_success.rejected_data_points).',
    b.pointsRefused,
  );
  o += family('collector_agent_points_dropped_total', c, 'Points the agent dropped, by reason.');
  for (const r of AGENT_DROP_REASONS)
    o += `collector_agent_points_dropped_total{reason="${r}"} ${b.pointsDropped[r]}\n`;
  o += single(
    'collector_agent_series_skipped_total',
    c,
    'Series a flush did not forward (sets, OTLP-written).',
    b.seriesSkipped,
  );
  o += single(
    'collector_agent_queue_points',
    g,
    'Points waiting to be forwarded (the request in flight included).',
    live.queuePoints,
  );
  o += single(
    'collector_agent_queue_batches',
    g,
    'Requests waiting to be forwarded (the one in flight included).',
    live.queueBatches,
  );
  o += family(
    'collector_agent_requests_total',
    c,
    'Forward attempts by outcome (HTTP status, error, timeout).',
  );
  for (const [k, v] of [...b.requests].sort()) o += `collector_agent_requests_total{outcome="${k}"} ${v}\n`;
  o += single('collector_agent_retries_total', c, 'Forward attempts that were retries.', b.retries);
  o += single(
    'collector_agent_retry_after_honoured_total',
    c,
    "Retries that waited the central collector's Retry-After.",
    b.retryAfterHonoured,
  );
  o += family(
    'collector_agent_tally_total',
    c,
    'Counter increments of the --forward-tally families by stage: received (accepted lines), aggregated, forwarded, dropped_<reason>.',
  );
  o += `collector_agent_tally_total{stage="received"} ${live.tallyReceived}\n`;
  o += `collector_agent_tally_total{stage="aggregated"} ${b.tallyAggregated}\n`;
  o += `collector_agent_tally_total{stage="forwarded"} ${b.tallyForwarded}\n`;
  for (const r of AGENT_DROP_REASONS)
    o += `collector_agent_tally_total{stage="dropped_${r}"} ${b.tallyDropped[r]}\n`;
  o += single(
    'collector_agent_tally_queued',
    g,
    'Counter increments of the --forward-tally families waiting to be forwarded.',
    live.queueTally,
  );
  return o;
}
