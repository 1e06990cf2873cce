import type { LedgerCounts } from '@pushpull/common';
import { pushAgentHeld, pushAgentLossCauses } from '../../analysis/push-agent-causes.ts';
import type { PushAgentReading } from '../../core/record-push-agents.ts';
import type { Cell } from '../grid.ts';
import { pct } from '../harness.ts';
import type { Variant } from '../scenario.ts';
import { PUSH_AGENT_COLUMN, type PushAgentMode } from './push-agent-scenario.ts';

// #27, the push-agent column's cells: pure functions over the agent's books (its self-metrics readings), the
// victim pods' ledger and what the central collector counted for them. Each cell's loss is split by cause
// with the burst's own accounting (analysis/push-agent-causes.ts): the causes sum exactly to the loss.

export type Counts = Required<LedgerCounts>;

/** Forward requests that did not end in a 2xx (connection errors, timeouts, 4xx/5xx), from the books. */
export function failedRequests(r: PushAgentReading): number {
  return Object.entries(r.requests).reduce((s, [outcome, n]) => (outcome === '2xx' ? s : s + n), 0);
}

/** Seconds after the fault at which each signal was first seen (null: not in the window). */
export interface AgentDetection {
  /** The lab saw the agent's process gone (agent-dies). */
  deathSeenS: number | null;
  /** The agent's own books counted a failed forward request. */
  agentSawS: number | null;
  /** PushHeartbeatAbsent fired for one of the host's pods (the central's last-seen went stale). */
  pushAlertS: number | null;
  /** InstanceDown fired for the central collector (its Prometheus scrape). */
  centralAlertS: number | null;
}

export const noDetection = (): AgentDetection => ({
  deathSeenS: null,
  agentSawS: null,
  pushAlertS: null,
  centralAlertS: null,
});

/** Which signals count as the mode's detection: the earliest of them. */
const DETECTORS: Record<PushAgentMode, (keyof AgentDetection)[]> = {
  'agent-dies': ['deathSeenS', 'pushAlertS'],
  'central-down': ['agentSawS', 'centralAlertS'],
  'agent-partition': ['agentSawS', 'pushAlertS'],
};

export function detectedAfter(mode: PushAgentMode, d: AgentDetection): number | null {
  const seen = DETECTORS[mode].map((k) => d[k]).filter((x): x is number => x !== null);
  return seen.length === 0 ? null : Math.min(...seen);
}

const at = (s: number | null, what: string) => (s === null ? null : `${what} after ${s} s`);

/** The signals that were seen, in words, or what was watched and stayed silent. */
export function signalWords(mode: PushAgentMode, d: AgentDetection, agent: string, windowS: number): string {
  const seen = [
    at(d.deathSeenS, `the lab saw ${agent}'s process gone`),
    at(d.agentSawS, `${agent}'s books counted failed forward requests`),
    at(d.pushAlertS, "PushHeartbeatAbsent fired for the host's pods"),
    at(d.centralAlertS, 'InstanceDown fired for the central collector'),
  ].filter((x): x is string => x !== null);
  const silent =
    mode === 'central-down'
      ? d.centralAlertS === null && `no InstanceDown for the central collector in the ${windowS} s window`
      : d.pushAlertS === null && `no PushHeartbeatAbsent in the ${windowS} s window`;
  return [...seen, ...(silent ? [silent] : [])].join('; ') || 'nothing';
}

/** What one cell measured: the victim pods' ledger, the agent's books, what the central counted. */
export interface AgentMeasurement {
  mode: PushAgentMode;
  variant: Variant;
  agent: string;
  host: string;
  pods: number;
  detection: AgentDetection;
  windowS: number;
  /** The victim pods' ledger: at the kill (agent-dies) or quiesced after the fault (the others). */
  emitted: Counts;
  /** The agent's books: its last reading before the kill, or the final one (alive, drained). */
  reading: PushAgentReading;
  /** Orders of the victim pods the central collector counted (central-down: before the stop + after). */
  delivered: number;
  /** central-down: counted before the stop (the restarted collector started empty). */
  deliveredBeforeStop?: number;
  /** Seconds from the end of the outage until the agent's queue was empty (null: never in the wait). */
  caughtUpS?: number | null;
  queuePeakPoints: number;
}

/** The loss, split by cause (the burst's accounting, scoped to one host's pods and its agent). */
export function agentCellCauses(m: AgentMeasurement, lost: number) {
  return pushAgentLossCauses({
    lost,
    pushMode: m.variant.push.mode,
    ordersPushed: m.emitted.ordersPushed,
    pushEvents: m.emitted.pushEvents,
    datagrams: m.emitted.datagrams,
    sendErrors: m.emitted.sendErrors,
    agents: [m.reading],
    delivered: m.delivered,
    centralRefused: {},
    centralStillRising: 0,
  });
}

const n = (v: number) => Math.round(v).toLocaleString('en-US');

function detailOf(m: AgentMeasurement): string {
  const r = m.reading;
  const who = `${m.agent} (beside ${m.host}, ${m.pods} pods)`;
  const flow = `${n(m.emitted.ordersPushed)} orders pushed, ${n(m.delivered)} counted by the central collector`;
  if (m.mode === 'agent-dies')
    return `SIGKILL ${who}: its last reading before the kill held ${n(pushAgentHeld(r))} orders received but not forwarded (pending flush or queued); ${flow} (pushed: up to the kill)`;
  const drops = `dropped ${n(r.orders.droppedQueueFull)} orders with its queue full and ${n(r.orders.droppedForwardFailed)} after its retries`;
  const caught =
    m.caughtUpS === undefined
      ? ''
      : m.caughtUpS === null
        ? '; its queue had not emptied by the end of the wait'
        : `; its queue was empty ${m.caughtUpS} s after the outage ended`;
  const what =
    m.mode === 'central-down'
      ? `the central collector stopped for ${m.windowS} s and restarted empty (${n(m.deliveredBeforeStop ?? 0)} orders counted before the stop, read with every agent's forward path held for that instant)`
      : `${m.agent}'s forward path to the central collector cut for ${m.windowS} s (pods → agent intact)`;
  return `${what}: ${who} queued at most ${n(m.queuePeakPoints)} points, ${n(failedRequests(r))} forward requests failed, ${n(r.retries)} retries, ${drops}${caught}; ${flow}`;
}

export function agentCell(m: AgentMeasurement): Cell {
  const lost = Math.max(0, m.emitted.ordersPushed - m.delivered);
  const over = m.delivered > m.emitted.ordersPushed;
  return {
    column: PUSH_AGENT_COLUMN,
    variant: m.variant.name,
    detectedAfterS: detectedAfter(m.mode, m.detection),
    signal: signalWords(m.mode, m.detection, m.agent, m.windowS),
    lostCount: lost,
    lostPct: pct(lost, m.emitted.ordersPushed),
    detail:
      detailOf(m) +
      (over
        ? ` — the central counted ${n(m.delivered - m.emitted.ordersPushed)} more than were pushed: a request it had counted was reset by the cut and sent again`
        : ''),
    causes: agentCellCauses(m, lost),
  };
}

/** The cell's numbers for the record (metrics; -1 = never). */
export function agentMetrics(m: AgentMeasurement): Record<string, number> {
  const d = m.detection;
  const r = m.reading;
  const out: Record<string, number> = {
    pushAlertAfterS: d.pushAlertS ?? -1,
    agentQueuePeakPoints: m.queuePeakPoints,
    agentFailedRequests: failedRequests(r),
    agentRetries: r.retries,
    queueFullOrders: r.orders.droppedQueueFull,
    forwardFailedOrders: r.orders.droppedForwardFailed,
  };
  if (m.mode === 'agent-dies') {
    out.agentDeathSeenAfterS = d.deathSeenS ?? -1;
    out.agentHeldAtKill = pushAgentHeld(r);
  } else {
    out.agentSawFailureAfterS = d.agentSawS ?? -1;
    out.caughtUpAfterS = m.caughtUpS ?? -1;
    out.outageS = m.windowS;
  }
  if (m.mode === 'central-down') {
    out.centralAlertAfterS = d.centralAlertS ?? -1;
    out.centralCountedBeforeStop = m.deliveredBeforeStop ?? 0;
  }
  return out;
}
