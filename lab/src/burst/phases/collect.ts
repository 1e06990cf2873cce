import { httpText } from '../../core/http.ts';
import type { PullResolution } from '../../core/record.ts';
import { collectorSnapshot } from '../../probe/exposition.ts';
import { allProducers, type RunContext } from '../context.ts';
import { collectPushAgents, pushAgentDatagrams } from '../push-agents.ts';
import { agentsFinal } from './agents-final.ts';
import { pullDelivered } from './pull-totals.ts';
import { storedSeries } from './stored-series.ts';

// Collect: the ground truth (every producer's ledger) and what each path delivered; then a last probe
// tick, and the run is done.

export async function collect(ctx: RunContext): Promise<void> {
  const { collected, signal } = ctx;
  await ctx.setPhase('collect');
  collected.ledgers = await allProducers(ctx.members, (c) => c.ledger(signal));
  await agentsFinal(ctx); // #29: the agents' own state at the cut-off (before the central store is asked)
  await pullDelivered(ctx);
  collected.pullResolution = await pullResolution(ctx);
  await storedSeries(ctx);
  await collectPushAgents(ctx);
  await pushDelivered(ctx);
  pushAgentDatagrams(ctx);
  await ctx.probe!.finalTick();
  await ctx.setPhase('done');
}

/** Push delivered: what the collector counted, and the UDP datagrams it received. */
async function pushDelivered(ctx: RunContext): Promise<void> {
  const { collected } = ctx;
  const finalSnap = collectorSnapshot(
    await httpText(`${ctx.stack.collectorHttpUrl}/metrics`, { timeoutMs: 60_000, signal: ctx.signal }),
  );
  collected.pushDelivered = finalSnap.orders ?? 0;
  collected.collectorRefused = finalSnap.refusedByReason ?? null;
  collected.otlpRefused = finalSnap.otlpRefusedByReason ?? null;
  collected.collectorSeries = finalSnap.series;
  collected.collectorUdpPackets = finalSnap.packetsUdp;
  collected.collectorRcvbuf = finalSnap.rcvbufBytes ?? collected.collectorRcvbuf;
}

/**
 * Pull resolution in the burst window: successful scrapes stored per pod between the open and quiesce,
 * against what the interval promises. Best effort (null when Prometheus does not answer).
 */
async function pullResolution(ctx: RunContext): Promise<PullResolution | null> {
  const from = ctx.burstAtMs;
  const to = ctx.collected.quiesceAtMs;
  if (from === null || !(to > from) || ctx.config.pull === false) return null;
  const w = Math.max(1, Math.round((to - from) / 1000));
  const per = `sum_over_time(up{job="producers"}[${w}s])`;
  try {
    const v = await ctx
      .prom(30_000)
      .combined(
        { median: `quantile(0.5, ${per})`, min: `min(${per})`, none: `count(${per} == 0)` },
        ctx.signal,
        to / 1000,
      );
    return {
      expectedPerPod: Math.floor((to - from) / ctx.config.scrapeIntervalMs),
      medianPerPod: v.median ?? null,
      minPerPod: v.min ?? null,
      podsWithNone: v.none ?? (v.min !== null && v.min !== undefined ? 0 : null),
    };
  } catch (e) {
    ctx.notes.push(`pull resolution: Prometheus did not answer (${(e as Error).message})`);
    return null;
  }
}
