import { describeError } from '@pushpull/common';
import {
  counterTotal,
  overSampleLimitQuery,
  pullDeliveredByPodQuery,
  pullResetPodsQuery,
  scrapedAfterQuery,
} from '../../analysis/accounting.ts';
import { throwIfAborted } from '../../core/time.ts';
import type { ProducerMember } from '../../runtime/types.ts';
import { type PodStored, type RunContext, storeName } from '../context.ts';
import { windowSeconds } from '../reuse.ts';

// The pull path's delivered total: every pod's order counter as stored in Prometheus, per pod, with how
// the pod's scrapes ended (the loss by cause needs both). A few queries per producer, a retry each: a
// whole-fleet scan can exceed Prometheus' query timeout. The whole accounting has a time budget: pods of
// producers Prometheus cannot answer for within it stay in the denominator as `unverified` (and are
// named), rather than holding the run for as long as an overloaded Prometheus takes.

/** Time budget for the pull path's final totals. */
const PULL_ACCOUNTING_BUDGET_MS = 120_000;

/** One query window over the whole run, evaluated at one instant. */
interface Window {
  nowS: number;
  windowS: number;
  /** From quiesce (plus one interval) to now: the final scrapes, which carry every pod's final total. */
  finalS: number;
  budgetEnd: number;
}

export async function pullDelivered(ctx: RunContext): Promise<void> {
  const { members, notes } = ctx;
  // The cut-off (#24: no pause): every query is evaluated as of now — after quiesce and the final scrapes, with
  // every ledger read (the producers are quiesced, their ledgers final) — so what the store ingests while it
  // answers changes nothing; the producers keep running and being scraped.
  const w: Window = {
    nowS: Date.now() / 1000,
    // On a shared stack never before this run's floor: earlier runs' samples of the same pods (burst/reuse.ts).
    windowS: windowSeconds(
      Date.now(),
      ctx.fleetStartMs,
      Math.ceil((2 * ctx.config.scrapeIntervalMs) / 1000),
      ctx.reuse?.floorMs ?? null,
    ),
    finalS:
      Math.ceil((Date.now() - ctx.collected.quiesceAtMs) / 1000) +
      Math.ceil(ctx.config.scrapeIntervalMs / 1000),
    budgetEnd: Date.now() + PULL_ACCOUNTING_BUDGET_MS,
  };
  notes.push(
    `pull accounting: read from ${storeName(ctx.stack, 'pull')} as of the cut-off ${new Date(w.nowS * 1000).toISOString()} (after the final scrapes, every ledger read); the producers were not paused`,
  );
  if (ctx.config.pull === false) {
    ctx.collected.pullDelivered = { value: 0, from: 'not measured: --pull off (the pods were not scraped)' };
    return;
  }
  const pods: PodStored[] = [];
  const unanswered: string[] = [];
  // A counter resets only when its pod restarts; a burst restarts nothing, so the costly reset scan runs
  // only when a component was seen dead.
  const anyDied = (ctx.probe?.samples ?? []).some((s) => (s.dead?.length ?? 0) > 0);
  let resetPods = 0;
  for (const m of members) {
    const got = await producerPods(ctx, m, w);
    if (got === null) unanswered.push(m.name);
    else if (anyDied) resetPods += await applyResets(ctx, m, w, got);
    pods.push(...(got ?? m.podIds.map((pod) => unverifiedPod(pod, m.name))));
  }
  // Even when Prometheus answered for no producer the run keeps its record: every pull order is then
  // `unverified` — said as such in the verdict — instead of the run failing with no accounting at all.
  ctx.collected.pullOmitted = unanswered;
  ctx.collected.pullPods = pods;
  if (unanswered.length > 0)
    notes.push(
      `pull accounting: Prometheus did not answer for ${unanswered.join(', ')} within the ${PULL_ACCOUNTING_BUDGET_MS / 1000} s budget; their pods' orders stay in the pull path's emitted count as unverified`,
    );
  let from = `${storeName(ctx.stack, 'pull')} (pull's store): Σ over pods of ${pullDeliveredByPodQuery(w.windowS, '<producer>')}`;
  if (resetPods > 0)
    from += ` (+ reset-aware totals from raw samples for ${resetPods} pod(s) whose counters reset)`;
  const value = pods.reduce((a, p) => a + (p.stored ?? 0), 0);
  ctx.collected.pullDelivered = { value, from };
}

function unverifiedPod(pod: string, producer: string): PodStored {
  return { pod, producer, stored: null, scrapedAfterQuiesce: null, overSampleLimit: false };
}

/** Runs one query with a retry within the budget; null when Prometheus did not answer in time. */
async function budgeted<T>(
  ctx: RunContext,
  w: Window,
  what: string,
  q: (timeoutMs: number) => Promise<T>,
): Promise<T | null> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const left = w.budgetEnd - Date.now();
    if (left < 1000) return null;
    try {
      return await q(Math.min(60_000, left));
    } catch (e) {
      throwIfAborted(ctx.signal);
      ctx.progress.note(`${what}: ${describeError(e)}${attempt === 0 ? '; retrying' : ''}`);
    }
  }
  return null;
}

/** One producer's pods: stored totals, scraped after quiesce, over the sample limit. */
async function producerPods(ctx: RunContext, m: ProducerMember, w: Window): Promise<PodStored[] | null> {
  const vec = (expr: string) => (t: number) => ctx.prom(t).vector(expr, w.nowS, ctx.signal);
  // The final scrapes carry every pod's total (a counter): read them over the short window after quiesce,
  // a fraction of the cost of scanning the whole run; only pods missing there need the whole run.
  const recent = await budgeted(
    ctx,
    w,
    `pull total for ${m.name}`,
    vec(pullDeliveredByPodQuery(w.finalS, m.name)),
  );
  if (recent === null) return null;
  const seen = new Set(recent.map((s) => s.metric.pod ?? ''));
  const missing = m.podIds.filter((p) => !seen.has(p));
  const older =
    missing.length === 0
      ? []
      : await budgeted(
          ctx,
          w,
          `pull total (whole run) for ${m.name}`,
          vec(pullDeliveredByPodQuery(w.windowS, m.name, missing)),
        );
  if (older === null) return null;
  const stored = [...recent, ...older];
  const afterS = ctx.collected.quiesceAtMs / 1000;
  const scraped = await budgeted(
    ctx,
    w,
    `final scrapes of ${m.name}`,
    vec(scrapedAfterQuery(afterS, m.name)),
  );
  const limit = ctx.sampleLimit;
  const over =
    limit === null
      ? []
      : ((await budgeted(
          ctx,
          w,
          `sample limit of ${m.name}`,
          vec(overSampleLimitQuery(w.windowS, limit, m.name)),
        )) ?? []);
  const byPod = new Map(stored.map((s) => [s.metric.pod ?? '', Number(s.value[1])]));
  const scrapedPods = scraped === null ? null : new Set(scraped.map((s) => s.metric.pod ?? ''));
  const overPods = new Set(over.map((s) => s.metric.pod ?? ''));
  return m.podIds.map((pod) => ({
    pod,
    producer: m.name,
    stored: byPod.get(pod) ?? 0,
    scrapedAfterQuiesce: scrapedPods === null ? null : scrapedPods.has(pod),
    overSampleLimit: overPods.has(pod),
  }));
}

/**
 * max_over_time undercounts a series that reset (a restarted pod): those pods are counted from raw
 * samples instead. Counter resets are rare and the check is another scan: best effort. Returns how many
 * pods were corrected.
 */
async function applyResets(
  ctx: RunContext,
  m: ProducerMember,
  w: Window,
  pods: PodStored[],
): Promise<number> {
  let reset: Awaited<ReturnType<ReturnType<RunContext['prom']>['vector']>>;
  try {
    reset = await ctx
      .prom(Math.max(1000, Math.min(30_000, w.budgetEnd - Date.now())))
      .vector(pullResetPodsQuery(w.windowS, m.name), w.nowS, ctx.signal);
  } catch (e) {
    throwIfAborted(ctx.signal);
    ctx.notes.push(
      `pull: the counter-reset check of ${m.name} did not complete (${describeError(e)}); its delivered count assumes no pod restarted`,
    );
    return 0;
  }
  // The raw samples scan every order series of the pod: give an overloaded Prometheus time.
  const promFinal = ctx.prom(120_000);
  for (const item of reset.slice(0, 200)) {
    const pod = item.metric.pod ?? '';
    const raw = await promFinal.matrix(
      `orders_total{job="producers",pod="${pod.replace(/"/g, '\\"')}"}[${w.windowS}s]`,
      w.nowS,
      ctx.signal,
    );
    const row = pods.find((p) => p.pod === pod);
    if (row) row.stored = raw.reduce((acc, s) => acc + counterTotal(s.values.map((v) => Number(v[1]))), 0);
  }
  return Math.min(reset.length, 200);
}
