import { abortableSleep } from '../../core/time.ts';
import type { Cell } from '../grid.ts';
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

/** Prometheus alone over the window: scrape latency quantiles, bytes per scrape round, producer CPU. */
interface PrometheusWindow {
  p50S: number;
  p99S: number;
  bytesPerRound: number;
  cpuSeconds: number;
  elapsedS: number;
}

/** The synchronised scraper's rounds. */
interface Storm {
  rounds: number;
  latencies: number[];
  startSpreads: number[];
  bytes: number;
  failures: number;
  cpuSeconds: number;
  elapsedS: number;
}

const offsetInInterval = (o: number, intervalMs: number) => ((o % intervalMs) + intervalMs) % intervalMs;

/** When each target's last scrape started (`timestamp(up)`), ms since the epoch. */
async function prometheusOffsets(stack: Stack): Promise<number[]> {
  const ts = await stack.prom.vector('timestamp(up{job="producers"})');
  return ts.map((x) => Number(x.value[1]) * 1000);
}

async function watchPrometheusAlone(stack: Stack, windowMs: number): Promise<PrometheusWindow> {
  const { runtime, prom, deps, members } = stack;
  const names = members.map((m) => m.name);
  const windowS = Math.round(windowMs / 1000);
  const cpu0 = producerCpu(await runtime.cpuSeconds(), names);
  const tp0 = Date.now();
  await abortableSleep(windowMs, deps.signal);
  const cpu1 = producerCpu(await runtime.cpuSeconds(), names);
  const elapsedS = (Date.now() - tp0) / 1000;
  const p50S =
    (await prom.scalar(
      `quantile(0.5, avg_over_time(scrape_duration_seconds{job="producers"}[${windowS}s]))`,
    )) ?? 0;
  const p99S =
    (await prom.scalar(
      `quantile(0.99, max_over_time(scrape_duration_seconds{job="producers"}[${windowS}s]))`,
    )) ?? 0;
  const bytesPerRound =
    (await prom
      .scalar(`sum(avg_over_time(scrape_body_size_bytes{job="producers"}[${windowS}s]))`)
      .catch(() => null)) ?? 0;
  return { p50S, p99S, bytesPerRound, cpuSeconds: cpu1 - cpu0, elapsedS };
}

/** One synchronised round: every target fetched at the same instant; adds to `acc`. */
async function stormRound(targets: readonly string[], intervalMs: number, acc: Storm): Promise<void> {
  const starts: number[] = [];
  await Promise.all(
    targets.map(async (url) => {
      const t = performance.now();
      starts.push(Date.now());
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(intervalMs) });
        acc.bytes += (await res.arrayBuffer()).byteLength;
        acc.latencies.push(performance.now() - t);
      } catch {
        acc.failures++;
      }
    }),
  );
  acc.startSpreads.push(Math.max(...starts) - Math.min(...starts));
}

/** The synchronised scraper, on top of Prometheus' own scraping: every pod at the same instant. */
async function runStorm(stack: Stack, targets: readonly string[], windowMs: number): Promise<Storm> {
  const { scenario: s, runtime, deps, members } = stack;
  const names = members.map((m) => m.name);
  const intervalMs = s.scrapeIntervalMs;
  const rounds = Math.max(1, Math.floor(windowMs / intervalMs));
  const acc: Storm = {
    rounds,
    latencies: [],
    startSpreads: [],
    bytes: 0,
    failures: 0,
    cpuSeconds: 0,
    elapsedS: 0,
  };
  const cpu2 = producerCpu(await runtime.cpuSeconds(), names);
  const ts0 = Date.now();
  for (let r = 0; r < rounds; r++) {
    const roundAt = ts0 + r * intervalMs;
    await abortableSleep(roundAt - Date.now(), deps.signal);
    await stormRound(targets, intervalMs, acc);
  }
  await abortableSleep(ts0 + rounds * intervalMs - Date.now(), deps.signal);
  const cpu3 = producerCpu(await runtime.cpuSeconds(), names);
  acc.elapsedS = (Date.now() - ts0) / 1000;
  acc.cpuSeconds = cpu3 - cpu2;
  return acc;
}

/** The mode's numeric facts, in the order the record has always listed them. */
function stormFacts(intervalMs: number, prom: PrometheusWindow, storm: Storm) {
  const stormStartSpreadMs = quantile(storm.startSpreads, 0.5);
  return {
    prometheusP50Ms: prom.p50S * 1000,
    prometheusP99Ms: prom.p99S * 1000,
    prometheusBytesPerS: prom.bytesPerRound / (intervalMs / 1000),
    producerCpuPctPrometheusOnly: (100 * prom.cpuSeconds) / prom.elapsedS,
    stormP50Ms: quantile(storm.latencies, 0.5),
    stormP99Ms: quantile(storm.latencies, 0.99),
    stormBytesPerS: storm.bytes / storm.elapsedS,
    stormStartSpreadMs,
    stormStartSpreadPctOfInterval: (100 * stormStartSpreadMs) / intervalMs,
    producerCpuPctWithStorm: (100 * storm.cpuSeconds) / storm.elapsedS,
    stormFailures: storm.failures,
  };
}
type StormFacts = ReturnType<typeof stormFacts>;

function stormCells(
  m: StormFacts,
  intervalMs: number,
  spread: number,
  targets: number,
  storm: Storm,
): Cell[] {
  return [
    {
      column: 'pull',
      variant: 'prometheus',
      detectedAfterS: null,
      detectable: false,
      signal: `scrape starts spread over ${spread.toFixed(0)}% of the ${intervalMs / 1000} s interval; p99 ${m.prometheusP99Ms.toFixed(1)} ms; producers ${m.producerCpuPctPrometheusOnly.toFixed(0)}% CPU`,
      lostCount: null,
      lostPct: null,
      detail: `${targets} targets, ${(m.prometheusBytesPerS / 1024).toFixed(0)} KiB/s scraped`,
    },
    {
      column: 'pull',
      variant: 'synchronised',
      detectedAfterS: null,
      detectable: false,
      signal: `all ${targets} fetched within ${m.stormStartSpreadMs.toFixed(0)} ms; p99 ${m.stormP99Ms.toFixed(1)} ms; producers ${m.producerCpuPctWithStorm.toFixed(0)}% CPU (with Prometheus)`,
      lostCount: storm.failures,
      lostPct: null,
      detail: `${storm.rounds} rounds, ${(m.stormBytesPerS / 1024).toFixed(0)} KiB/s at the scraper, ${storm.failures} failed fetches`,
    },
  ];
}

async function run(stack: Stack): Promise<ModeOutcome> {
  const { scenario: s, members } = stack;
  const out: ModeOutcome = { cells: [], metrics: {}, series: {}, notes: [] };
  const intervalMs = s.scrapeIntervalMs;
  const windowMs = s.observeMs / 2;

  // 1. Prometheus alone: where in the interval does each target's scrape start?
  const offsets = await prometheusOffsets(stack);
  const spread = spreadPct(offsets, intervalMs);
  out.metrics.prometheusSpreadPctOfInterval = spread;
  out.series['Prometheus scrape offset within the interval (ms), by target'] = offsets
    .map((o) => offsetInInterval(o, intervalMs))
    .sort((a, b) => a - b)
    .map((o, i) => [i, o]);
  const alone = await watchPrometheusAlone(stack, windowMs);

  // 2. The synchronised scraper, on top of Prometheus' own scraping: every pod at the same instant.
  const targets = members.flatMap((m) => m.podIds.map((id) => `${m.baseUrl}/pods/${id}/metrics`));
  const storm = await runStorm(stack, targets, windowMs);

  const facts = stormFacts(intervalMs, alone, storm);
  Object.assign(out.metrics, facts);
  out.cells.push(...stormCells(facts, intervalMs, spread, targets.length, storm));
  return out;
}

export const scrapeStorm: DrillMode = { run };
