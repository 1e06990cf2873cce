import type { ProbeSample, RunRecord } from '../core/record.ts';
import type { TrialOutcome } from './search.ts';

// When a trial holds, read from its finished run record (the verdict's own measures: accounting, peaks,
// visibility, first failures — nothing re-derived). Pure. Machine checks come first: a trial where the
// load generator fell behind or the host ran out of memory says nothing about the path.

export interface Criteria {
  /** push: loss ≤ this % of orders (--max-push-loss). */
  maxPushLossPct: number;
  /** pull: scrape p99 ≤ this fraction of the scrape timeout (--max-scrape-p99, of the timeout). */
  maxScrapeP99Fraction: number;
  /** pull: stored data trails the orders by ≤ this many scrape intervals at p90 (--max-visibility-lag). */
  maxVisibilityIntervals: number;
  /** Machine: more than this % of the scheduled orders unsent = the load generator fell behind. */
  maxUnsentPct: number;
  /** Machine: the host's MemAvailable under this many bytes = memory gave out. */
  minHostMemAvailableBytes: number;
  /** Pushgateway: push latency p99 ≤ this many seconds. */
  maxPushLatencyP99S: number;
}

export const DEFAULT_CRITERIA: Criteria = Object.freeze({
  maxPushLossPct: 1,
  maxScrapeP99Fraction: 0.5,
  maxVisibilityIntervals: 2,
  maxUnsentPct: 5,
  minHostMemAvailableBytes: 2 ** 30,
  maxPushLatencyP99S: 1,
});

export type BurstPath = 'pull' | 'push';

/**
 * Orders the profile schedules in the burst window for this fleet: the fitted ramp (linear), hold, decay
 * (linear) and the after-rate for the rest of the window, scaled by pods / fleet pods. null without a profile.
 */
export function scheduledBurstOrders(c: RunRecord['config']): number | null {
  const p = c.profile;
  if (!p || !(c.durationMs > 0)) return null;
  const rest = Math.max(0, c.durationMs - p.rampMs - p.holdMs - p.decayMs);
  const fleetOrders =
    (((p.steadyOrdersPerSecond + p.peakOrdersPerSecond) / 2) * p.rampMs +
      p.peakOrdersPerSecond * p.holdMs +
      ((p.peakOrdersPerSecond + p.afterOrdersPerSecond) / 2) * p.decayMs +
      p.afterOrdersPerSecond * rest) /
    1000;
  return (fleetOrders * c.pods) / c.fleetPods;
}

/** The ledger reading (every producer answered) nearest to `tMs`. */
function ledgerAt(samples: readonly ProbeSample[], tMs: number, producers: number): number | null {
  let best: ProbeSample | null = null;
  for (const s of samples) {
    if (!s.ledger || s.ledgerProducers < producers) continue;
    if (!best || Math.abs(s.tMs - tMs) < Math.abs(best.tMs - tMs)) best = s;
  }
  return best && Math.abs(best.tMs - tMs) <= 2000 ? best.ledger!.orders : null;
}

/** % of the burst window's scheduled orders the fleet did not generate (null = not measurable). */
export function unsentPct(r: RunRecord): number | null {
  const scheduled = scheduledBurstOrders(r.config);
  const t0 = r.burstAtMs;
  const a = ledgerAt(r.series, t0, r.config.producers);
  const b = ledgerAt(r.series, t0 + r.config.durationMs, r.config.producers);
  if (scheduled === null || !(scheduled > 0) || a === null || b === null) return null;
  return Math.max(0, (100 * (scheduled - (b - a))) / scheduled);
}

/** The machine's share of a trial: the resource that gave out, or null. */
export function machineLimit(r: RunRecord, c: Criteria): { resource: string; value: number } | null {
  const memMin = r.peaks.hostMemAvailableMin ?? null;
  if (memMin !== null && memMin < c.minHostMemAvailableBytes)
    return { resource: 'memory (host MemAvailable, GiB)', value: round(memMin / 2 ** 30, 2) };
  if (r.error?.includes('host memory nearly exhausted'))
    return {
      resource: 'memory (the run stopped: host MemAvailable low)',
      value: round((memMin ?? 0) / 2 ** 30, 2),
    };
  const unsent = unsentPct(r);
  if (unsent !== null && unsent > c.maxUnsentPct)
    return { resource: 'load generator (CPU): % of scheduled orders unsent', value: round(unsent, 1) };
  return null;
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;

/** Mean cores each component group used over the burst window (Δ CPU seconds / seconds). */
export function burstCores(r: RunRecord): Record<string, number> {
  const from = r.burstAtMs;
  const to = from + r.config.durationMs;
  const inWin = r.series.filter((s) => s.cpu && s.tMs >= from && s.tMs <= to);
  const a = inWin[0];
  const b = inWin[inWin.length - 1];
  if (!a?.cpu || !b?.cpu || b.tMs <= a.tMs) return {};
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.cpu)) {
    const before = a.cpu[k];
    if (before !== undefined) out[k] = round((v - before) / ((b.tMs - a.tMs) / 1000), 3);
  }
  return out;
}

/** What each trial keeps for the report and the extrapolation. */
export function trialMetrics(r: RunRecord, path: BurstPath): Record<string, number | null> {
  const a = r.paths[path];
  const timeoutS = r.environment.prometheusScrapeTimeoutMs / 1000;
  const cores = burstCores(r);
  const rss = r.peaks.rssMax ?? {};
  const series = r.series.map((s) => s.pull?.samplesSum ?? null).filter((v): v is number => v !== null);
  const out: Record<string, number | null> = {
    lossPct: a.lossPct === null ? null : round(a.lossPct, 3),
    scrapeP99S: r.peaks.scrapeP99Seconds,
    scrapeTimeoutS: timeoutS,
    visibilityP90S: a.visibility?.p90Seconds ?? null,
    unsentPct: unsentPct(r),
    hostMemMinGiB: r.peaks.hostMemAvailableMin ? round(r.peaks.hostMemAvailableMin / 2 ** 30, 2) : null,
    seriesScraped: series.length > 0 ? Math.max(...series) : null,
    datagramsPerSecPeak: r.peaks.collectorPacketsPerSec,
  };
  for (const [k, v] of Object.entries(cores)) out[`cores.${k}`] = v;
  for (const [k, v] of Object.entries(rss)) out[`rssGiB.${k}`] = round(v / 2 ** 30, 4);
  return out;
}

/**
 * An aborted trial stopped before its ledgers were read at the end: what it emitted and delivered were never
 * settled, so its loss, visibility and unsent share are not figures (the 2026-12-08 default run showed an
 * aborted trial at "-300.782 % lost" and another at "81.965 %"). What the probe saw (CPU, scrape durations,
 * rates) stays as evidence.
 */
const ACCOUNTING = ['lossPct', 'visibilityP90S', 'unsentPct'] as const;
export function withoutAccounting(m: Record<string, number | null>): Record<string, number | null> {
  return { ...m, ...Object.fromEntries(ACCOUNTING.filter((k) => k in m).map((k) => [k, null])) };
}

/** The first path criterion a record fails, with its value; null = held. */
export function pathFailure(
  r: RunRecord,
  path: BurstPath,
  c: Criteria,
): { criterion: string; value: number | string } | null {
  if (r.error && !r.interrupted) return { criterion: 'run failed', value: r.error.split('\n')[0]! };
  const a = r.paths[path];
  if (path === 'push') {
    if (a.lossPct === null) return { criterion: 'push.emitted', value: 0 };
    // Over-delivery (OTLP delta duplicates) is wrong data as much as loss is: it fails by its size too.
    return Math.abs(a.lossPct) > c.maxPushLossPct
      ? { criterion: 'push.lossPct', value: round(a.lossPct, 3) }
      : null;
  }
  const failedScrape = r.firstFailures.find((f) => f.path === 'pull' && f.signal === 'failed-scrape');
  if (failedScrape) return { criterion: 'pull.failedScrapes', value: failedScrape.detail };
  if (a.lost > 0 && a.lossPct !== null) return { criterion: 'pull.lossPct', value: round(a.lossPct, 3) };
  const timeoutS = r.environment.prometheusScrapeTimeoutMs / 1000;
  const p99 = r.peaks.scrapeP99Seconds;
  if (p99 !== null && p99 > c.maxScrapeP99Fraction * timeoutS)
    return { criterion: 'pull.scrapeP99', value: round(p99, 3) };
  const lagLimit = (c.maxVisibilityIntervals * r.config.scrapeIntervalMs) / 1000;
  const vis = a.visibility;
  if (vis && vis.p90Seconds === null) return { criterion: 'pull.visibilityP90', value: 'never caught up' };
  if (vis?.p90Seconds != null && vis.p90Seconds > lagLimit)
    return { criterion: 'pull.visibilityP90', value: round(vis.p90Seconds, 2) };
  return null;
}

/** A finished (or aborted) burst trial → its outcome: machine first, then the path's criteria. */
export function judgeTrial(
  r: RunRecord,
  path: BurstPath,
  c: Criteria,
  o: { aborted: boolean; record: string },
): TrialOutcome {
  const base = { load: r.config.pods, record: o.record, metrics: trialMetrics(r, path) };
  if (o.aborted)
    return {
      ...base,
      metrics: withoutAccounting(base.metrics),
      held: false,
      failedCriterion: null,
      failedValue: null,
      machine: null,
      aborted: true,
    };
  const m = machineLimit(r, c);
  if (m)
    return {
      ...base,
      held: false,
      failedCriterion: `machine: ${m.resource}`,
      failedValue: m.value,
      machine: m.resource,
      aborted: false,
    };
  const f = pathFailure(r, path, c);
  return {
    ...base,
    held: f === null,
    failedCriterion: f?.criterion ?? null,
    failedValue: f?.value ?? null,
    machine: null,
    aborted: false,
  };
}

/** What one Pushgateway step measured (capacity/pusher.ts), as the criteria read it. */
export interface PushStepMeasure {
  ratePerSec: number;
  errors: number;
  latencyP99S: number | null;
  unsentPct: number;
  /** Cores the pusher itself used: near one, it (not the Pushgateway) is the limit. */
  pusherCores: number;
  scrapeMaxS: number | null;
  hostMemMinBytes: number | null;
}

/** The pusher is one Node process: at this many cores its own CPU is the limit. */
export const PUSHER_SATURATED_CORES = 0.9;

/**
 * A Pushgateway step: machine first (host memory; the pusher saturated its core and fell behind), then push
 * errors, latency p99, back-pressure (pushes unsent because every slot waited on the Pushgateway), scrape.
 */
export function judgePushStep(
  m: PushStepMeasure,
  c: Criteria,
  scrapeTimeoutS: number,
): Pick<TrialOutcome, 'held' | 'failedCriterion' | 'failedValue' | 'machine'> {
  const fail = (criterion: string, value: number | string, machine: string | null = null) => ({
    held: false,
    failedCriterion: machine ? `machine: ${machine}` : criterion,
    failedValue: value,
    machine,
  });
  if (m.hostMemMinBytes !== null && m.hostMemMinBytes < c.minHostMemAvailableBytes)
    return fail('', round(m.hostMemMinBytes / 2 ** 30, 2), 'memory (host MemAvailable, GiB)');
  if (m.unsentPct > c.maxUnsentPct && m.pusherCores >= PUSHER_SATURATED_CORES)
    return fail(
      '',
      round(m.unsentPct, 1),
      'pusher (the lab process, one core): % of scheduled pushes unsent',
    );
  if (m.errors > 0) return fail('pushgateway.pushErrors', m.errors);
  if (m.latencyP99S === null) return fail('pushgateway.latencyP99', 'no push completed');
  if (m.latencyP99S > c.maxPushLatencyP99S) return fail('pushgateway.latencyP99', round(m.latencyP99S, 3));
  if (m.unsentPct > c.maxUnsentPct) return fail('pushgateway.backPressureUnsentPct', round(m.unsentPct, 1));
  if (m.scrapeMaxS === null) return fail('pushgateway.scrape', 'no scrape completed');
  if (m.scrapeMaxS > c.maxScrapeP99Fraction * scrapeTimeoutS)
    return fail('pushgateway.scrape', round(m.scrapeMaxS, 3));
  return { held: true, failedCriterion: null, failedValue: null, machine: null };
}
