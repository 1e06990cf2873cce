// The burst model: N producers flushing every T ms, each flush a burst of packets, binned over a window.
// Pure: no I/O, no clock; randomness comes from a seeded Rng so every result is repeatable.
//
// Push: producer i flushes at o_i + k·T (k = 0, 1, ... while inside the window). Without jitter every
// o_i = 0, so all flushes of one round land in the same bin; with jitter o_i ~ uniform [0, T).
// Each flush carries a packet count drawn uniformly from the integers [lo, hi) (numpy's randint(lo, hi),
// as the published script does: with 40–80 that is a mean of 59.5, which is what its printed mean of
// ~833 per bin requires; an inclusive 40..80 would give 840 and no-jitter peaks around 84,500).
// The same packet draws are used with and without jitter: jitter only moves packets in time, so the
// mean per bin is identical by construction (the published script drew twice: 833 vs 832).
//
// Pull equivalent: N targets scraped every S ms, each response `bodyBytes` long, all bytes counted in the
// bin where the scrape starts. Without jitter all targets are scraped at offset 0 (the lab's synchronised
// scraper); with jitter offsets are uniform in [0, S) (what Prometheus's per-target hash offsets amount to).

import { LabError, Rng } from '@pushpull/common';
import { type BinStats, binStats, median } from './stats.ts';

export interface BurstModelConfig {
  producers: number;
  intervalMs: number;
  windowMs: number;
  /** Packets per flush: uniform integer in [lo, hi) (numpy randint semantics). */
  packetsPerFlush: readonly [number, number];
  binMs: number;
  seed: number;
  /** Pull equivalent: scrape interval (ms) and response body size (bytes) per target. */
  scrapeIntervalMs: number;
  bodyBytes: number;
}

export const DEFAULT_BURST_CONFIG: Readonly<BurstModelConfig> = Object.freeze({
  producers: 1400,
  intervalMs: 10_000,
  windowMs: 60_000,
  packetsPerFlush: Object.freeze([40, 80]) as readonly [number, number],
  binMs: 100,
  seed: 7,
  scrapeIntervalMs: 10_000,
  bodyBytes: 18 * 1024,
});

/** Upper bounds that keep the model's loops and arrays bounded. */
export const MODEL_LIMITS = Object.freeze({ maxBins: 10_000_000, maxEvents: 20_000_000 });

export interface PathComparison {
  noJitter: BinStats;
  jitter: BinStats;
  /** noJitter.peak / jitter.peak. */
  reduction: number;
  /** Sum over the window without jitter and with jitter (equal when the window is a multiple of the interval). */
  totalNoJitter: number;
  totalJitter: number;
}

export interface BurstModelResult {
  config: BurstModelConfig;
  bins: number;
  /** Packets per bin. */
  push: PathComparison;
  /** Scrape bytes per bin. */
  pull: PathComparison;
}

/** Everything random about one fleet, drawn once: offsets per producer and packets per (producer, flush). */
export interface FleetSchedule {
  producers: number;
  intervalMs: number;
  windowMs: number;
  /** Rounds a producer can fit in the window: ceil(window / interval). */
  maxFlushes: number;
  /** Jittered first-flush offset of producer i, ms in [0, interval). */
  jitterOffsetsMs: Float64Array;
  /** packets[i * maxFlushes + k] = packets in producer i's k-th flush. */
  packets: Uint32Array;
}

function configError(message: string, field: string, value: unknown): LabError {
  return new LabError('LAB_ERR_CONFIG', `burst model: ${message}`, { field, value });
}

function positiveInt(v: number, field: string): void {
  if (!Number.isInteger(v) || v < 1)
    throw configError(`${field} must be a positive integer, got ${v}`, field, v);
}

/** Validates once at the boundary; throws LAB_ERR_CONFIG naming the field and value. */
export function validateBurstConfig(c: BurstModelConfig): BurstModelConfig {
  positiveInt(c.producers, 'producers');
  positiveInt(c.intervalMs, 'intervalMs');
  positiveInt(c.windowMs, 'windowMs');
  positiveInt(c.binMs, 'binMs');
  positiveInt(c.scrapeIntervalMs, 'scrapeIntervalMs');
  if (!Number.isInteger(c.bodyBytes) || c.bodyBytes < 0)
    throw configError(
      `bodyBytes must be a non-negative integer, got ${c.bodyBytes}`,
      'bodyBytes',
      c.bodyBytes,
    );
  if (!Number.isInteger(c.seed)) throw configError(`seed must be an integer, got ${c.seed}`, 'seed', c.seed);
  const [lo, hi] = c.packetsPerFlush;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi <= lo)
    throw configError(
      `packetsPerFlush must be integers 1 <= lo < hi (uniform in [lo, hi)), got [${lo}, ${hi})`,
      'packetsPerFlush',
      [lo, hi],
    );
  const bins = Math.ceil(c.windowMs / c.binMs);
  if (bins > MODEL_LIMITS.maxBins)
    throw configError(`window/bin gives ${bins} bins, more than ${MODEL_LIMITS.maxBins}`, 'binMs', c.binMs);
  const events = Math.max(
    c.producers * Math.ceil(c.windowMs / c.intervalMs),
    c.producers * Math.ceil(c.windowMs / c.scrapeIntervalMs),
  );
  if (events > MODEL_LIMITS.maxEvents)
    throw configError(
      `${events} flushes in the window, more than ${MODEL_LIMITS.maxEvents}`,
      'producers',
      c.producers,
    );
  return c;
}

export function binCount(windowMs: number, binMs: number): number {
  return Math.ceil(windowMs / binMs);
}

/** Draws a fleet's offsets and packet counts. Separate streams, so adding flushes never moves offsets. */
export function drawFleetSchedule(
  c: Pick<BurstModelConfig, 'producers' | 'intervalMs' | 'windowMs' | 'packetsPerFlush' | 'seed'>,
): FleetSchedule {
  const root = new Rng(c.seed);
  const offsetRng = root.fork('flush-offsets');
  const packetRng = root.fork('packets-per-flush');
  const [lo, hi] = c.packetsPerFlush;
  const maxFlushes = Math.ceil(c.windowMs / c.intervalMs);
  const jitterOffsetsMs = new Float64Array(c.producers);
  const packets = new Uint32Array(c.producers * maxFlushes);
  for (let i = 0; i < c.producers; i++) jitterOffsetsMs[i] = offsetRng.next() * c.intervalMs;
  for (let j = 0; j < packets.length; j++) packets[j] = packetRng.int(lo, hi - 1);
  return {
    producers: c.producers,
    intervalMs: c.intervalMs,
    windowMs: c.windowMs,
    maxFlushes,
    jitterOffsetsMs,
    packets,
  };
}

/** Packets per bin for one schedule, with jitter on or off. */
export function binFlushes(s: FleetSchedule, jitter: boolean, binMs: number): Float64Array {
  const bins = new Float64Array(binCount(s.windowMs, binMs));
  for (let i = 0; i < s.producers; i++) {
    const offset = jitter ? s.jitterOffsetsMs[i]! : 0;
    for (let k = 0; k < s.maxFlushes; k++) {
      const t = offset + k * s.intervalMs;
      if (t >= s.windowMs) break;
      bins[Math.floor(t / binMs)]! += s.packets[i * s.maxFlushes + k]!;
    }
  }
  return bins;
}

/** Scrape bytes per bin for N targets × body size, synchronised (offset 0) or jittered. */
export function binScrapes(
  c: Pick<BurstModelConfig, 'producers' | 'scrapeIntervalMs' | 'windowMs' | 'bodyBytes' | 'binMs' | 'seed'>,
  jitter: boolean,
): Float64Array {
  const bins = new Float64Array(binCount(c.windowMs, c.binMs));
  const rng = new Rng(c.seed).fork('scrape-offsets');
  for (let i = 0; i < c.producers; i++) {
    const offset = jitter ? rng.next() * c.scrapeIntervalMs : 0;
    for (let t = offset; t < c.windowMs; t += c.scrapeIntervalMs)
      bins[Math.floor(t / c.binMs)]! += c.bodyBytes;
  }
  return bins;
}

function sum(bins: Float64Array): number {
  let s = 0;
  for (let i = 0; i < bins.length; i++) s += bins[i]!;
  return s;
}

function compare(noJitterBins: Float64Array, jitterBins: Float64Array): PathComparison {
  const noJitter = binStats(noJitterBins);
  const jitter = binStats(jitterBins);
  return {
    noJitter,
    jitter,
    reduction: jitter.peak > 0 ? noJitter.peak / jitter.peak : Number.POSITIVE_INFINITY,
    totalNoJitter: sum(noJitterBins),
    totalJitter: sum(jitterBins),
  };
}

/** Runs the whole model: push packets and pull scrape bytes per bin, with and without jitter. */
export function runBurstModel(config: BurstModelConfig): BurstModelResult {
  const c = validateBurstConfig(config);
  const schedule = drawFleetSchedule(c);
  return {
    config: c,
    bins: binCount(c.windowMs, c.binMs),
    push: compare(binFlushes(schedule, false, c.binMs), binFlushes(schedule, true, c.binMs)),
    pull: compare(binScrapes(c, false), binScrapes(c, true)),
  };
}

/** The `--json` shape of issue 7: exactly {noJitter:{peak,mean,p99}, jitter:{peak,mean,p99}, reduction}. */
export interface ModelJson {
  noJitter: BinStats;
  jitter: BinStats;
  reduction: number;
}

/** Rounds to 3 decimals: interpolated percentiles otherwise print float noise (828.2499999992467). */
const round3 = (n: number) => Math.round(n * 1000) / 1000;

export function toModelJson(p: PathComparison): ModelJson {
  const pick = (s: BinStats): BinStats => ({ peak: s.peak, mean: round3(s.mean), p99: round3(s.p99) });
  return { noJitter: pick(p.noJitter), jitter: pick(p.jitter), reduction: round3(p.reduction) };
}

// ---- first principles -------------------------------------------------------------------------------

/** Expected packets per bin without jitter: N × ceil(W/T) flushes × (lo + hi − 1)/2 packets ÷ bins. */
export function expectedMeanPerBin(
  c: Pick<BurstModelConfig, 'producers' | 'intervalMs' | 'windowMs' | 'packetsPerFlush' | 'binMs'>,
): number {
  const [lo, hi] = c.packetsPerFlush;
  const flushes = c.producers * Math.ceil(c.windowMs / c.intervalMs);
  return (flushes * (lo + hi - 1)) / 2 / binCount(c.windowMs, c.binMs);
}

/** The widely quoted table for this model and what its own script prints when run as published. */
export const QUOTED_TABLE = Object.freeze({ meanPerBin: 14_232, jitteredPeak: 2_381, reduction: 35.9 });
export const PUBLISHED_SCRIPT_RUN = Object.freeze({
  seed: 7,
  noJitter: { peak: 83_942, mean: 833 },
  jitter: { peak: 1_927, mean: 832 },
  reduction: 43.6,
  /** Over seeds 1–8. */
  seeds1to8: { noJitterPeak: [83_700, 84_050], mean: 833, jitterPeak: [1_391, 1_927], reduction: [44, 60] },
});

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** One line: why the quoted table cannot come from this model (computed from the default fleet). */
export function quotedTableNote(): string {
  const d = DEFAULT_BURST_CONFIG;
  const [lo, hi] = d.packetsPerFlush;
  const rounds = Math.ceil(d.windowMs / d.intervalMs);
  const bins = binCount(d.windowMs, d.binMs);
  const total = d.producers * rounds * ((lo + hi - 1) / 2);
  return (
    `Note: the widely quoted table (mean ${fmt(QUOTED_TABLE.meanPerBin)} packets/${d.binMs} ms, jittered peak ` +
    `${fmt(QUOTED_TABLE.jitteredPeak)}, ${QUOTED_TABLE.reduction}×) is not reproducible: ${fmt(d.producers)} producers × ` +
    `${rounds} flushes × ${(lo + hi - 1) / 2} packets = ${fmt(total)} packets in ${d.windowMs / 1000} s, and the mean ` +
    `of ${bins} bins cannot exceed total packets / ${bins} ≈ ${fmt(total / bins)} (its own script, run as published, ` +
    `prints peaks ${fmt(PUBLISHED_SCRIPT_RUN.noJitter.peak)} vs ${fmt(PUBLISHED_SCRIPT_RUN.jitter.peak)}, ` +
    `${PUBLISHED_SCRIPT_RUN.reduction}×).`
  );
}

// ---- the prediction the burst report and the jitter scenario put beside a measured peak -------------

export interface FleetSpec {
  producers: number;
  intervalMs: number;
  /** Uniform integer in [lo, hi). */
  packetsPerFlush: readonly [number, number];
  binMs?: number;
  windowMs?: number;
  seed?: number;
  /** Whether the fleet flushes with jitter (default true). */
  jitter?: boolean;
  /** How many consecutive seeds (from `seed`) to spread the prediction over (default 8). */
  seeds?: number;
}

export interface FlushPeakPrediction {
  jitter: boolean;
  binMs: number;
  windowMs: number;
  /** Packets per bin for this fleet as configured (jitter on/off), with `seed`. */
  stats: BinStats;
  noJitterPeak: number;
  jitterPeak: number;
  reduction: number;
  /**
   * Peak per bin over `seeds` seeds: a real fleet's offsets come from no seed of ours, so its measured
   * peak should land in this range (without jitter the range is narrow: one round's packets in one bin).
   */
  peakRange: { min: number; median: number; max: number; seeds: number };
}

/** The model's prediction for a fleet: packets per bin at peak, with and without jitter. */
export function predictFlushPeak(fleet: FleetSpec): FlushPeakPrediction {
  const jitter = fleet.jitter ?? true;
  const seed = fleet.seed ?? DEFAULT_BURST_CONFIG.seed;
  const seeds = fleet.seeds ?? 8;
  positiveInt(seeds, 'seeds');
  if (seeds > 1000) throw configError(`seeds must be at most 1000, got ${seeds}`, 'seeds', seeds);
  const base: BurstModelConfig = {
    ...DEFAULT_BURST_CONFIG,
    producers: fleet.producers,
    intervalMs: fleet.intervalMs,
    packetsPerFlush: fleet.packetsPerFlush,
    binMs: fleet.binMs ?? DEFAULT_BURST_CONFIG.binMs,
    windowMs: fleet.windowMs ?? DEFAULT_BURST_CONFIG.windowMs,
    scrapeIntervalMs: fleet.intervalMs,
    seed,
  };
  validateBurstConfig(base);
  const runOne = (s: number) => {
    const schedule = drawFleetSchedule({ ...base, seed: s });
    return compare(binFlushes(schedule, false, base.binMs), binFlushes(schedule, true, base.binMs));
  };
  const first = runOne(seed);
  const peaks = [jitter ? first.jitter.peak : first.noJitter.peak];
  for (let s = seed + 1; s < seed + seeds; s++) {
    const r = runOne(s);
    peaks.push(jitter ? r.jitter.peak : r.noJitter.peak);
  }
  return {
    jitter,
    binMs: base.binMs,
    windowMs: base.windowMs,
    stats: jitter ? first.jitter : first.noJitter,
    noJitterPeak: first.noJitter.peak,
    jitterPeak: first.jitter.peak,
    reduction: first.reduction,
    peakRange: { min: Math.min(...peaks), median: median(peaks), max: Math.max(...peaks), seeds },
  };
}

/**
 * The prediction for a measured fleet whose mean datagrams per flush is fractional (e.g. 1.6: some flushes
 * take two datagrams). The model draws whole packets per flush, and flooring the mean (1.6 → 1) would
 * under-predict by that fraction, so it is run with one packet per flush and scaled by the mean: exact for
 * jitter off (one round lands in one bin), a close approximation with jitter.
 */
export function predictMeasuredFlushPeak(
  fleet: Omit<FleetSpec, 'packetsPerFlush'> & { meanPacketsPerFlush: number },
): FlushPeakPrediction {
  const { meanPacketsPerFlush: m, ...rest } = fleet;
  if (!(Number.isFinite(m) && m > 0))
    throw configError(`meanPacketsPerFlush must be > 0, got ${m}`, 'meanPacketsPerFlush', m);
  const p = predictFlushPeak({ ...rest, packetsPerFlush: [1, 2] });
  const scale = (b: BinStats): BinStats => ({ peak: b.peak * m, mean: b.mean * m, p99: b.p99 * m });
  return {
    ...p,
    stats: scale(p.stats),
    noJitterPeak: p.noJitterPeak * m,
    jitterPeak: p.jitterPeak * m,
    peakRange: {
      min: p.peakRange.min * m,
      median: p.peakRange.median * m,
      max: p.peakRange.max * m,
      seeds: p.peakRange.seeds,
    },
  };
}
