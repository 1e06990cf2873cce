import { availableParallelism, release } from 'node:os';
import { describeError, isLabError } from '@pushpull/common';
import { ledgerTotals, partialAccount } from '../analysis/accounting.ts';
import { evalFailOn, factsOf, parseFailOn } from '../analysis/failon.ts';
import { deriveFirstFailures } from '../analysis/failures.ts';
import { markSparse, observerOf } from '../analysis/observer.ts';
import { measurePeaks } from '../analysis/peaks.ts';
import { selfCheckText, storedOverLimit } from '../analysis/self-check.ts';
import { pushDeliveredCount } from '../analysis/series.ts';
import { partialVerdict, verdictSentence } from '../analysis/verdict.ts';
import { falsePagesOf } from '../analysis/visibility.ts';
import { readRmemMax } from '../core/host.ts';
import {
  type BurstConfig,
  type Environment,
  type FirstFailure,
  type ObserverRecord,
  type PathAccount,
  type Peaks,
  type ProbeSample,
  RUN_SCHEMA,
  type RunRecord,
  type SelfCheckFinding,
} from '../core/record.ts';
import { transportOf } from '../core/transports.ts';
import { predictMeasuredFlushPeak } from '../model/index.ts';
import { capabilitiesOf } from '../runtime/capabilities.ts';
import { pathBudgets } from './budgets.ts';
import type { RunContext } from './context.ts';
import { pushAgentRecordPart, pushAgentSamples } from './push-agents.ts';
import { pullAgentsRecord } from './record-agents.ts';
import { completePaths, withVisibility } from './record-paths.ts';
import { replicasRecord } from './replicas.ts';
import { resourceFacts } from './resources.ts';

// The run record, built from what the phases left in the context: the loss accounting per path (or, for a
// failed run, the last probe values marked partial), datagrams, first failures, peaks, the verdict.

type Paths = Record<'pull' | 'push', PathAccount>;

export function buildRecord(ctx: RunContext, failure: unknown): RunRecord {
  const { config, collected, scrapeTimeoutMs } = ctx;
  const samples = pushAgentSamples(ctx, ctx.probe?.samples ?? []);
  const t0 = ctx.burstAtMs ?? samples[0]?.tMs ?? Date.now();
  const datagrams = datagramsOf(ctx, failure);
  const discounted: { signal: string; reason: string }[] = [];
  const firstFailures = deriveFirstFailures(samples, {
    burstAtMs: t0,
    scrapeTimeoutSeconds: scrapeTimeoutMs / 1000,
    scrapeIntervalSeconds: config.scrapeIntervalMs / 1000,
    sharedNetns: !capabilitiesOf(ctx.runtime.kind).ownNetworkNamespace,
    ...(collected.quiesceAtMs > 0 ? { untilMs: collected.quiesceAtMs } : {}),
    discounted,
  });
  const paths =
    !failure && collected.pullDelivered && collected.pushDelivered !== null
      ? completePaths(ctx, collected.pullDelivered, collected.pushDelivered, firstFailures)
      : withVisibility(ctx, partialPaths(samples, config.pull !== false));
  const peaks = measurePeaks(samples, t0);
  const budgets = pathBudgets(config, samples, collected.collectorSeries ?? lastCollectorSeries(samples));
  const rcvbufBytes = ctx.collected.collectorRcvbuf ?? lastCollectorRcvbuf(samples);
  const facts = resourceFacts(ctx, samples, t0, paths, firstFailures, { budgets, rcvbufBytes });
  const packetsPeak = peaks.collectorPacketsPerSec;
  peaks.model = modelPeak(config, samples, t0, collected.quiesceAtMs || Date.now(), packetsPeak);
  const selfCheck = [...ctx.selfCheck, ...storedOverLimit(budgets)];
  const seen = observe(ctx, samples, t0, paths, firstFailures);
  const verdict0 = verdictOf(ctx, failure, selfCheck, {
    config,
    paths,
    firstFailures,
    peaks,
    scrapeTimeoutSeconds: scrapeTimeoutMs / 1000,
    budgets,
    scrapeIntervalSeconds: config.scrapeIntervalMs / 1000,
    shortfall: facts.generator?.shortfall ?? null,
    unenforced: facts.unenforced,
  });
  const verdict = seen?.note ? `${verdict0}${/[.!?]$/.test(verdict0) ? '' : '.'} ${seen.note}` : verdict0;
  const record: RunRecord = {
    schema: RUN_SCHEMA,
    runId: ctx.runId,
    startedAt: ctx.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    config,
    environment: environmentOf(ctx, samples),
    phases: ctx.phases,
    burstAtMs: t0,
    ...(ctx.open ? { open: ctx.open } : {}),
    ...pushAgentRecordPart(ctx, samples, t0),
    series: samples,
    ledgers: collected.ledgers,
    paths,
    datagrams,
    firstFailures,
    discounted,
    peaks,
    verdict,
    failOn: null,
    error: failure ? describeError(failure) : null,
    interrupted: isInterrupted(failure, ctx),
    budgets,
    falsePages: falsePagesOf(samples, { fromMs: t0, toMs: collected.quiesceAtMs || Date.now() }),
    pullResolution: collected.pullResolution,
    selfCheck,
    ...(facts.resources ? { resources: facts.resources } : {}),
    generator: facts.generator,
    ...(seen ? { observer: seen.observer } : {}),
    pullReplicas: replicasRecord(ctx, samples, t0, paths.pull, firstFailures),
  };
  const agents = pullAgentsRecord(ctx, samples); // #29
  if (agents) record.pullAgents = agents;
  if (config.failOn)
    record.failOn = { expr: config.failOn, met: evalFailOn(parseFailOn(config.failOn), factsOf(record)) };
  return record;
}

/**
 * #24: coverage per probe source over the burst (the open to quiesce, or to now when the run stopped early);
 * failures drawn from a sparse source are marked so, in place; the sentence the verdict ends with.
 */
function observe(
  ctx: RunContext,
  samples: readonly ProbeSample[],
  t0: number,
  paths: Paths,
  firstFailures: FirstFailure[],
): { observer: ObserverRecord; note: string | null } | null {
  if (ctx.burstAtMs === null) return null;
  const perPath = (ctx.config.store ?? 'shared') === 'per-path';
  const toMs = ctx.collected.quiesceAtMs > t0 ? ctx.collected.quiesceAtMs : Date.now();
  const observer = observerOf({ samples, fromMs: t0, toMs, perPath, paths });
  return { observer, note: markSparse(observer, firstFailures, perPath) };
}

/** A failed run: the last probe values, marked as partial (the pull path counts nothing with --pull off). */
function partialPaths(samples: readonly ProbeSample[], pullOn: boolean): Paths {
  const lastWith = <T>(get: (s: ProbeSample) => T | null | undefined): T | null => {
    for (let i = samples.length - 1; i >= 0; i--) {
      const v = get(samples[i]!);
      if (v !== null && v !== undefined) return v;
    }
    return null;
  };
  const partial = ' (PARTIAL: last probe before the run failed)';
  return {
    pull: partialAccount(
      pullOn ? (lastWith((s) => s.ledger?.orders) ?? 0) : 0,
      lastWith((s) => s.pull?.storedOrders) ?? 0,
      `ledgers${partial}`,
      `Prometheus${partial}`,
    ),
    push: partialAccount(
      lastWith((s) => s.ledger?.ordersPushed) ?? 0,
      lastWith(pushDeliveredCount) ?? 0,
      `ledgers${partial}`,
      lastWith(pushDeliveredCount) === null
        ? `no reading of the push path's delivered count before the run failed: the loss shown is an upper bound${partial}`
        : `Prometheus: sum(orders{job="collector"})${partial}`,
    ),
  };
}

/** UDP datagrams sent (ledgers) against received (collector), for a completed UDP push run. */
function datagramsOf(ctx: RunContext, failure: unknown): RunRecord['datagrams'] {
  const { config, collected } = ctx;
  const received = collected.collectorUdpPackets;
  if (failure || !transportOf(config.transport).kernelDrops || config.pushMode === 'off' || received === null)
    return null;
  const sent = ledgerTotals(collected.ledgers).datagrams;
  const datagrams = { sent, received, lost: sent - received };
  if (datagrams.lost < 0)
    ctx.notes.push(
      `ground-truth anomaly: the collector received ${(-datagrams.lost).toLocaleString('en-US')} more UDP datagrams than the producers' ledgers say they sent (${datagrams.sent.toLocaleString('en-US')}); the ledgers' datagram count is wrong, so datagram-level attribution is off for this run`,
    );
  return datagrams;
}

function environmentOf(ctx: RunContext, samples: readonly ProbeSample[]): Environment {
  const placed = ctx.runtime.environment?.();
  return {
    runtime: ctx.runtime.kind,
    cores: availableParallelism(),
    rmemMaxBytes: readRmemMax(),
    kernel: release(),
    node: process.version,
    collectorRcvbufBytes: ctx.collected.collectorRcvbuf ?? lastCollectorRcvbuf(samples),
    prometheusScrapeTimeoutMs: ctx.scrapeTimeoutMs,
    notes: [
      ...ctx.deps.selectionReasons.map((r) => `runtime selection: ${r}`),
      ...ctx.notes,
      ...(placed?.notes ?? []),
    ],
    ...(placed ? { nodes: placed.nodes } : {}),
  };
}

function isInterrupted(failure: unknown, ctx: RunContext): boolean {
  return isLabError(failure, 'LAB_ERR_INTERRUPTED') || ctx.signal.aborted;
}

function lastCollectorSeries(samples: readonly ProbeSample[]): number | null {
  for (let i = samples.length - 1; i >= 0; i--) {
    const v = samples[i]!.collector?.series;
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

function lastCollectorRcvbuf(samples: readonly ProbeSample[]): number | null {
  for (let i = samples.length - 1; i >= 0; i--) {
    const v = samples[i]!.collector?.rcvbufBytes;
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/** Model prediction for flush-synchronised push (aggregated mode), beside the measured peak. */
export function modelPeak(
  config: BurstConfig,
  samples: readonly ProbeSample[],
  burstAtMs: number,
  quiesceAtMs: number,
  measuredPacketsPeak: number | null,
): Peaks['model'] {
  if (config.pushMode !== 'aggregated') return null;
  const inBurst = samples.filter((s) => s.tMs >= burstAtMs && s.tMs <= quiesceAtMs && s.ledger);
  const first = inBurst[0];
  const last = inBurst[inBurst.length - 1];
  if (!first?.ledger || !last?.ledger || last.tMs <= first.tMs) return null;
  const flushes = ((last.tMs - first.tMs) / config.flushIntervalMs) * config.pods;
  const perFlush = (last.ledger.datagrams - first.ledger.datagrams) / Math.max(1, flushes);
  if (!(perFlush >= 1)) return null;
  try {
    const p = predictMeasuredFlushPeak({
      producers: config.pods,
      intervalMs: config.flushIntervalMs,
      meanPacketsPerFlush: perFlush,
      binMs: 1000,
      windowMs: Math.max(60_000, 6 * config.flushIntervalMs),
      jitter: config.jitter,
    });
    return {
      name: 'flush peak',
      value: p.peakRange.median,
      unit: 'packets per 1 s bin',
      measured: measuredPacketsPeak,
      note: `model: ${config.pods} pods × ${perFlush.toFixed(2)} packets per ${config.flushIntervalMs / 1000} s flush, jitter ${config.jitter ? 'on' : 'off'} (range ${Math.round(p.peakRange.min)}–${Math.round(p.peakRange.max)} over ${p.peakRange.seeds} seeds)`,
    };
  } catch {
    return null;
  }
}

/** The run's one-line verdict: withheld when the self-check failed, partial when the run failed. */
function verdictOf(
  ctx: RunContext,
  failure: unknown,
  selfCheck: readonly SelfCheckFinding[],
  input: Parameters<typeof verdictSentence>[0],
): string {
  if (!failure && selfCheck.length > 0)
    return `NO VERDICT: the lab's own check failed (${selfCheckText(selfCheck)}); a limit the record names was not the one in force, so nothing here is a finding about either path`;
  if (!failure) return verdictSentence(input);
  return partialVerdict(describeError(failure).split('\n')[0]!, {
    config: input.config,
    firstFailures: input.firstFailures,
    ...(isInterrupted(failure, ctx)
      ? { interruptedDuring: ctx.phases[ctx.phases.length - 1]?.phase ?? 'start' }
      : {}),
  });
}
