import { describeError } from '@pushpull/common';
import { httpJson, httpText } from '../../core/http.ts';
import { abortableSleep } from '../../core/time.ts';
import { collectorSnapshot } from '../../probe/exposition.ts';
import type { RunContext } from '../context.ts';
import { lingeringOf, type ReuseState, rebase, STORED_RULE_LOOKBACK_MS } from '../reuse.ts';

// A run on a shared stack (deps.stack, burst/reuse.ts): before its fleet starts, what the stack holds from
// earlier runs — the collector's counters, the pull store's last samples of earlier pods — and, before the
// record is built, everything this run measured rebased onto what it produced itself.

/** Reads the baseline; the floor is the run's start (the earlier fleet was stopped before it). */
export async function readReuseBaseline(ctx: RunContext): Promise<ReuseState> {
  const t0 = Date.now();
  // The earlier fleet's targets must be gone from Prometheus before this fleet starts: a target still
  // scraped after its producer stopped fails (up == 0) on the pod's own series (instance = pod), which this
  // run would count as its failed scrape. The floor is then: every sample before it is an earlier run's.
  if (ctx.config.pull !== false) await oldTargetsGone(ctx);
  const floorMs = Date.now();
  let collectorBaseline = null;
  try {
    collectorBaseline = collectorSnapshot(
      await httpText(`${ctx.stack.collectorHttpUrl}/metrics`, { timeoutMs: 30_000, signal: ctx.signal }),
    );
  } catch (e) {
    ctx.signal.throwIfAborted();
    ctx.notes.push(
      `shared stack: the collector's counters could not be read before the fleet started (${describeError(e)}); push figures include earlier runs'`,
    );
  }
  let lingering: ReuseState['lingering'] = [];
  if (ctx.config.pull !== false)
    try {
      const prom = ctx.prom(30_000);
      const lookback = `[${STORED_RULE_LOOKBACK_MS / 1000}s]`;
      const at = floorMs / 1000;
      const [sums, up] = await Promise.all([
        prom.vector(
          `sum by (pod) (last_over_time(orders_total{job="producers"}${lookback}))`,
          at,
          ctx.signal,
        ),
        prom.matrix(`up{job="producers"}${lookback}`, at, ctx.signal),
      ]);
      lingering = lingeringOf(sums, up, floorMs);
    } catch (e) {
      ctx.signal.throwIfAborted();
      ctx.notes.push(
        `shared stack: earlier pods' stored orders could not be read (${describeError(e)}); pull's stored series may include them for up to a minute`,
      );
    }
  ctx.notes.push(
    `shared stack (capacity, #25): Prometheus, the collector and the Pushgateway were kept up from an earlier run; this run read only what it produced — the collector's counters less their values before its fleet started (${collectorBaseline ? (collectorBaseline.orders ?? 0).toLocaleString('en-US') : 'unread'} orders), Prometheus windows from ${new Date(floorMs).toISOString()} on, and ${lingering.length} earlier pods' stored orders taken out of pull's stored total while the rule still sums them (baseline read in ${((Date.now() - t0) / 1000).toFixed(1)} s); not rebased: the collector's gauges (series held, active sources), alert state and Prometheus' memory carry earlier runs'`,
  );
  return { floorMs, collectorBaseline, lingering };
}

/** Waits (bounded: two scrape intervals + 5 s) until Prometheus lists no target of the producers job. */
async function oldTargetsGone(ctx: RunContext): Promise<void> {
  const until = Date.now() + 2 * ctx.config.scrapeIntervalMs + 5_000;
  let left = -1;
  for (let i = 0; i < 1_000 && Date.now() < until; i++) {
    const r = await httpJson<{ data?: { activeTargets?: { labels?: { job?: string } }[] } }>(
      `${ctx.stack.prometheusUrl}/api/v1/targets?state=active`,
      { timeoutMs: 5_000, signal: ctx.signal },
    ).catch(() => null);
    left = r ? (r.data?.activeTargets ?? []).filter((t) => t.labels?.job === 'producers').length : -1;
    if (left === 0) return;
    await abortableSleep(250, ctx.signal);
  }
  ctx.notes.push(
    `shared stack: ${left < 0 ? 'Prometheus did not list its targets' : `${left} target(s) of the earlier fleet were still listed`} when this fleet started`,
  );
}

/** Rebases what the phases measured onto this run (run.ts calls it before the record is built). */
export function applyReuse(ctx: RunContext): void {
  if (!ctx.reuse) return;
  const c = ctx.collected;
  const m = {
    samples: ctx.probe?.samples ?? [],
    pushDelivered: c.pushDelivered,
    collectorUdpPackets: c.collectorUdpPackets,
    collectorRefused: c.collectorRefused,
    otlpRefused: c.otlpRefused,
    stored: c.stored,
  };
  rebase(m, ctx.reuse, new Set(ctx.members.flatMap((x) => x.podIds)));
  c.pushDelivered = m.pushDelivered;
  c.collectorUdpPackets = m.collectorUdpPackets;
  c.collectorRefused = m.collectorRefused;
  c.otlpRefused = m.otlpRefused;
  c.stored = m.stored;
}
