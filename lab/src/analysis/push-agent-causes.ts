import type { LossCause } from '../core/record.ts';
import type { PushAgentReading } from '../core/record-push-agents.ts';
import { attributeLoss, type CauseEstimate, inFlight } from './causes.ts';

// #27: loss by cause on the push path through collector agents (--push-topology agent). Pods send StatsD
// over loopback UDP to the agent on their host; the agent aggregates and forwards OTLP/HTTP deltas to the
// central collector. An order is lost before the agent's socket (send error, the agent's receive buffer),
// at the agent (a refused line, its queue full, forwarding failed after its retries, or it died holding it),
// or at the central receiver (refused points). The agents' books count orders exactly (their tally of the
// `orders` counter by stage); a dead agent's books are its last reading before it died. Pure.

export interface PushAgentLossInput {
  lost: number;
  pushMode: 'per-event' | 'buffered' | 'aggregated' | 'off';
  /** Ledger totals. */
  ordersPushed: number;
  pushEvents: number;
  datagrams: number;
  sendErrors: number;
  /** Every agent's last reading (alive: at the end of the run; dead: the last before it died). */
  agents: readonly PushAgentReading[];
  /** Orders the central collector holds (the path's delivered). */
  delivered: number;
  /** Points the central collector's OTLP receiver refused, by reason. */
  centralRefused: Readonly<Record<string, number>>;
  /** Orders the central collector was still taking in when the lab stopped waiting. */
  centralStillRising: number;
}

const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
const sumOf = (xs: readonly PushAgentReading[], f: (a: PushAgentReading) => number) =>
  xs.reduce((s, a) => s + f(a), 0);
/** What an agent had received of the orders but not forwarded nor dropped (pending or queued). */
export const pushAgentHeld = (a: PushAgentReading) =>
  Math.max(
    0,
    a.orders.received -
      a.orders.forwarded -
      a.orders.droppedQueueFull -
      a.orders.droppedForwardFailed -
      a.orders.droppedTooLarge,
  );

/** Before and at the agents: send errors, their sockets' drops, their refusals (datagrams and lines → orders). */
function beforeForwarding(p: PushAgentLossInput): CauseEstimate[] {
  const perDatagram = p.datagrams > 0 ? p.ordersPushed / p.datagrams : 0;
  const perLine = p.pushMode === 'aggregated' ? (p.pushEvents > 0 ? p.ordersPushed / p.pushEvents : 0) : 1;
  const opd = perDatagram.toFixed(3);
  const drops = sumOf(p.agents, (a) => a.socketDrops ?? 0);
  const out: CauseEstimate[] = [
    {
      cause: 'send-error',
      orders: p.sendErrors * perDatagram,
      countedBy: `${fmt(p.sendErrors)} send errors in the producers' ledgers × ${opd} orders per datagram`,
      estimate: perDatagram !== 1,
    },
    {
      cause: 'agent-rcvbuf',
      orders: drops * perDatagram,
      countedBy: `${fmt(drops)} datagrams the kernel dropped on the agents' sockets (collector_udp_socket_drops_total, /proc/net/udp) × ${opd} orders per datagram`,
      estimate: perDatagram !== 1,
    },
  ];
  const refused: Record<string, number> = {};
  for (const a of p.agents)
    for (const [r, n] of Object.entries(a.refusedLines)) refused[r] = (refused[r] ?? 0) + n;
  for (const [reason, lines] of Object.entries(refused)
    .filter(([, n]) => n > 0)
    .sort((x, y) => y[1] - x[1]))
    out.push({
      cause: `agent-refused:${reason}`,
      orders: lines * perLine,
      countedBy: `${fmt(lines)} lines the agents refused (${reason}) × ${perLine === 1 ? 'at most 1 order per line' : `${perLine.toFixed(3)} orders per line`}`,
      estimate: true,
    });
  return out;
}

/**
 * In order of certainty: send errors, the agents' socket drops and refusals, their exact drops (queue full,
 * forwarding failed), what dead agents held at their last reading, the central receiver's refusals (the
 * orders forwarded but not counted, split by its refused points), then what live agents still held and the
 * central collector still took in (in flight); the rest is unexplained — e.g. what pods sent to an agent
 * after it died, or what it received between its last reading and its death.
 */
export function pushAgentLossCauses(p: PushAgentLossInput): LossCause[] {
  const dead = p.agents.filter((a) => !a.alive);
  const live = p.agents.filter((a) => a.alive);
  const full = sumOf(p.agents, (a) => a.orders.droppedQueueFull);
  const failed = sumOf(p.agents, (a) => a.orders.droppedForwardFailed + a.orders.droppedTooLarge);
  const died = sumOf(dead, pushAgentHeld);
  const estimates: CauseEstimate[] = [
    ...beforeForwarding(p),
    {
      cause: 'agent-queue-full',
      orders: full,
      countedBy: `the agents' books: ${fmt(full)} orders in flushes dropped because the forward queue was full (collector_agent_tally_total{stage="dropped_queue_full"})`,
      estimate: false,
    },
    {
      cause: 'agent-forward-failed',
      orders: failed,
      countedBy: `the agents' books: ${fmt(failed)} orders in batches dropped after their retries or refused outright by the central collector (dropped_forward_failed, dropped_too_large)`,
      estimate: false,
    },
    {
      cause: 'agent-died',
      orders: died,
      countedBy: `the last reading before each died of ${dead.length} agent(s) (${dead.map((a) => a.name).join(', ') || 'none'}): orders received − forwarded − dropped`,
      estimate: false,
    },
  ];
  const forwarded = sumOf(p.agents, (a) => a.orders.forwarded);
  const unstored = Math.max(0, forwarded - p.delivered);
  const reasons = Object.entries(p.centralRefused).filter(([, v]) => v > 0);
  const refusedTotal = reasons.reduce((s, [, v]) => s + v, 0);
  for (const [reason, points] of reasons.sort((a, b) => b[1] - a[1]))
    estimates.push({
      cause: `receiver-refused:${reason}`,
      orders: (unstored * points) / refusedTotal,
      countedBy: `${fmt(points)} points refused by the central collector's OTLP receiver (${reason}): the orders the agents forwarded but it did not count (${fmt(unstored)}), split by refused points`,
      estimate: true,
    });
  const held = sumOf(live, pushAgentHeld);
  if (held > 0)
    estimates.push({
      cause: 'in-flight',
      orders: held,
      countedBy: `still held by ${live.filter((a) => pushAgentHeld(a) > 0).length} live agent(s) at the end (received, not yet forwarded: pending flush or queued)`,
      estimate: false,
    });
  estimates.push(...inFlight(p.centralStillRising));
  return attributeLoss(p.lost, estimates);
}
