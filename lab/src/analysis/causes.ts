import type { LossCause, LossCauseName } from '../core/record.ts';
import { AGENT_CAUSE_TEXT, type AgentLossCauseName } from '../core/record-agents.ts';
import { type Transport, transportOf } from '../core/transports.ts';

// Loss by cause (DESIGN.md "Ground truth and loss accounting"). Every lost order gets exactly one cause and
// the causes add up to the path's loss, to the order: each cause's measured or estimated count is taken in
// order of certainty, capped at what is still unattributed, and whatever no measurement covers is
// `unexplained` — listed, never hidden. Pure.

/** The fixed cause list (docs: lab/README.md "Loss by cause"). `collector-refused` carries `:<reason>`. */
export const CAUSE_TEXT: Record<LossCauseName | AgentLossCauseName, string> = {
  'kernel-rcvbuf': "dropped by the kernel (the collector's receive buffer was full)",
  'send-error': 'failed to send at the producer',
  'collector-refused': 'refused by the collector',
  'in-flight': 'still in flight when the run ended',
  'target-died': 'died with a pod before its last scrape',
  'scrape-failed': 'its pod was never scraped successfully after the burst',
  'scrape-over-limit': "its pod's scrapes were discarded by sample_limit",
  'prometheus-overloaded': 'Prometheus fell too far behind to scrape its pod again',
  'not-stored': 'scraped but not stored by Prometheus',
  'exporter-dropped': 'dropped by the OTLP exporter after its retries',
  'export-queued': 'recorded in the OpenTelemetry SDK but not exported when the run ended',
  'receiver-refused': "refused by the collector's OTLP receiver",
  unverified: 'could not be verified (Prometheus did not answer for its producer)',
  unexplained: 'not explained by any measured cause',
  'agent-rcvbuf': "dropped by the kernel on the agent's socket (its receive buffer was full)",
  'agent-refused': 'refused by the agent (a line it could not take)',
  'agent-queue-full': 'dropped by the agent: its forward queue was full',
  'agent-forward-failed':
    'dropped by the agent: forwarding to the central collector failed after its retries',
  'agent-died': 'received by an agent that died before forwarding it',
  ...AGENT_CAUSE_TEXT, // #29: the agent tier's (remote-write-pending, …)
};

/** One candidate cause with a raw (possibly fractional, possibly too large) order count. */
export interface CauseEstimate {
  cause: string;
  orders: number;
  countedBy: string;
  estimate: boolean;
}

/**
 * Allocates `lost` orders over `estimates` in the given order (most certain first): each gets
 * min(its rounded estimate, what is left); the rest is `unexplained`. The result sums to `lost` exactly.
 * Causes with 0 orders are dropped, except `unexplained`, which is always listed when anything was lost.
 * A path that lost nothing (or delivered more than it emitted) has no causes.
 */
export function attributeLoss(lost: number, estimates: readonly CauseEstimate[]): LossCause[] {
  if (!(lost > 0)) return [];
  const out: LossCause[] = [];
  let left = Math.round(lost);
  const total = left;
  for (const e of estimates) {
    const want = Math.max(0, Math.round(Number.isFinite(e.orders) ? e.orders : 0));
    const take = Math.min(want, left);
    if (take === 0) continue;
    left -= take;
    const capped =
      take < want ? ` (capped: ${want.toLocaleString('en-US')} estimated, more than the loss left)` : '';
    out.push({
      cause: e.cause,
      orders: take,
      share: take / total,
      countedBy: `${e.estimate ? 'estimate: ' : ''}${e.countedBy}${capped}`,
      estimate: e.estimate,
    });
  }
  out.push({
    cause: 'unexplained',
    orders: left,
    share: left / total,
    countedBy: 'the loss minus every cause above (≥ 0)',
    estimate: false,
  });
  return out;
}

/** What the push path's cause accounting reads: the ledgers' totals and the collector's own counters. */
export interface PushLossInput {
  lost: number;
  pushMode: 'per-event' | 'buffered' | 'aggregated' | 'off';
  transport: Transport;
  /** Ledger totals: orders handed to the push client, lines, datagrams/writes, send errors. */
  ordersPushed: number;
  pushEvents: number;
  datagrams: number;
  sendErrors: number;
  /** Datagrams the collector received over UDP during the run (null: not read, or TCP). */
  datagramsReceived: number | null;
  /** Lines the collector refused during the run, by reason (series limit, parse error, too large, …). */
  refusedLines: Readonly<Record<string, number>>;
  /** Orders the collector was still taking in when the lab stopped waiting (its count was still moving). */
  inFlightOrders: number;
}

/**
 * Push: send errors and kernel drops are datagrams (counted exactly) converted to orders at the run's mean
 * orders per datagram; what reached the collector but was not counted is split over its refusal reasons —
 * bounded by one order per refused line in per-event and buffered mode (each `orders` line carries one
 * order), by the mean orders per line when aggregated; then in-flight; the rest is unexplained.
 */
export function pushLossCauses(p: PushLossInput): LossCause[] {
  const perDatagram = p.datagrams > 0 ? p.ordersPushed / p.datagrams : 0;
  const perLine = p.pushMode === 'aggregated' ? (p.pushEvents > 0 ? p.ordersPushed / p.pushEvents : 0) : 1;
  const estimates: CauseEstimate[] = [];
  const opd = perDatagram.toFixed(3);
  estimates.push({
    cause: 'send-error',
    orders: p.sendErrors * perDatagram,
    countedBy: `${p.sendErrors.toLocaleString('en-US')} send errors in the producers' ledgers × ${opd} orders per datagram`,
    estimate: perDatagram !== 1,
  });
  if (transportOf(p.transport).kernelDrops && p.datagramsReceived !== null) {
    const missing = Math.max(0, p.datagrams - p.sendErrors - p.datagramsReceived);
    estimates.push({
      cause: 'kernel-rcvbuf',
      orders: missing * perDatagram,
      countedBy: `${missing.toLocaleString('en-US')} datagrams sent but never received (ledgers − send errors − collector_packets_total{transport="${p.transport}"}) × ${opd} orders per datagram`,
      estimate: perDatagram !== 1,
    });
  }
  const reasons = Object.entries(p.refusedLines)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  for (const [reason, lines] of reasons)
    estimates.push({
      cause: `collector-refused:${reason}`,
      orders: lines * perLine,
      countedBy: `${lines.toLocaleString('en-US')} lines refused by the collector (${reason}) × ${perLine === 1 ? 'at most 1 order per line' : `${perLine.toFixed(3)} orders per line`}`,
      estimate: true,
    });
  estimates.push(...inFlight(p.inFlightOrders));
  return attributeLoss(p.lost, estimates);
}

/** The collector was still taking orders in when the lab stopped waiting (push, every transport). */
export function inFlight(orders: number): CauseEstimate[] {
  if (!(orders > 0)) return [];
  return [
    {
      cause: 'in-flight',
      orders,
      countedBy: "the collector's count was still rising when the lab stopped waiting",
      estimate: false,
    },
  ];
}

/** One pod of the pull accounting: its ledger, what Prometheus stored, and how its scrapes ended. */
export interface PullPodOutcome {
  pod: string;
  emitted: number;
  /** Its last stored orders_total (reset-aware); null = Prometheus did not answer for its producer. */
  stored: number | null;
  /** Scraped successfully after quiesce (null = unknown). */
  scrapedAfterQuiesce: boolean | null;
  died: boolean;
  overSampleLimit: boolean;
}

/**
 * Pull: counters are cumulative, so one successful scrape after quiesce heals every earlier miss. A pod's
 * loss is therefore explained by how its scrapes ended: it died, its scrapes were discarded by sample_limit,
 * Prometheus fell behind (when it stretched its interval or stopped answering), its scrapes failed, or it
 * was scraped and still not stored. Pods Prometheus did not answer for are `unverified`, whole.
 */
export function pullLossCauses(
  lost: number,
  pods: readonly PullPodOutcome[],
  prometheusOverloaded: boolean,
): LossCause[] {
  const sums = new Map<string, { orders: number; pods: number }>();
  const add = (cause: string, orders: number) => {
    if (!(orders > 0)) return;
    const s = sums.get(cause) ?? { orders: 0, pods: 0 };
    s.orders += orders;
    s.pods += 1;
    sums.set(cause, s);
  };
  for (const p of pods) {
    if (p.stored === null) {
      add('unverified', p.emitted);
      continue;
    }
    const podLost = p.emitted - p.stored;
    if (p.died) add('target-died', podLost);
    else if (p.scrapedAfterQuiesce === true) add('not-stored', podLost);
    else if (p.overSampleLimit) add('scrape-over-limit', podLost);
    else if (prometheusOverloaded) add('prometheus-overloaded', podLost);
    else add('scrape-failed', podLost);
  }
  const order = [
    'unverified',
    'target-died',
    'scrape-over-limit',
    'prometheus-overloaded',
    'scrape-failed',
    'not-stored',
  ];
  const estimates: CauseEstimate[] = order
    .filter((c) => sums.has(c))
    .map((c) => {
      const s = sums.get(c)!;
      return {
        cause: c,
        orders: s.orders,
        countedBy:
          c === 'unverified'
            ? `ledgers of ${s.pods} pod(s) whose producer Prometheus did not answer for`
            : `ledger − stored orders_total of ${s.pods} pod(s)`,
        estimate: false,
      };
    });
  return attributeLoss(lost, estimates);
}

/** The biggest cause (ties: the earlier, i.e. the more certain one), or null when nothing was lost. */
export function dominantCause(causes: readonly LossCause[]): LossCause | null {
  let best: LossCause | null = null;
  for (const c of causes) if (c.orders > 0 && (!best || c.orders > best.orders)) best = c;
  return best;
}

/** "refused by the collector (series-limit)" — a cause in words for headlines and tables. */
export function causeText(cause: string): string {
  const [name, reason] = cause.split(':', 2) as [LossCauseName, string | undefined];
  const base = CAUSE_TEXT[name] ?? cause;
  return reason ? `${base} (${reason})` : base;
}
