import type { LedgerCounts } from '@pushpull/common';
import type { Cell } from '../grid.ts';
import { pct } from '../harness.ts';
import type { Variant } from '../scenario.ts';

// The OTLP column of "target dies" and "network partition": pure cell builders over the victim's ledger
// (the SDK's own export results) and what the receiver holds for the victim's pods. The exporter reports
// only each export's final outcome; the retries inside one export show as HTTP requests beyond one per
// export (the producer counts every request its pod's agent sends).

export type Counts = Required<LedgerCounts>;

/** What the victim's exporters did between two ledger readings. */
export interface OtlpActivity {
  exports: number;
  exportsFailed: number;
  requests: number;
  requestsRetryable: number;
}

export function otlpActivity(before: Counts, after: Counts): OtlpActivity {
  return {
    exports: after.otlpExports - before.otlpExports,
    exportsFailed: after.otlpExportsFailed - before.otlpExportsFailed,
    requests: after.otlpRequests - before.otlpRequests,
    requestsRetryable: after.otlpRequestsRetryable - before.otlpRequestsRetryable,
  };
}

export const temporalityOf = (v: Variant) => v.push.otlpTemporality ?? 'cumulative';

const alertSignal = (pushAlertS: number | null, windowMs: number) =>
  pushAlertS !== null
    ? "PushHeartbeatAbsent fired (the receiver's last-seen for the pod went stale)"
    : `no alert in the ${Math.round(windowMs / 1000)} s window`;

/** A kill: what was recorded into the SDK since the last successful export died with the process. */
export function otlpKillCell(
  v: Variant,
  pushAlertS: number | null,
  atKill: Counts,
  stored: number,
  windowMs: number,
): Cell {
  const lost = Math.max(0, atKill.ordersPushed - stored);
  return {
    column: v.column,
    variant: v.name,
    detectedAfterS: pushAlertS,
    signal: alertSignal(pushAlertS, windowMs),
    lostCount: lost,
    lostPct: pct(lost, atKill.ordersPushed),
    detail: `OTLP ${temporalityOf(v)}, ${v.push.flushIntervalMs / 1000} s export: ${atKill.ordersPushed} orders recorded into the SDK before the kill, the last successful export carried ${atKill.otlpOrdersExported}, the receiver holds ${stored}; what was recorded since that export (at most one interval) died with the process`,
  };
}

/** A partition: failed exports and retries at the producer; healed (cumulative) or gone (delta) after it. */
export function otlpPartitionCell(
  v: Variant,
  d: { pushAlertS: number | null; producerFailS: number | null },
  act: OtlpActivity,
  final: Counts,
  stored: number,
  windowMs: number,
): Cell {
  const lost = Math.max(0, final.ordersPushed - stored);
  const t = temporalityOf(v);
  const producer =
    d.producerFailS !== null
      ? `; the producer saw its first failed export after ${d.producerFailS} s`
      : act.exportsFailed > 0
        ? '; the producer counted failed exports (read after the heal)'
        : '';
  return {
    column: v.column,
    variant: v.name,
    detectedAfterS: d.pushAlertS,
    signal: alertSignal(d.pushAlertS, windowMs) + producer,
    lostCount: lost,
    lostPct: pct(lost, final.ordersPushed),
    detail: `OTLP ${t}, from the cut to the end: ${act.exportsFailed} of ${act.exports} exports failed after the exporter's retries, ${act.requests} HTTP requests sent (${Math.max(0, act.requests - act.exports)} beyond one per export: retries), ${act.requestsRetryable} answered 429/5xx; ${final.ordersPushed} orders recorded, the receiver holds ${stored}${t === 'cumulative' ? ' — the first export after the heal carried the totals' : " — a failed delta export's points are gone"}`,
  };
}
