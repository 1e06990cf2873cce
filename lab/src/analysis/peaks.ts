import type { Peaks, ProbeSample } from '../core/record.ts';
import {
  gaugePeak,
  peak,
  pullDeliveredRate,
  pushDeliveredRate,
  rateSeries,
  socketDropCounter,
  udpDropCounter,
} from './series.ts';

// Measured peaks over the run (pure). The model's prediction is attached by the caller when available.

export function measurePeaks(samples: readonly ProbeSample[], burstAtMs: number): Peaks {
  return {
    pullEmittedPerSec: peak(rateSeries(samples, burstAtMs, (s) => s.ledger?.orders)),
    pullDeliveredPerSec: peak(pullDeliveredRate(samples, burstAtMs)),
    pushEmittedPerSec: peak(rateSeries(samples, burstAtMs, (s) => s.ledger?.ordersPushed)),
    pushDeliveredPerSec: peak(pushDeliveredRate(samples, burstAtMs)),
    collectorPacketsPerSec: peak(rateSeries(samples, burstAtMs, (s) => s.collector?.packets)),
    // The collector's own socket when it tells (exact); else the namespace's counters.
    udpDropsPerSec: peak(
      rateSeries(
        samples,
        burstAtMs,
        samples.some((s) => socketDropCounter(s) !== null) ? socketDropCounter : udpDropCounter,
      ),
    ),
    scrapeP99Seconds: gaugePeak(samples, (s) => s.pull?.scrapeP99),
    scrapeMaxSeconds: gaugePeak(samples, (s) => s.pull?.scrapeMax),
    bodyBytesMax: gaugePeak(samples, (s) => s.pull?.bodyBytesMax),
    samplesPerScrapeMax: gaugePeak(samples, (s) => s.pull?.samplesMax),
    rssMax: rssMax(samples),
    hostMemAvailableMin: gaugeMin(samples, (s) => s.hostMemAvailable),
    model: null,
  };
}

function rssMax(samples: readonly ProbeSample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples)
    for (const [k, v] of Object.entries(s.rss ?? {})) if (!(v <= (out[k] ?? -1))) out[k] = v;
  return out;
}

function gaugeMin(
  samples: readonly ProbeSample[],
  get: (s: ProbeSample) => number | null | undefined,
): number | null {
  let best: number | null = null;
  for (const s of samples) {
    const v = get(s);
    if (v !== null && v !== undefined && Number.isFinite(v) && (best === null || v < best)) best = v;
  }
  return best;
}
