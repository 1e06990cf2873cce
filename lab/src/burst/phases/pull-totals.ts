import { describeError, LabError } from '@pushpull/common';
import { counterTotal, pullDeliveredQuery, pullResetPodsQuery } from '../../analysis/accounting.ts';
import { throwIfAborted } from '../../core/time.ts';
import type { PromClient } from '../../probe/prom.ts';
import type { ProducerMember } from '../../runtime/types.ts';
import type { RunContext } from '../context.ts';

// The pull path's delivered total: the increase of every pod's order counter as stored in Prometheus.
// One query per producer, a retry each: a whole-fleet scan can exceed Prometheus' query timeout. The
// whole accounting has a time budget: producers Prometheus cannot answer for within it are left out of
// the pull accounting (and named), rather than holding the run for as long as an overloaded Prometheus
// takes.

/** Time budget for the pull path's final totals (one query per producer). */
const PULL_ACCOUNTING_BUDGET_MS = 120_000;

type ResetPods = Awaited<ReturnType<PromClient['vector']>>;

/** One query window over the whole run, evaluated at one instant. */
interface Window {
  nowS: number;
  windowS: number;
  budgetEnd: number;
}

export async function pullDelivered(ctx: RunContext): Promise<void> {
  const { members, notes } = ctx;
  const w: Window = {
    nowS: Date.now() / 1000,
    windowS:
      Math.ceil((Date.now() - ctx.fleetStartMs) / 1000) + Math.ceil((2 * ctx.config.scrapeIntervalMs) / 1000),
    budgetEnd: Date.now() + PULL_ACCOUNTING_BUDGET_MS,
  };
  let value = 0;
  let resetPods: ResetPods = [];
  let resetCheckFailed: unknown = null;
  const unanswered: string[] = [];
  for (const m of members) {
    const got = await producerTotal(ctx, m, w);
    if (got === null) {
      unanswered.push(m.name);
      continue;
    }
    value += got;
    // Counter resets (a restarted pod) are rare and the check is another scan: best effort.
    if (resetCheckFailed === null && w.budgetEnd - Date.now() > 1000) {
      try {
        resetPods = resetPods.concat(await resetPodsOf(ctx, m, w));
      } catch (e) {
        throwIfAborted(ctx.signal);
        resetCheckFailed = e;
      }
    }
  }
  if (unanswered.length === members.length)
    throw new LabError(
      'LAB_ERR_PROMETHEUS',
      `Prometheus could not compute the pull path's stored totals within ${PULL_ACCOUNTING_BUDGET_MS / 1000} s (overloaded)`,
    );
  ctx.collected.pullOmitted = unanswered;
  if (unanswered.length > 0)
    notes.push(
      `pull accounting covers ${members.length - unanswered.length} of ${members.length} producers: Prometheus did not answer for ${unanswered.join(', ')} within the ${PULL_ACCOUNTING_BUDGET_MS / 1000} s budget`,
    );
  let from = `Prometheus: Σ over producers of ${pullDeliveredQuery(w.windowS, '<producer>')}`;
  if (resetCheckFailed)
    notes.push(
      `pull: the counter-reset check did not complete (${describeError(resetCheckFailed)}); delivered assumes no pod restarted`,
    );
  if (resetPods.length > 0) {
    value += await resetCorrection(ctx, resetPods, w);
    from += ` (+ reset-aware totals from raw samples for ${resetPods.length} pod(s) whose counters reset)`;
  }
  ctx.collected.pullDelivered = { value, from };
}

/** One producer's stored total, with one retry within the budget; null when Prometheus did not answer. */
async function producerTotal(ctx: RunContext, m: ProducerMember, w: Window): Promise<number | null> {
  let got: number | null = null;
  for (let attempt = 0; attempt < 2 && got === null; attempt++) {
    const left = w.budgetEnd - Date.now();
    if (left < 1000) break;
    try {
      got =
        (await ctx
          .prom(Math.min(60_000, left))
          .scalar(pullDeliveredQuery(w.windowS, m.name), w.nowS, ctx.signal)) ?? 0;
    } catch (e) {
      throwIfAborted(ctx.signal);
      ctx.progress.note(`pull total for ${m.name}: ${describeError(e)}${attempt === 0 ? '; retrying' : ''}`);
    }
  }
  return got;
}

/** The producer's pods whose order counter reset during the run (a restarted pod). */
function resetPodsOf(ctx: RunContext, m: ProducerMember, w: Window): Promise<ResetPods> {
  return ctx
    .prom(Math.min(30_000, w.budgetEnd - Date.now()))
    .vector(pullResetPodsQuery(w.windowS, m.name), w.nowS, ctx.signal);
}

/** max_over_time undercounts a series that reset (a restarted pod): count those pods from raw samples. */
async function resetCorrection(ctx: RunContext, resetPods: ResetPods, w: Window): Promise<number> {
  // The raw samples scan every order series of the pod: give an overloaded Prometheus time.
  const promFinal = ctx.prom(120_000);
  let delta = 0;
  for (const item of resetPods.slice(0, 200)) {
    const pod = item.metric.pod ?? '';
    const sel = `orders_total{job="producers",pod="${pod.replace(/"/g, '\\"')}"}`;
    const viaMax =
      (await promFinal.scalar(`sum(max_over_time(${sel}[${w.windowS}s]))`, w.nowS, ctx.signal)) ?? 0;
    const raw = await promFinal.matrix(`${sel}[${w.windowS}s]`, w.nowS, ctx.signal);
    const exact = raw.reduce((acc, s) => acc + counterTotal(s.values.map((v) => Number(v[1]))), 0);
    delta += exact - viaMax;
  }
  return delta;
}
