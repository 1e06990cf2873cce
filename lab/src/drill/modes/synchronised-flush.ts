import { httpJson, httpText } from '../../core/http.ts';
import { abortableSleep, mapLimit } from '../../core/time.ts';
import { transportOf } from '../../core/transports.ts';
import { predictMeasuredFlushPeak } from '../../model/index.ts';
import { ControlClient } from '../../probe/control.ts';
import { collectorSnapshot } from '../../probe/exposition.ts';
import { pct, type Stack } from '../harness.ts';
import { otlpCollectorFlags, runOtlpFlush } from './otlp-flush.ts';
import type { DrillMode, ModeOutcome } from './types.ts';

// Scenario 4: aggregated push on a fixed flush interval, jitter off vs on. The collector counts arrivals
// in 100 ms bins itself (GET /debug/arrivals), so the peak is exact and needs no high-frequency polling.
// OTLP variants (transport otlp) measure the receiver's requests instead (otlp-flush.ts).

interface Arrivals {
  binMs: number;
  /** Epoch ms of the start of counts[0]. */
  startMs: number;
  counts: number[];
}

export function binStats(counts: readonly number[]): { peak: number; mean: number; p99: number } {
  if (counts.length === 0) return { peak: 0, mean: 0, p99: 0 };
  const sorted = [...counts].sort((a, b) => a - b);
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(0.99 * (sorted.length - 1)))]!;
  return { peak: sorted[sorted.length - 1]!, mean, p99 };
}

async function run(stack: Stack): Promise<ModeOutcome> {
  if (transportOf(stack.variant.push.transport).sdk) return runOtlpFlush(stack);
  const { scenario: s, variant: v, deps, endpoints } = stack;
  const out: ModeOutcome = { cells: [], metrics: {}, series: {}, notes: [] };
  const before = collectorSnapshot(
    await httpText(`${endpoints.collectorHttpUrl}/metrics`, { timeoutMs: 10_000 }),
  );
  const ledgers0 = await mapLimit(stack.members, 8, (m) => new ControlClient(m.baseUrl).ledger());
  const t0 = Date.now();
  await abortableSleep(s.observeMs, deps.signal);
  const t1 = Date.now();
  const arr = await httpJson<Arrivals>(`${endpoints.collectorHttpUrl}/debug/arrivals`, { timeoutMs: 10_000 });
  const ledgers1 = await mapLimit(stack.members, 8, (m) => new ControlClient(m.baseUrl).ledger());
  const first = Math.max(0, Math.ceil((t0 - arr.startMs) / arr.binMs));
  const last = Math.min(arr.counts.length, Math.floor((t1 - arr.startMs) / arr.binMs));
  const window = arr.counts.slice(first, last);
  const st = binStats(window);
  out.series[`datagrams per ${arr.binMs} ms (${v.name})`] = window.map((c, i) => [(i * arr.binMs) / 1000, c]);

  // Loss over the whole run: stop, flush, let the collector drain, compare with the ledgers.
  const finals = await mapLimit(stack.members, 8, (m) => new ControlClient(m.baseUrl).quiesce(deps.signal));
  await abortableSleep(1500, deps.signal);
  const after = collectorSnapshot(
    await httpText(`${endpoints.collectorHttpUrl}/metrics`, { timeoutMs: 10_000 }),
  );
  const pushed = finals.reduce((a, l) => a + l.total.ordersPushed, 0);
  const delivered = after.orders ?? 0;
  const kernelDrops = (after.kernelRcvbufErrors ?? 0) - (before.kernelRcvbufErrors ?? 0);
  const sent =
    ledgers1.reduce((a, l) => a + l.total.datagrams, 0) - ledgers0.reduce((a, l) => a + l.total.datagrams, 0);
  const flushes = (s.pods * (t1 - t0)) / v.push.flushIntervalMs;
  const perFlush = sent / Math.max(1, flushes);
  const model = predictMeasuredFlushPeak({
    producers: s.pods,
    intervalMs: v.push.flushIntervalMs,
    meanPacketsPerFlush: Math.max(1, perFlush),
    binMs: arr.binMs,
    windowMs: t1 - t0,
    jitter: v.push.jitter,
  });
  out.metrics.peak = st.peak;
  out.metrics.mean = st.mean;
  out.metrics.peakToMean = st.mean > 0 ? st.peak / st.mean : 0;
  out.metrics.modelPeak = model.peakRange.median;
  out.metrics.kernelDrops = kernelDrops;
  out.metrics.datagramsPerFlush = perFlush;
  out.cells.push({
    column: v.column,
    variant: v.name,
    detectedAfterS: null,
    detectable: false,
    signal: `peak ${st.peak} datagrams/${arr.binMs} ms, ${out.metrics.peakToMean.toFixed(1)}× the mean (model: ${Math.round(model.peakRange.median)}); kernel drops ${kernelDrops}`,
    lostCount: Math.max(0, pushed - delivered),
    lostPct: pct(Math.max(0, pushed - delivered), pushed),
    detail: `${s.pods} pods × ~${perFlush.toFixed(1)} datagrams per ${v.push.flushIntervalMs / 1000} s flush, jitter ${v.push.jitter ? 'on' : 'off'}; ${pushed} orders pushed, ${delivered} counted`,
  });
  return out;
}

/** Jitter off vs on, per path: peakVsJitterOn (StatsD datagrams), otlpPeakVsJitterOn (OTLP requests). */
export function combinePeaks(outcomes: ReadonlyMap<string, ModeOutcome>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [prefix, peak, key] of [
    ['', 'peak', 'peakVsJitterOn'],
    ['otlp-', 'otlpPeakRequests', 'otlpPeakVsJitterOn'],
  ] as const) {
    const off = outcomes.get(`${prefix}jitter-off`)?.metrics[peak];
    const on = outcomes.get(`${prefix}jitter-on`)?.metrics[peak];
    if (off !== undefined && on !== undefined && on > 0) out[key] = off / on;
  }
  return out;
}

export const synchronisedFlush: DrillMode = {
  run,
  collectorFlags: otlpCollectorFlags,
  combine: combinePeaks,
};
