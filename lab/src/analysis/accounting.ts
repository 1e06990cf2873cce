import { sumCounts } from '@pushpull/common';
import type { Ledger, LedgerCounts, PathAccount } from '../core/record.ts';

// Loss accounting (DESIGN.md "Ground truth and loss accounting", docs/contracts.md). Pure.
//   pull emitted   = Σ ledger.total.orders          pull delivered = the pods' orders_total as stored in Prometheus
//   push emitted   = Σ ledger.total.ordersPushed    push delivered = Σ `orders` on the collector's /metrics
//   lost = emitted − delivered; loss % = lost / emitted.

export function ledgerTotals(ledgers: readonly Ledger[]): LedgerCounts {
  return sumCounts(ledgers.map((l) => l.total));
}

export function accountPath(
  emitted: number,
  delivered: number,
  emittedFrom: string,
  deliveredFrom: string,
): PathAccount {
  const lost = emitted - delivered;
  return {
    emitted,
    delivered,
    lost,
    lossPct: emitted > 0 ? (lost / emitted) * 100 : null,
    emittedFrom,
    deliveredFrom,
  };
}

/**
 * A path's account from the last probe readings of a run that stopped early. Those readings may hold more
 * than this run emitted (a reused store still holds an earlier trial's orders; the two counts were read at
 * different instants): then there is no loss figure, said so, rather than a negative loss (a capacity trial
 * aborted at its deadline on a reused stack read "-300.782 % lost", 2026-12-08).
 */
export function partialAccount(
  emitted: number,
  delivered: number,
  emittedFrom: string,
  deliveredFrom: string,
): PathAccount {
  const a = accountPath(emitted, delivered, emittedFrom, deliveredFrom);
  if (a.lost >= 0) return a;
  return {
    ...a,
    lost: 0,
    lossPct: null,
    deliveredFrom: `${deliveredFrom}; it read more than this run emitted (earlier data in a reused store, or readings taken at different instants): no loss figure`,
  };
}

/**
 * Total increments of one counter series from its raw samples, across counter resets (a pod that
 * restarted starts again from 0): the value just before every drop, plus the last value.
 */
export function counterTotal(values: readonly number[]): number {
  let total = 0;
  let prev: number | null = null;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (prev !== null && v < prev) total += prev;
    prev = v;
  }
  return total + (prev ?? 0);
}

const escLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
const selector = (container?: string) =>
  container === undefined
    ? 'orders_total{job="producers"}'
    : `orders_total{job="producers",container="${escLabel(container)}"}`;
const win = (s: number) => `[${Math.max(1, Math.ceil(s))}s]`;

/**
 * PromQL for the pull path's delivered orders over a window that ends after the final scrapes: the last
 * stored value of every series. Per producer (`container`) when given: the lab sums one query per producer,
 * so an overloaded Prometheus answers each within its query timeout.
 */
export function pullDeliveredQuery(windowSeconds: number, container?: string): string {
  return `sum(max_over_time(${selector(container)}${win(windowSeconds)}))`;
}

/** The same per pod: `sum by (pod)` of the last stored value of each of its order series. */
export function pullDeliveredByPodQuery(
  windowSeconds: number,
  container?: string,
  pods?: readonly string[],
): string {
  const sel = selector(container);
  const re = (p: string) => escLabel(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const only = pods && pods.length > 0 ? sel.replace(/\}$/, `,pod=~"${pods.map(re).join('|')}"}`) : sel;
  return `sum by (pod) (max_over_time(${only}${win(windowSeconds)}))`;
}

/** Pods whose latest scrape succeeded after `afterS` (epoch seconds): their final counts are stored. */
export function scrapedAfterQuery(afterS: number, container?: string): string {
  const sel =
    container === undefined
      ? 'up{job="producers"}'
      : `up{job="producers",container="${escLabel(container)}"}`;
  // timestamp() of a selector is the sample's time; of an expression (`up == 1`) it is the evaluation time
  // (Prometheus 2.42, measured 2026-12-07), which made every pod up at its last scrape count as scraped after.
  return `(timestamp(${sel}) > ${afterS.toFixed(3)}) and (${sel} == 1)`;
}

/** Pods that exposed more samples than `limit` in a scrape during the window (sample_limit discards those). */
export function overSampleLimitQuery(windowSeconds: number, limit: number, container?: string): string {
  const sel =
    container === undefined
      ? 'scrape_samples_scraped{job="producers"}'
      : `scrape_samples_scraped{job="producers",container="${escLabel(container)}"}`;
  return `max_over_time(${sel}${win(windowSeconds)}) > ${limit}`;
}

/** Pods whose orders_total reset during the window (their max_over_time undercounts; fetched raw instead). */
export function pullResetPodsQuery(windowSeconds: number, container?: string): string {
  return `count by (pod) (resets(${selector(container)}${win(windowSeconds)}) > 0)`;
}

export function formatLossPct(p: number | null): string {
  if (p === null) return 'n/a';
  if (p === 0) return '0%';
  const a = Math.abs(p);
  return `${a < 0.01 ? p.toExponential(1) : a < 10 ? p.toFixed(2) : p.toFixed(1)}%`;
}
