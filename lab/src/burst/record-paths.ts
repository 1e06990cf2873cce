import { accountPath, ledgerTotals } from '../analysis/accounting.ts';
import { type PullPodOutcome, pullLossCauses, pushLossCauses } from '../analysis/causes.ts';
import { otlpLossCauses } from '../analysis/otlp-causes.ts';
import { pushAgentLossCauses } from '../analysis/push-agent-causes.ts';
import { pathCounts, visibilityOf } from '../analysis/visibility.ts';
import type { FirstFailure, PathAccount, PathName, ProbeSample } from '../core/record.ts';
import { transportOf } from '../core/transports.ts';
import type { Collected, RunContext } from './context.ts';
import { agentCauses } from './record-agents.ts';

// Each path's account for a completed run: emitted (every order the fleet emitted: the denominator never
// shrinks), delivered, the loss by cause and the time-to-visibility.

type Paths = Record<PathName, PathAccount>;

/** Signals that mean Prometheus itself fell behind (its unscraped pods' loss is `prometheus-overloaded`). */
const PROMETHEUS_OVERLOAD = new Set(['interval-stretch', 'prometheus-unresponsive']);

export function completePaths(
  ctx: RunContext,
  pullDelivered: NonNullable<Collected['pullDelivered']>,
  pushDelivered: number,
  firstFailures: readonly FirstFailure[],
): Paths {
  const { collected } = ctx;
  const totals = ledgerTotals(collected.ledgers);
  const unverified = collected.pullOmitted.length;
  const pullOff = ctx.config.pull === false; // nothing emitted on a path not measured: lossPct null
  const pull = accountPath(
    pullOff ? 0 : totals.orders,
    pullDelivered.value,
    pullOff
      ? 'not measured: --pull off'
      : unverified === 0
        ? "Σ producers' ledgers: orders (generated)"
        : `Σ producers' ledgers: orders (generated) — all ${collected.ledgers.length} producers, including the ${unverified} Prometheus did not answer for (unverified)`,
    pullDelivered.from,
  );
  pull.causes =
    ctx.config.pullTopology === 'agent'
      ? agentCauses(ctx, pull.lost, podOutcomes(ctx), firstFailures) // #29
      : pullLossCauses(
          pull.lost,
          podOutcomes(ctx),
          firstFailures.some((f) => f.path === 'pull' && PROMETHEUS_OVERLOAD.has(f.signal)),
        );
  const push = accountPath(
    totals.ordersPushed,
    pushDelivered,
    "Σ producers' ledgers: ordersPushed",
    'collector /metrics: Σ of every `orders` series',
  );
  push.causes = ctx.pushAgentReadings
    ? pushAgentLossCauses({
        lost: push.lost,
        pushMode: ctx.config.pushMode,
        ordersPushed: totals.ordersPushed,
        pushEvents: totals.pushEvents,
        datagrams: totals.datagrams,
        sendErrors: totals.sendErrors,
        agents: ctx.pushAgentReadings,
        delivered: pushDelivered,
        centralRefused: collected.otlpRefused ?? {},
        centralStillRising: collected.collectorStillRising,
      })
    : transportOf(ctx.config.transport).accounting === 'otlp-points'
      ? otlpLossCauses({
          lost: push.lost,
          temporality: ctx.config.otlpTemporality ?? 'cumulative',
          ledgers: collected.ledgers,
          refusedPoints: collected.otlpRefused ?? {},
          inFlightOrders: collected.collectorStillRising,
        })
      : pushLossCauses({
          lost: push.lost,
          pushMode: ctx.config.pushMode,
          transport: ctx.config.transport,
          ordersPushed: totals.ordersPushed,
          pushEvents: totals.pushEvents,
          datagrams: totals.datagrams,
          sendErrors: totals.sendErrors,
          datagramsReceived: transportOf(ctx.config.transport).kernelDrops
            ? collected.collectorUdpPackets
            : null,
          refusedLines: collected.collectorRefused ?? {},
          inFlightOrders: collected.collectorStillRising,
        });
  if (push.lost < 0 && transportOf(ctx.config.transport).sdk && ctx.config.otlpTemporality === 'delta')
    push.overDelivery =
      'delta points add up at the receiver: an export the exporter retried after the receiver had already processed it is counted twice';
  return withVisibility(ctx, { pull, push });
}

/** Every pod's ledger against what Prometheus stored for it, and whether its producer died. */
function podOutcomes(ctx: RunContext): (PullPodOutcome & { producer: string })[] {
  const emittedByPod = new Map<string, number>();
  for (const l of ctx.collected.ledgers)
    for (const [pod, c] of Object.entries(l.pods)) emittedByPod.set(pod, c.orders);
  const samples = ctx.probe?.samples ?? [];
  const dead = new Set(samples.flatMap((s) => s.dead ?? []));
  return ctx.collected.pullPods.map((p) => ({
    pod: p.pod,
    producer: p.producer,
    emitted: emittedByPod.get(p.pod) ?? 0,
    stored: p.stored,
    scrapedAfterQuiesce: p.scrapedAfterQuiesce,
    died: dead.has(p.producer),
    overSampleLimit: p.overSampleLimit,
  }));
}

/** Adds each path's time-to-visibility over the burst (the open to quiesce). */
export function withVisibility(ctx: RunContext, paths: Paths): Paths {
  const samples: readonly ProbeSample[] = ctx.probe?.samples ?? [];
  const fromMs = ctx.burstAtMs;
  const toMs = ctx.collected.quiesceAtMs;
  if (fromMs === null || !(toMs > fromMs)) return paths;
  for (const path of ['pull', 'push'] as const) {
    const a = paths[path];
    if (a.emitted === 0) {
      a.visibility = null;
      continue;
    }
    const counts = pathCounts(samples, path, ctx.config.producers);
    const post = ctx.collected.stored[path];
    const stored = post ? post.points.map(([tMs, v]) => ({ tMs, v })) : counts.stored;
    a.visibility = visibilityOf(
      counts.emitted,
      stored,
      { fromMs, toMs },
      a.delivered / a.emitted,
      `each second of the burst: emitted from the ledgers (read every second) against ${post ? post.from : `the live probe of the stored count (every ${Math.max(5, ctx.config.scrapeIntervalMs / 2000)} s, backing off under load)`}; scaled by the final delivery ratio ${(a.delivered / a.emitted).toFixed(4)}`,
      post?.readAtMs,
    );
  }
  return paths;
}
