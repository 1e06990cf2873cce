import type { LossCause } from '../core/record.ts';
import type { AgentLossCauseName, AgentSelf } from '../core/record-agents.ts';
import { attributeLoss, type CauseEstimate, type PullPodOutcome } from './causes.ts';

// #29: the pull path's loss by cause when per-host agents scrape the pods and remote-write to the central
// store. Counters are cumulative, so a pod's loss is what its last sample in the central store lacks; how it
// ended is read at the central store (stored, scraped after quiesce) and at its host's agent: did the agent
// scrape the pod after quiesce (then the samples reached the agent and were lost between it and the central
// store — by the agent's own remote-write counters: pending, failed, dropped, or its WAL), or not (then its
// scrapes failed at the agent, as the central topology's pull causes). Every order once; the causes sum to the
// loss exactly (attributeLoss). Pure.

/** One pod of the agent accounting: the central store's view and its host's agent's. */
export interface AgentPodOutcome extends PullPodOutcome {
  /** Its host's agent. */
  agent: string;
  /** The agent scraped it successfully after quiesce (null = the agent did not answer). */
  scrapedByAgent: boolean | null;
}

/** What the record knows of each agent at the end (its /metrics at the cut-off; null = no answer). */
export type AgentFinals = Readonly<Record<string, AgentSelf | null>>;

const n = (v: number | null | undefined) => v ?? 0;
const fmt = (v: number) => Math.round(v).toLocaleString('en-US');

/** Why an agent's scraped samples did not reach the central store, from its own counters; null = no counter says. */
export function agentShortfall(a: AgentSelf | null): { cause: AgentLossCauseName; why: string } | null {
  if (!a) return null;
  const lag = a.highestTs !== null && a.highestSentTs !== null ? a.highestTs - a.highestSentTs : null;
  if (n(a.samplesPending) > 0 || (lag !== null && lag > 0))
    return {
      cause: 'remote-write-pending',
      why: `${fmt(n(a.samplesPending))} samples pending${lag !== null ? `, newest sent ${lag.toFixed(1)} s behind newest appended` : ''}${n(a.samplesRetried) > 0 ? `, ${fmt(n(a.samplesRetried))} retried` : ''}`,
    };
  if (n(a.samplesFailed) > 0)
    return {
      cause: 'remote-write-failed',
      why: `${fmt(n(a.samplesFailed))} samples failed (non-recoverable)`,
    };
  if (n(a.samplesDropped) > 0)
    return {
      cause: 'remote-write-dropped',
      why: `${fmt(n(a.samplesDropped))} samples dropped from the queue`,
    };
  if (n(a.walCorruptions) + n(a.walTruncationsFailed) > 0)
    return {
      cause: 'wal-corrupt',
      why: `${fmt(n(a.walCorruptions))} WAL corruptions, ${fmt(n(a.walTruncationsFailed))} failed truncations/checkpoints`,
    };
  return null;
}

/** The order in which causes are taken (most certain first), as pullLossCauses' with the agent's in between. */
const ORDER = [
  'unverified',
  'target-died',
  'remote-write-failed',
  'remote-write-dropped',
  'wal-corrupt',
  'remote-write-pending',
  'scrape-over-limit',
  'prometheus-overloaded',
  'scrape-failed',
  'not-stored',
];

/** One pod's cause and the words for how it was counted. */
function podCause(
  p: AgentPodOutcome,
  finals: AgentFinals,
  overloaded: boolean,
): { cause: string; how: string } {
  if (p.stored === null)
    return { cause: 'unverified', how: 'its producer the central store did not answer for' };
  if (p.died) return { cause: 'target-died', how: 'its producer died' };
  // Its samples reached the agent. A queue with several shards sends series out of order, so `up` after quiesce
  // in the central store does not mean its final orders_total arrived: the agent's queue at the end decides.
  if (p.scrapedByAgent === true || p.scrapedAfterQuiesce === true) {
    const s = agentShortfall(finals[p.agent] ?? null);
    if (s) return { cause: s.cause, how: `${p.agent}: ${s.why}` };
  }
  if (p.scrapedAfterQuiesce === true)
    return { cause: 'not-stored', how: 'scraped after quiesce and in the central store' };
  if (p.scrapedByAgent === true)
    return {
      cause: 'unexplained',
      how: `${p.agent} scraped it after quiesce; no remote-write counter moved`,
    };
  if (p.overSampleLimit) return { cause: 'scrape-over-limit', how: `${p.agent}'s scrapes over sample_limit` };
  if (overloaded) return { cause: 'prometheus-overloaded', how: `${p.agent} fell behind its interval` };
  return { cause: 'scrape-failed', how: `${p.agent} did not scrape it successfully after quiesce` };
}

export function agentPullLossCauses(
  lost: number,
  pods: readonly AgentPodOutcome[],
  finals: AgentFinals,
  agentOverloaded: boolean,
): LossCause[] {
  const sums = new Map<string, { orders: number; pods: number; how: Set<string> }>();
  for (const p of pods) {
    const podLost = p.stored === null ? p.emitted : p.emitted - p.stored;
    if (!(podLost > 0)) continue;
    const { cause, how } = podCause(p, finals, agentOverloaded);
    const s = sums.get(cause) ?? { orders: 0, pods: 0, how: new Set<string>() };
    s.orders += podLost;
    s.pods += 1;
    if (s.how.size < 4) s.how.add(how);
    sums.set(cause, s);
  }
  const estimates: CauseEstimate[] = ORDER.filter((c) => sums.has(c)).map((c) => {
    const s = sums.get(c)!;
    return {
      cause: c,
      orders: s.orders,
      countedBy: `${c === 'unverified' ? 'ledgers' : 'ledger − stored orders_total (central store)'} of ${s.pods} pod(s): ${[...s.how].join('; ')}`,
      estimate: false,
    };
  });
  // Pods whose agent scraped them and whose agent's counters explain nothing stay `unexplained`: listed, never hidden.
  return attributeLoss(lost, estimates);
}
