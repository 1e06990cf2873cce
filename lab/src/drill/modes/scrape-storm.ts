import { abortableSleep } from '../../core/time.ts';
import type { Stack } from '../harness.ts';
import type { DrillMode, ModeOutcome } from './types.ts';

// Scenario 5: Prometheus spreads scrapes over the interval (a hashed offset per target, no switch to turn
// it off). Measure that spread from the scrape timestamps it stored, then fetch every pod in the same
// instant each interval (the lab's own naive, synchronised scraper) and compare.

/** Share of the interval the scrape start offsets cover: 100 × (1 − largest circular gap / interval). */
export function spreadPct(offsetsMs: readonly number[], intervalMs: number): number {
  if (offsetsMs.length < 2) return 0;
  const xs = offsetsMs.map((o) => ((o % intervalMs) + intervalMs) % intervalMs).sort((a, b) => a - b);
  let gap = xs[0]! + intervalMs - xs[xs.length - 1]!;
  for (let i = 1; i < xs.length; i++) gap = Math.max(gap, xs[i]! - xs[i - 1]!);
  return 100 * (1 - gap / intervalMs);
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))]!;
}

const producerCpu = (cpu: Record<string, number>, names: readonly string[]) =>
  names.reduce((a, n) => a + (cpu[n] ?? 0), 0);

async function run(stack: Stack): Promise<ModeOutcome> {
  const { scenario: s, runtime, prom, deps, members } = stack;
  const out: ModeOutcome = { cells: [], metrics: {}, series: {}, notes: [] };
  const names = members.map((m) => m.name);
  const intervalMs = s.scrapeIntervalMs;
  const windowMs = s.observeMs / 2;
  const windowS = Math.round(windowMs / 1000);

  // 1. Prometheus alone: where in the interval does each target's scrape start?
  const ts = await prom.vector('timestamp(up{job="producers"})');
  const offsets = ts.map((x) => Number(x.value[1]) * 1000);
  const spread = spreadPct(offsets, intervalMs);
  out.metrics.prometheusSpreadPctOfInterval = spread;
  out.series['Prometheus scrape offset within the interval (ms), by target'] = offsets
    .map((o) => ((o % intervalMs) + intervalMs) % intervalMs)
    .sort((a, b) => a - b)
    .map((o, i) => [i, o]);
  const cpu0 = producerCpu(await runtime.cpuSeconds(), names);
  const tp0 = Date.now();
  await abortableSleep(windowMs, deps.signal);
  const cpu1 = producerCpu(await runtime.cpuSeconds(), names);
  const promElapsed = (Date.now() - tp0) / 1000;
  const promP50 =
    (await prom.scalar(
      `quantile(0.5, avg_over_time(scrape_duration_seconds{job="producers"}[${windowS}s]))`,
    )) ?? 0;
  const promP99 =
    (await prom.scalar(
      `quantile(0.99, max_over_time(scrape_duration_seconds{job="producers"}[${windowS}s]))`,
    )) ?? 0;
  const promBytes =
    (await prom
      .scalar(`sum(avg_over_time(scrape_body_size_bytes{job="producers"}[${windowS}s]))`)
      .catch(() => null)) ?? 0;

  // 2. The synchronised scraper, on top of Prometheus' own scraping: every pod at the same instant.
  const latencies: number[] = [];
  const startSpreads: number[] = [];
  let bytes = 0;
  let failures = 0;
  const targets = members.flatMap((m) => m.podIds.map((id) => `${m.baseUrl}/pods/${id}/metrics`));
  const rounds = Math.max(1, Math.floor(windowMs / intervalMs));
  const cpu2 = producerCpu(await runtime.cpuSeconds(), names);
  const ts0 = Date.now();
  for (let r = 0; r < rounds; r++) {
    const roundAt = ts0 + r * intervalMs;
    await abortableSleep(roundAt - Date.now(), deps.signal);
    const starts: number[] = [];
    await Promise.all(
      targets.map(async (url) => {
        const t = performance.now();
        starts.push(Date.now());
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(intervalMs) });
          bytes += (await res.arrayBuffer()).byteLength;
          latencies.push(performance.now() - t);
        } catch {
          failures++;
        }
      }),
    );
    startSpreads.push(Math.max(...starts) - Math.min(...starts));
  }
  await abortableSleep(ts0 + rounds * intervalMs - Date.now(), deps.signal);
  const cpu3 = producerCpu(await runtime.cpuSeconds(), names);
  const stormElapsed = (Date.now() - ts0) / 1000;

  const m = out.metrics;
  m.prometheusP50Ms = promP50 * 1000;
  m.prometheusP99Ms = promP99 * 1000;
  m.prometheusBytesPerS = promBytes / (intervalMs / 1000);
  m.producerCpuPctPrometheusOnly = (100 * (cpu1 - cpu0)) / promElapsed;
  m.stormP50Ms = quantile(latencies, 0.5);
  m.stormP99Ms = quantile(latencies, 0.99);
  m.stormBytesPerS = bytes / stormElapsed;
  m.stormStartSpreadMs = quantile(startSpreads, 0.5);
  m.stormStartSpreadPctOfInterval = (100 * m.stormStartSpreadMs) / intervalMs;
  m.producerCpuPctWithStorm = (100 * (cpu3 - cpu2)) / stormElapsed;
  m.stormFailures = failures;
  out.cells.push(
    {
      column: 'pull',
      variant: 'prometheus',
      detectedAfterS: null,
      detectable: false,
      signal: `scrape starts spread over ${spread.toFixed(0)}% of the ${intervalMs / 1000} s interval; p99 ${m.prometheusP99Ms.toFixed(1)} ms; producers ${m.producerCpuPctPrometheusOnly.toFixed(0)}% CPU`,
      lostCount: null,
      lostPct: null,
      detail: `${targets.length} targets, ${(m.prometheusBytesPerS / 1024).toFixed(0)} KiB/s scraped`,
    },
    {
      column: 'pull',
      variant: 'synchronised',
      detectedAfterS: null,
      detectable: false,
      signal: `all ${targets.length} fetched within ${m.stormStartSpreadMs.toFixed(0)} ms; p99 ${m.stormP99Ms.toFixed(1)} ms; producers ${m.producerCpuPctWithStorm.toFixed(0)}% CPU (with Prometheus)`,
      lostCount: failures,
      lostPct: null,
      detail: `${rounds} rounds, ${(m.stormBytesPerS / 1024).toFixed(0)} KiB/s at the scraper, ${failures} failed fetches`,
    },
  );
  return out;
}

export const scrapeStorm: DrillMode = { run };
