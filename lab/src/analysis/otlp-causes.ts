import type { Ledger, LedgerCounts } from '@pushpull/common';
import type { LossCause } from '../core/record.ts';
import { attributeLoss, type CauseEstimate, inFlight } from './causes.ts';

// Loss by cause on the OTLP push path (transport `otlp`). The producer's ledger knows, per pod, the orders
// it recorded in its MeterProvider and the orders the receiver holds by the SDK's successful exports
// (cumulative: the total of the last successful export; delta: the sum of every successful export's
// delta). So the loss splits exactly into what never left the pod — per pod, dropped by the exporter when
// it reported failed exports (after its own retries), else still queued in the SDK when the run ended —
// and what left it but the collector did not count: the receiver's refusals, by reason. Pure.

/** What the OTLP cause accounting reads. */
export interface OtlpLossInput {
  lost: number;
  temporality: 'cumulative' | 'delta';
  /** The producers' final ledgers (per-pod OTLP counts). */
  ledgers: readonly Ledger[];
  /** Points the collector's receiver refused, by reason (collector_otlp_points_refused_total). */
  refusedPoints: Readonly<Record<string, number>>;
  /** Orders the collector was still taking in when the lab stopped waiting. */
  inFlightOrders: number;
}

interface PodGaps {
  /** Orders recorded but never in a successful export, of pods whose exporter reported failures. */
  dropped: number;
  droppedPods: number;
  failedExports: number;
  /** The same, of pods with no failed export: the SDK still held them. */
  queued: number;
  queuedPods: number;
  /** Orders the successful exports carried, over every pod. */
  exported: number;
}

const n = (v: number | undefined) => (Number.isFinite(v) ? (v as number) : 0);

/** Per pod: recorded − exported, split by whether its exporter reported a failed export. */
export function otlpPodGaps(ledgers: readonly Ledger[]): PodGaps {
  const g: PodGaps = { dropped: 0, droppedPods: 0, failedExports: 0, queued: 0, queuedPods: 0, exported: 0 };
  for (const l of ledgers)
    for (const c of Object.values(l.pods) as LedgerCounts[]) {
      const exported = n(c.otlpOrdersExported);
      g.exported += exported;
      const gap = Math.max(0, n(c.ordersPushed) - exported);
      if (gap === 0) continue;
      if (n(c.otlpExportsFailed) > 0) {
        g.dropped += gap;
        g.droppedPods++;
        g.failedExports += n(c.otlpExportsFailed);
      } else {
        g.queued += gap;
        g.queuedPods++;
      }
    }
  return g;
}

const fmt = (v: number) => Math.round(v).toLocaleString('en-US');

/**
 * In order of certainty: dropped by the exporter, still queued (both exact, from the ledger), then the
 * exported-but-not-counted remainder over the receiver's refusal reasons in proportion to the refused
 * points (an estimate: a refused point carries any number of orders, and with cumulative temporality a
 * refused point is healed by the next accepted one), then in-flight; the rest is unexplained.
 */
export function otlpLossCauses(p: OtlpLossInput): LossCause[] {
  const g = otlpPodGaps(p.ledgers);
  const healed =
    p.temporality === 'cumulative'
      ? 'cumulative: the total of its last successful export'
      : 'delta: the sum of its successful exports';
  const estimates: CauseEstimate[] = [
    {
      cause: 'exporter-dropped',
      orders: g.dropped,
      // An export that timed out at the exporter may still have been processed by the receiver: the gap is
      // then an upper bound, capped at the loss by attributeLoss.
      countedBy: `ledger: orders recorded − orders exported (${healed}) of ${g.droppedPods} pod(s) whose exporter reported ${fmt(g.failedExports)} failed export(s) after its retries (a timed-out export the receiver still processed counts as failed here)`,
      estimate: false,
    },
    {
      cause: 'export-queued',
      orders: g.queued,
      countedBy: `ledger: orders recorded − orders exported of ${g.queuedPods} pod(s) with no failed export (still in the SDK when the run ended)`,
      estimate: false,
    },
  ];
  const reasons = Object.entries(p.refusedPoints)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1]);
  const refusedTotal = reasons.reduce((s, [, v]) => s + v, 0);
  // What left the pods but was not counted: the loss beyond the two ledger gaps.
  const unstored = Math.max(0, p.lost - g.dropped - g.queued);
  for (const [reason, points] of reasons)
    estimates.push({
      cause: `receiver-refused:${reason}`,
      orders: (unstored * points) / refusedTotal,
      countedBy: `${fmt(points)} points refused by the collector's OTLP receiver (${reason}): the exported orders it did not count, split by refused points`,
      estimate: true,
    });
  estimates.push(...inFlight(p.inFlightOrders));
  return attributeLoss(p.lost, estimates);
}
