import { describeError } from '@pushpull/common';
import { httpText } from '../../core/http.ts';
import { collectorSnapshot } from '../../probe/exposition.ts';
import type { RunContext } from '../context.ts';
import { lastSamples, type ReuseState, rebase, STORED_RULE_LOOKBACK_MS } from '../reuse.ts';

// A run on a shared stack (deps.stack, burst/reuse.ts): before its fleet starts, what the stack holds from
// earlier runs — the collector's counters, the pull store's last samples of earlier pods — and, before the
// record is built, everything this run measured rebased onto what it produced itself.

/** Reads the baseline; the floor is the run's start (the earlier fleet was stopped before it). */
export async function readReuseBaseline(ctx: RunContext): Promise<ReuseState> {
  const floorMs = ctx.t0Run;
  const t0 = Date.now();
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
      const m = await ctx
        .prom(30_000)
        .matrix(
          `orders_total{job="producers"}[${STORED_RULE_LOOKBACK_MS / 1000}s]`,
          floorMs / 1000,
          ctx.signal,
        );
      lingering = lastSamples(m, floorMs);
    } catch (e) {
      ctx.signal.throwIfAborted();
      ctx.notes.push(
        `shared stack: earlier pods' stored orders could not be read (${describeError(e)}); pull's stored series may include them for up to a minute`,
      );
    }
  ctx.notes.push(
    `shared stack (capacity, #25): Prometheus, the collector and the Pushgateway were kept up from an earlier run; this run read only what it produced — the collector's counters less their values before its fleet started (${collectorBaseline?.orders?.toLocaleString('en-US') ?? 'unread'} orders), Prometheus windows from ${new Date(floorMs).toISOString()} on, and ${lingering.length} earlier pod series taken out of pull's stored total (baseline read in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
  return { floorMs, collectorBaseline, lingering };
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
