import { type AgentFinals, type AgentPodOutcome, agentPullLossCauses } from '../../analysis/agent-causes.ts';
import { attributeLoss } from '../../analysis/causes.ts';
import type { LossCause } from '../../core/record.ts';
import type { Cell } from '../grid.ts';
import { pct } from '../harness.ts';
import { detectedAfter, type RemoteWriteDelta, type Signals } from './agent-signals.ts';

// #29, the agents column's cells, pure: detection (agent-signals.ts), the orders lost by cause — the causes
// sum to the cell's loss exactly — and the words. Counters are cumulative, so an outage that the agents
// catch up after loses nothing in orders: the samples of the outage arrive late (or are dropped, counted by
// the agents' remote-write counters), and the cell says which.

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const s1 = (s: number) => `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;

/** One pod at the cut-off: its ledger then, what the central store holds, and how its last scrapes went. */
export interface PodAtCutoff {
  pod: string;
  host: string;
  agent: string;
  /** Its ledger's orders at the cut-off (a kill: also at the kill). */
  emitted: number;
  atKill?: number;
  /** Its orders_total in the central store (max over the run); null = the store did not answer for it. */
  stored: number | null;
  /** Its `up` at the central store newer than the cut-off; scraped by its agent after the cut-off. */
  scrapedAfter: boolean | null;
  scrapedByAgent: boolean | null;
}

export const lostOf = (pods: readonly PodAtCutoff[]) =>
  pods.reduce((a, p) => a + Math.max(0, p.emitted - (p.stored ?? 0)), 0);
export const emittedOf = (pods: readonly PodAtCutoff[]) => pods.reduce((a, p) => a + p.emitted, 0);

/** An outage the agents live through: the burst's agent accounting (their remote-write counters at the end). */
export function outageCauses(pods: readonly PodAtCutoff[], finals: AgentFinals): LossCause[] {
  const outcomes: AgentPodOutcome[] = pods.map((p) => ({
    pod: p.pod,
    emitted: p.emitted,
    stored: p.stored,
    scrapedAfterQuiesce: p.scrapedAfter,
    died: false,
    overSampleLimit: false,
    agent: p.agent,
    scrapedByAgent: p.scrapedByAgent,
  }));
  return agentPullLossCauses(lostOf(pods), outcomes, finals, false);
}

/**
 * A killed agent: what its host's pods generated before the kill and the central store lacks died with the
 * agent (its unsent queue, or after its last scrape); what they generated after it, nothing scraped. Exact per
 * pod (two ledger readings); a pod the store did not answer for is `unverified`, whole.
 */
export function deadAgentCauses(pods: readonly PodAtCutoff[]): LossCause[] {
  let unsent = 0;
  let unscraped = 0;
  let unverified = 0;
  for (const p of pods) {
    if (p.stored === null) {
      unverified += p.emitted;
      continue;
    }
    const atKill = p.atKill ?? p.emitted;
    unsent += Math.max(0, Math.min(atKill, p.emitted) - p.stored);
    unscraped += Math.max(0, p.emitted - Math.max(atKill, p.stored));
  }
  const n = pods.length;
  return attributeLoss(lostOf(pods), [
    {
      cause: 'unverified',
      orders: unverified,
      countedBy: 'ledgers (the central store did not answer)',
      estimate: false,
    },
    {
      cause: 'agent-killed-unsent',
      orders: unsent,
      countedBy: `ledger at the kill − stored orders_total (central store), ${n} pod(s)`,
      estimate: false,
    },
    {
      cause: 'agent-dead-unscraped',
      orders: unscraped,
      countedBy: `ledger at the cut-off − ledger at the kill, ${n} pod(s)`,
      estimate: false,
    },
  ]);
}

/** The central store down or one agent cut off: detected how, caught up or dropped, lost by cause. */
export interface OutageFacts {
  what: 'central-down' | 'partition';
  outageS: number;
  signals: Signals;
  rw: RemoteWriteDelta;
  /** Seconds from the store back (heal) until the watched agents' queues caught up; null = not in the bound. */
  caughtUpAfterS: number | null;
  catchUpBoundS: number;
  /** Share of the outage's scrapes the central store holds at the end (%); null = not measured. */
  outageStoredPct: number | null;
  pods: readonly PodAtCutoff[];
  causes: LossCause[];
}

/** "caught up in 3.2 s" / "dropped: …" — what became of the buffered samples, from the agents' counters. */
export function outageOutcome(f: OutageFacts): string {
  const back = f.what === 'central-down' ? 'the store was back' : 'the heal';
  const gone = f.rw.failed + f.rw.dropped;
  const counters = `${fmt(f.rw.retried)} samples retried, ${fmt(f.rw.failed)} failed, ${fmt(f.rw.dropped)} dropped, ${fmt(f.rw.pendingAtEnd)} pending at the end${f.rw.walProblems ? `, ${fmt(f.rw.walProblems)} WAL corruptions/failed truncations` : ''}`;
  const stored =
    f.outageStoredPct === null
      ? ''
      : `; ${f.outageStoredPct.toFixed(0)}% of the outage's scrapes in the central store`;
  const fate =
    gone > 0
      ? `dropped ${fmt(gone)} samples`
      : f.caughtUpAfterS !== null
        ? `buffered in the WAL, caught up ${s1(f.caughtUpAfterS)} after ${back}`
        : `still behind ${s1(f.catchUpBoundS)} after ${back}`;
  return `${fate} (${counters}${stored})`;
}

export function outageCell(variant: string, f: OutageFacts): Cell {
  const det = detectedAfter(f.signals);
  const lost = lostOf(f.pods);
  const emitted = emittedOf(f.pods);
  const lag = f.signals.maxLagS === null ? '' : `; queue up to ${s1(f.signals.maxLagS)} behind its WAL`;
  return {
    column: 'agents',
    variant,
    detectedAfterS: det?.afterS ?? null,
    signal: `${det ? det.by : 'nothing detected it'}; ${outageOutcome(f)}`,
    lostCount: lost,
    lostPct: pct(lost, emitted),
    causes: f.causes,
    detail: `${f.what === 'central-down' ? `central store stopped (SIGSTOP) for ${s1(f.outageS)}` : `one agent's remote write cut for ${s1(f.outageS)} (its scrapes intact)`}${lag}; ${fmt(emitted)} orders generated by the cut-off, ${fmt(emitted - lost)} in the central store`,
  };
}

/** A killed agent: the central store's view of its host's pods, and what they lost. */
export interface DeadAgentFacts {
  agent: string;
  watchS: number;
  signals: Signals;
  /** Age of the newest `up` of its pods at the central store at the end (s). */
  upAgeAtEndS: number | null;
  staleLimitS: number;
  pods: readonly PodAtCutoff[];
  causes: LossCause[];
}

export function deadAgentCell(variant: string, f: DeadAgentFacts): Cell {
  const det = detectedAfter(f.signals);
  const lost = lostOf(f.pods);
  const s = f.signals;
  const stale =
    s.staleUpS !== null
      ? `their newest up was over ${s1(f.staleLimitS)} old from ${s1(s.staleUpS)} (a staleness rule could fire; none ships)`
      : 'their newest up never got stale enough for a staleness rule';
  const central = det
    ? det.by
    : `nothing detected it in ${s1(f.watchS)}: at the central store its pods' up stayed 1 (InstanceDown cannot fire) and stayed in instant queries (5 min lookback)${f.upAgeAtEndS === null ? '' : `, newest ${s1(f.upAgeAtEndS)} old at the end`}`;
  return {
    column: 'agents',
    variant,
    detectedAfterS: det?.afterS ?? null,
    signal: `${central}; ${stale}${s.agentSilentS !== null ? `; only the lab saw ${f.agent}'s /metrics gone (from ${s1(s.agentSilentS)}): nothing in the stack scrapes the agents` : ''}`,
    lostCount: lost,
    lostPct: pct(lost, emittedOf(f.pods)),
    causes: f.causes,
    detail: `${f.agent} SIGKILLed; its host's ${f.pods.length} pods kept running, unscraped: ${fmt(emittedOf(f.pods))} orders generated by the cut-off, ${fmt(emittedOf(f.pods) - lost)} in the central store`,
  };
}
