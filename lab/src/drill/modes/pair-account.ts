import { attributeLoss, type CauseEstimate, causeText, pullLossCauses } from '../../analysis/causes.ts';
import type { LossCause } from '../../core/record.ts';
import { PEER_ALERT, PEER_JOB } from '../../runtime/prometheus-peer.ts';
import type { Cell, ViewAccount } from '../grid.ts';
import { PAIR_COLUMN } from '../pair-scenario.ts';

// #28, the drill's `2 replicas` column, pure: each view of pull's stored orders against the producers' ledgers —
// the merged view a deduplicating querier answers (per pod the larger stored total of the two replicas), the
// surviving replica, and the faulted one — each with its loss by cause summing exactly; what the survivor saw of
// its peer; and the cell.

/** Per pod: a replica's stored orders total (null = the replica did not answer), or the ledgers' orders. */
export type PodTotals = ReadonlyMap<string, number | null>;

/** The causes only the faulted replica has: it stopped storing (words for the report, beside pull's own). */
export const REPLICA_CAUSE_TEXT: Record<string, string> = {
  'replica-died:unscraped':
    "generated before the kill but after the replica's last scrape of its pod (its store stopped)",
  'replica-died:after': 'generated after the kill: nothing scraped it into this replica',
};

/** A cause in words: the replica's own, else pull's. */
export const pairCauseText = (cause: string): string => REPLICA_CAUSE_TEXT[cause] ?? causeText(cause);

const sum = (m: ReadonlyMap<string, number | null>) =>
  [...m.values()].reduce<number>((a, v) => a + (v ?? 0), 0);

const pct = (lost: number, emitted: number) => (emitted > 0 ? (100 * lost) / emitted : null);

/** The merged view: per pod the larger stored total of the replicas that answered for it (null: neither did). */
export function mergeTotals(a: PodTotals, b: PodTotals): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const pod of new Set([...a.keys(), ...b.keys()])) {
    const vs = [a.get(pod), b.get(pod)].filter((v): v is number => typeof v === 'number');
    out.set(pod, vs.length === 0 ? null : Math.max(...vs));
  }
  return out;
}

/** One view's account: what it kept of what was emitted, and the causes of the rest. */
const viewAccount = (
  view: ViewAccount['view'],
  emitted: number,
  kept: number,
  lost: number,
  causes: ViewAccount['causes'],
): ViewAccount => ({ view, emitted, stored: kept, lost, lostPct: pct(lost, emitted), causes });

/**
 * A live view at the end (after quiesce and the final scrapes): pull's causes per pod — a pod it scraped after
 * quiesce and still lacks orders of is `not-stored`, one it did not is `scrape-failed`, one it did not answer
 * for is `unverified`. No pod died in these scenarios.
 */
export function liveAccount(
  view: string,
  ledger: PodTotals,
  stored: PodTotals,
  scrapedAfter: ReadonlySet<string> | null,
): ViewAccount {
  const pods = [...ledger.keys()].map((pod) => ({
    pod,
    emitted: ledger.get(pod) ?? 0,
    stored: stored.has(pod) ? (stored.get(pod) ?? null) : null,
    scrapedAfterQuiesce: scrapedAfter === null ? null : scrapedAfter.has(pod),
    died: false,
    overSampleLimit: false,
  }));
  const emitted = sum(ledger);
  const kept = pods.reduce((a, p) => a + (p.stored ?? 0), 0);
  const lost = Math.max(0, emitted - kept);
  return viewAccount(view, emitted, kept, lost, pullLossCauses(lost, pods, false));
}

/**
 * The killed replica: what it had stored when killed (read just before the kill) against the final ledgers.
 * Each pod's gap splits at the kill: generated before it but after the replica's last scrape, and generated
 * after it. Pods it did not answer for before the kill are `unverified`, whole.
 */
export function killedAccount(
  view: string,
  ledger: PodTotals,
  ledgerAtKill: PodTotals,
  storedAtKill: PodTotals,
): ViewAccount {
  let unverified = 0;
  let unscraped = 0;
  let after = 0;
  let kept = 0;
  for (const [pod, total] of ledger) {
    const emitted = total ?? 0;
    const stored = storedAtKill.get(pod);
    if (stored === null || stored === undefined) {
      unverified += emitted;
      continue;
    }
    const atKill = ledgerAtKill.get(pod) ?? 0;
    kept += stored;
    unscraped += Math.max(0, atKill - stored);
    after += Math.max(0, emitted - Math.max(atKill, stored));
  }
  const emitted = sum(ledger);
  const lost = Math.max(0, emitted - kept);
  const estimates: CauseEstimate[] = [
    {
      cause: 'unverified',
      orders: unverified,
      countedBy: 'ledgers of pods it did not answer for before the kill',
      estimate: false,
    },
    {
      cause: 'replica-died:unscraped',
      orders: unscraped,
      countedBy: 'ledger at the kill − its stored orders_total read just before the kill',
      estimate: false,
    },
    {
      cause: 'replica-died:after',
      orders: after,
      countedBy: 'final ledger − ledger at the kill',
      estimate: false,
    },
  ];
  return viewAccount(view, emitted, kept, lost, attributeLoss(lost, estimates));
}

/** What a pause cost the paused replica besides its final totals: scrapes it never made, orders it showed late. */
export interface PauseGap {
  pauseS: number;
  /** Scrapes of the pods the survivor made over the pause window, and those the paused replica made. */
  survivorScrapes: number;
  pausedScrapes: number;
  /** Orders generated while it was paused: invisible on it until its first scrape after the resume. */
  ordersInGap: number;
}

export const missedScrapes = (g: PauseGap): number => Math.max(0, g.survivorScrapes - g.pausedScrapes);

/** Orders generated between two ledger readings, over every pod. */
export function ordersBetween(before: PodTotals, after: PodTotals): number {
  let n = 0;
  for (const [pod, v] of after) n += Math.max(0, (v ?? 0) - (before.get(pod) ?? 0));
  return n;
}

/** What the surviving replica saw of its peer, in seconds after the fault (null: not in the window). */
export interface PeerDetection {
  /** The survivor scraped its peer before the fault (its `prometheus-peer` series was up). */
  peerScraped: boolean;
  upZeroS: number | null;
  alertS: number | null;
  /** Pause only: seconds after the resume until the survivor saw its peer up again (null: not in the window). */
  backUpAfterResumeS?: number | null;
  windowS: number;
}

/** The signal, in words: what paged, or what the survivor saw without paging, or that nothing could see it. */
export function peerSignal(d: PeerDetection, survivor: string): string {
  if (!d.peerScraped)
    return `nothing detects it: no replica scrapes the other (no ${PEER_JOB} job), so replica ${survivor} cannot see its peer stop`;
  const up = `up{job="${PEER_JOB}"} == 0 on replica ${survivor}`;
  if (d.alertS !== null)
    return `${PEER_ALERT} fired on replica ${survivor} (${up} after ${d.upZeroS ?? '?'} s)`;
  if (d.upZeroS !== null)
    return `${up} after ${d.upZeroS} s; no ${PEER_ALERT} in the ${d.windowS} s window: nothing paged`;
  return `replica ${survivor} saw nothing in the ${d.windowS} s window (its peer's up stayed 1): nothing paged`;
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');

/** "12 not-stored, 3 scrape-failed" — a view's causes, compact. */
export function causesWords(a: ViewAccount): string {
  if (a.lost === 0) return 'lost nothing';
  const causes = a.causes.filter((c: LossCause) => c.orders > 0);
  return `lost ${n(a.lost)} of ${n(a.emitted)}: ${causes.map((c) => `${n(c.orders)} ${pairCauseText(c.cause)}`).join('; ')}`;
}

export interface PairCellInput {
  variant: string;
  kind: 'kill' | 'pause';
  /** The faulted replica's label and component, the survivor's label. */
  victim: { replica: string; component: string };
  survivor: string;
  /** Seconds after the open the fault hit (null: a steady run, no open). */
  afterOpenS: number | null;
  detection: PeerDetection;
  merged: ViewAccount;
  survivorAccount: ViewAccount;
  victimAccount: ViewAccount;
  gap?: PauseGap;
}

/** The `2 replicas` cell: detection by the survivor; the merged view's loss as the cell's; every view's account. */
export function pairCell(i: PairCellInput): Cell {
  const { victim: v, detection: d } = i;
  const when = i.afterOpenS === null ? '' : ` ${i.afterOpenS.toFixed(1)} s after the open (the peak)`;
  const fault =
    i.kind === 'kill'
      ? `replica ${v.replica} (${v.component}) SIGKILLed${when}`
      : `replica ${v.replica} (${v.component}) SIGSTOPped${when} for ${i.gap?.pauseS ?? '?'} s, then SIGCONTed`;
  const gap =
    i.kind === 'kill'
      ? `had stored ${n(i.victimAccount.stored)} when killed and ${causesWords(i.victimAccount)} (its TSDB keeps what it stored; queryable again only after a restart, not measured)`
      : i.gap
        ? `missed ${n(missedScrapes(i.gap))} of ${n(i.gap.survivorScrapes)} pod scrapes over the pause, and ${n(i.gap.ordersInGap)} orders generated meanwhile were invisible on it until its first scrape after the resume${d.backUpAfterResumeS == null ? '' : ` (the survivor saw it up again ${d.backUpAfterResumeS} s after the resume)`}; at the end it ${causesWords(i.victimAccount)}`
        : `at the end ${causesWords(i.victimAccount)}`;
  return {
    column: PAIR_COLUMN,
    variant: i.variant,
    detectedAfterS: d.peerScraped ? d.alertS : null,
    signal: peerSignal(d, i.survivor),
    lostCount: i.merged.lost,
    lostPct: i.merged.lostPct,
    detail: `${fault}. Merged (max across replicas) ${causesWords(i.merged)}; replica ${i.survivor} (survivor) stored ${n(i.survivorAccount.stored)} and ${causesWords(i.survivorAccount)}; replica ${v.replica} ${gap}`,
    accounts: [i.merged, i.survivorAccount, i.victimAccount],
  };
}
