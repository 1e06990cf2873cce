import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import { runModelCommand } from '../src/commands/model/cli.ts';
import {
  type BurstModelConfig,
  binFlushes,
  binStats,
  DEFAULT_BURST_CONFIG,
  drawFleetSchedule,
  type FleetSchedule,
  median,
  PUBLISHED_SCRIPT_RUN,
  predictFlushPeak,
  predictMeasuredFlushPeak,
  quantile,
  runBurstModel,
  validateBurstConfig,
} from '../src/model/index.ts';

const D = DEFAULT_BURST_CONFIG;
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const [LO, HI] = D.packetsPerFlush; // uniform integer in [40, 80)
const ROUNDS = D.windowMs / D.intervalMs; // 6
const BINS = D.windowMs / D.binMs; // 600

// One flush's packets: discrete uniform on HI−LO values.
const FLUSH_MEAN = (LO + HI - 1) / 2; // 59.5
const FLUSH_VAR = ((HI - LO) ** 2 - 1) / 12; // 133.25
// One round (all producers flush in the same bin without jitter): sum of N flushes.
const ROUND_MEAN = D.producers * FLUSH_MEAN; // 83,300
const ROUND_SD = Math.sqrt(D.producers * FLUSH_VAR); // ≈ 432
// Mean per bin = total / 600, total = sum of N × 6 flushes.
const MEAN_EXPECTED = (D.producers * ROUNDS * FLUSH_MEAN) / BINS; // 833
const MEAN_SD = Math.sqrt(D.producers * ROUNDS * FLUSH_VAR) / BINS; // ≈ 1.76

const runs = SEEDS.map((seed) => ({
  seed,
  r: runBurstModel({ ...D, seed }),
  s: drawFleetSchedule({ ...D, seed }),
}));

function roundSums(s: FleetSchedule): number[] {
  const sums: number[] = [];
  for (let k = 0; k < s.maxFlushes; k++) {
    let sum = 0;
    for (let i = 0; i < s.producers; i++) sum += s.packets[i * s.maxFlushes + k]!;
    sums.push(sum);
  }
  return sums;
}

/** Largest number of flushes that share one bin, from the schedule's offsets (independent of binFlushes). */
function maxFlushesPerBin(s: FleetSchedule, binMs: number): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < s.producers; i++)
    for (let k = 0; k < s.maxFlushes; k++) {
      const t = s.jitterOffsetsMs[i]! + k * s.intervalMs;
      if (t >= s.windowMs) continue;
      const b = Math.floor(t / binMs);
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
  return Math.max(...counts.values());
}

/** Binomial(n, p) pmf for k = 0..n, iteratively (no factorials). */
function binomialPmf(n: number, p: number): number[] {
  const pmf = [(1 - p) ** n];
  for (let k = 0; k < n; k++) pmf.push((pmf[k]! * (n - k) * p) / ((k + 1) * (1 - p)));
  return pmf;
}

describe('burst model: no jitter, first principles', () => {
  it('every round lands in one bin: exactly 6 non-empty bins, each one round of all producers’ packets', () => {
    for (const { seed, r, s } of runs) {
      const bins = binFlushes(s, false, D.binMs);
      const nonEmpty = [...bins.keys()].filter((i) => bins[i]! > 0);
      assert.deepEqual(
        nonEmpty,
        [0, 100, 200, 300, 400, 500],
        `seed ${seed}: flushes at 0, 10, …, 50 s → bins 0, 100, …`,
      );
      const sums = roundSums(s);
      assert.deepEqual(
        nonEmpty.map((i) => bins[i]),
        sums,
        `seed ${seed}`,
      );
      assert.equal(r.push.noJitter.peak, Math.max(...sums), `seed ${seed}: peak = the largest round`);
    }
  });

  it('peak is the max of 6 round sums: within [μ−σ, μ+4.5σ] of one round (μ=83,300, σ≈432) for seeds 1–8', () => {
    const lo = ROUND_MEAN - ROUND_SD;
    const hi = ROUND_MEAN + 4.5 * ROUND_SD;
    for (const { seed, r } of runs) {
      const peak = r.push.noJitter.peak;
      assert.ok(peak >= lo && peak <= hi, `seed ${seed}: no-jitter peak ${peak} outside [${lo}, ${hi}]`);
      // hard bounds: every producer sends between LO and HI−1 packets
      assert.ok(peak >= D.producers * LO && peak <= D.producers * (HI - 1));
    }
  });

  it('seeds 1–8 match the published script’s no-jitter peaks (83,700–84,050) in the median', () => {
    const m = median(runs.map(({ r }) => r.push.noJitter.peak));
    const [plo, phi] = PUBLISHED_SCRIPT_RUN.seeds1to8.noJitterPeak as readonly number[];
    // tolerance: ~1 standard error of the median of 8 maxima (σ of a max of 6 ≈ 0.65·432 ≈ 280)
    assert.ok(m >= plo! - 150 && m <= phi! + 150, `median no-jitter peak ${m} vs published ${plo}–${phi}`);
  });
});

describe('burst model: mean per bin is invariant', () => {
  it('mean = total packets / 600 ≈ 833 with and without jitter (same draws, only moved in time)', () => {
    for (const { seed, r, s } of runs) {
      const total = s.packets.reduce((a, b) => a + b, 0);
      assert.equal(r.push.totalNoJitter, total, `seed ${seed}`);
      assert.equal(r.push.totalJitter, total, `seed ${seed}`);
      assert.equal(r.push.noJitter.mean, total / BINS);
      assert.equal(r.push.jitter.mean, total / BINS);
      assert.ok(
        Math.abs(r.push.noJitter.mean - MEAN_EXPECTED) <= 4 * MEAN_SD,
        `seed ${seed}: mean ${r.push.noJitter.mean} vs ${MEAN_EXPECTED} ± ${4 * MEAN_SD}`,
      );
    }
  });

  it('the quoted mean of 14,232 per bin is impossible: even max packets every flush gives ≤ 1,106', () => {
    const ceiling = (D.producers * ROUNDS * (HI - 1)) / BINS;
    assert.ok(ceiling < 1_107);
    for (const { r } of runs) assert.ok(r.push.noJitter.mean <= ceiling && r.push.jitter.mean <= ceiling);
  });

  for (const binMs of [50, 100, 250, 1000]) {
    it(`mean × bins = total for ${binMs} ms bins, jitter on and off`, () => {
      const r = runBurstModel({ ...D, binMs, seed: 3 });
      const bins = Math.ceil(D.windowMs / binMs);
      assert.equal(r.bins, bins);
      assert.ok(Math.abs(r.push.noJitter.mean * bins - r.push.totalNoJitter) < 1e-6);
      assert.ok(Math.abs(r.push.jitter.mean * bins - r.push.totalJitter) < 1e-6);
      assert.equal(r.push.totalJitter, r.push.totalNoJitter);
    });
  }

  it('window not a multiple of the interval: each mean is its own total / bins', () => {
    const r = runBurstModel({ ...D, windowMs: 65_000, seed: 2 });
    assert.equal(r.bins, 650);
    assert.equal(r.push.noJitter.mean, r.push.totalNoJitter / 650);
    assert.equal(r.push.jitter.mean, r.push.totalJitter / 650);
    // without jitter 7 rounds fit (0..60 s); with jitter only offsets < 5 s get a 7th flush
    assert.ok(r.push.totalJitter < r.push.totalNoJitter);
  });
});

describe('burst model: jitter, first principles', () => {
  // Offsets uniform in [0, 10 s) put each producer in one of 100 phase bins, the same bin every round.
  // Counts per phase bin are multinomial(1400, 1/100 each), hence Binomial(1400, 0.01) marginally.
  const n = D.producers;
  const phaseBins = D.intervalMs / D.binMs;
  const pmf = binomialPmf(n, 1 / phaseBins);
  const cdf = (k: number) => pmf.slice(0, k + 1).reduce((a, b) => a + b, 0);
  // Upper: union bound, P(max ≥ k) ≤ 100·P(X ≥ k). Lower: multinomial counts are negatively associated,
  // so P(max ≤ k) ≤ P(X ≤ k)^100. Choose k so either side has probability < 1e-4.
  let kHi = 0;
  while (phaseBins * (1 - cdf(kHi - 1)) >= 1e-4) kHi++;
  let kLo = 0;
  while (cdf(kLo) ** phaseBins < 1e-4) kLo++;

  it(`the busiest bin holds between ${kLo} and ${kHi} flushes, and its peak between that × 40 and × 79`, () => {
    assert.ok(kLo > 14 && kHi < 50, `bounds ${kLo}–${kHi} around the mean 14`);
    for (const { seed, r, s } of runs) {
      const m = maxFlushesPerBin(s, D.binMs);
      assert.ok(m >= kLo && m <= kHi, `seed ${seed}: busiest bin has ${m} flushes`);
      const peak = r.push.jitter.peak;
      assert.ok(peak >= m * LO && peak <= m * (HI - 1), `seed ${seed}: jitter peak ${peak} vs ${m} flushes`);
    }
  });

  it('seeds 1–8 reproduce the published distribution: jittered peak 1,391–1,927, reduction 44–60×', () => {
    const peaks = runs.map(({ r }) => r.push.jitter.peak);
    const reductions = runs.map(({ r }) => r.push.reduction);
    const [plo, phi] = PUBLISHED_SCRIPT_RUN.seeds1to8.jitterPeak as readonly number[];
    const [rlo, rhi] = PUBLISHED_SCRIPT_RUN.seeds1to8.reduction as readonly number[];
    // A different RNG draws different maxima: every seed within ±15% of the published range,
    // the median of the 8 inside it.
    for (const p of peaks) assert.ok(p >= plo! * 0.85 && p <= phi! * 1.15, `jitter peak ${p}`);
    for (const x of reductions) assert.ok(x >= rlo! * 0.85 && x <= rhi! * 1.15, `reduction ${x}`);
    const m = median(peaks);
    assert.ok(m >= plo! && m <= phi!, `median jitter peak ${m} outside published ${plo}–${phi}`);
    assert.ok(new Set(peaks).size > 1, 'different seeds give different jittered peaks');
  });

  it('jitter never raises the peak and never changes the total', () => {
    for (const { r } of runs) {
      assert.ok(r.push.jitter.peak < r.push.noJitter.peak);
      assert.ok(r.push.reduction > 1);
    }
  });
});

describe('burst model: pull equivalent (scrape bytes)', () => {
  it('synchronised scrape puts N × body bytes in one bin; jitter spreads it; mean = N × rounds × body / bins', () => {
    const c: BurstModelConfig = { ...D, producers: 500, bodyBytes: 240 * 1024, seed: 5 };
    const r = runBurstModel(c);
    assert.equal(r.pull.noJitter.peak, 500 * 240 * 1024);
    assert.equal(r.pull.totalNoJitter, 500 * ROUNDS * 240 * 1024);
    assert.equal(r.pull.totalJitter, r.pull.totalNoJitter);
    assert.equal(r.pull.noJitter.mean, (500 * ROUNDS * 240 * 1024) / BINS);
    assert.ok(r.pull.jitter.peak < r.pull.noJitter.peak);
    assert.equal(r.pull.jitter.peak % (240 * 1024), 0, 'whole bodies per bin');
  });

  it('a scrape interval of its own changes the number of scrapes', () => {
    const r = runBurstModel({ ...D, producers: 10, scrapeIntervalMs: 15_000, bodyBytes: 1000 });
    assert.equal(r.pull.totalNoJitter, 10 * 4 * 1000); // 0, 15, 30, 45 s
  });
});

describe('burst model: seeded repeatability and validation', () => {
  it('same seed → identical result; different seeds → different jitter bins', () => {
    assert.deepEqual(runBurstModel({ ...D, seed: 42 }), runBurstModel({ ...D, seed: 42 }));
    const a = binFlushes(drawFleetSchedule({ ...D, seed: 42 }), true, 100);
    const b = binFlushes(drawFleetSchedule({ ...D, seed: 43 }), true, 100);
    assert.notDeepEqual([...a], [...b]);
  });

  const bad: [string, Partial<BurstModelConfig>][] = [
    ['producers', { producers: 0 }],
    ['intervalMs', { intervalMs: 0 }],
    ['binMs', { binMs: 1.5 }],
    ['packetsPerFlush', { packetsPerFlush: [80, 40] }],
    ['packetsPerFlush', { packetsPerFlush: [0, 1] }],
    ['binMs', { windowMs: 3_600_000_000, binMs: 1 }],
    ['producers', { producers: 10_000_000, intervalMs: 1 }],
  ];
  for (const [field, patch] of bad) {
    it(`rejects ${JSON.stringify(patch)} naming ${field}`, () =>
      assert.throws(
        () => validateBurstConfig({ ...D, ...patch }),
        (e) => isLabError(e, 'LAB_ERR_CONFIG') && e.details?.field === field,
      ));
  }
});

describe('predictFlushPeak', () => {
  it('is the model’s packets-per-bin prediction for a fleet, jitter on by default', () => {
    const p = predictFlushPeak({ producers: 1400, intervalMs: 10_000, packetsPerFlush: [40, 80], seed: 7 });
    const r = runBurstModel({ ...D, seed: 7 });
    assert.equal(p.jitter, true);
    assert.equal(p.binMs, 100);
    assert.deepEqual(p.stats, r.push.jitter);
    assert.equal(p.noJitterPeak, r.push.noJitter.peak);
    assert.equal(p.jitterPeak, r.push.jitter.peak);
    assert.equal(p.reduction, r.push.reduction);
    assert.equal(p.peakRange.seeds, 8);
    assert.ok(p.peakRange.min <= p.stats.peak && p.stats.peak <= p.peakRange.max);
    assert.ok(p.peakRange.min <= p.peakRange.median && p.peakRange.median <= p.peakRange.max);
  });

  it('jitter off predicts one round in one bin', () => {
    const p = predictFlushPeak({ producers: 20, intervalMs: 5000, packetsPerFlush: [3, 4], jitter: false });
    assert.equal(p.stats.peak, 60); // 20 producers × exactly 3 packets
    assert.deepEqual([p.peakRange.min, p.peakRange.max], [60, 60]);
  });

  it('a fractional mean per flush is not floored: 60 pods × 1.64 datagrams, jitter off → 98.4 in one bin', () => {
    // Measured in the synchronised-flush drill: flooring 1.64 to 1 predicted 60 where 103 arrived.
    const p = predictMeasuredFlushPeak({
      producers: 60,
      intervalMs: 4000,
      meanPacketsPerFlush: 1.64,
      jitter: false,
    });
    assert.ok(Math.abs(p.peakRange.median - 98.4) < 1e-9, String(p.peakRange.median));
    assert.ok(Math.abs(p.stats.peak - 98.4) < 1e-9);
    const whole = predictMeasuredFlushPeak({
      producers: 20,
      intervalMs: 5000,
      meanPacketsPerFlush: 3,
      jitter: false,
    });
    assert.equal(whole.stats.peak, 60, 'a whole mean matches predictFlushPeak with [3, 4)');
    const j = predictMeasuredFlushPeak({ producers: 60, intervalMs: 4000, meanPacketsPerFlush: 1.64 });
    assert.ok(j.peakRange.median < 98.4 / 3, `jitter spreads the round (${j.peakRange.median})`);
    assert.throws(
      () => predictMeasuredFlushPeak({ producers: 60, intervalMs: 4000, meanPacketsPerFlush: Number.NaN }),
      (e) => isLabError(e, 'LAB_ERR_CONFIG'),
    );
  });

  it('rejects a bad fleet with LAB_ERR_CONFIG', () =>
    assert.throws(
      () => predictFlushPeak({ producers: 0, intervalMs: 10_000, packetsPerFlush: [40, 80] }),
      (e) => isLabError(e, 'LAB_ERR_CONFIG'),
    ));
});

describe('stats', () => {
  it('quantile interpolates like numpy.percentile', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.ok(Math.abs(quantile([4, 3, 2, 1], 0.99) - 3.97) < 1e-12);
    assert.equal(quantile([], 0.99), 0);
  });
  it('binStats', () =>
    assert.deepEqual(binStats([0, 0, 10, 0]), { peak: 10, mean: 2.5, p99: quantile([0, 0, 0, 10], 0.99) }));
});

async function runCli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runModelCommand(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join(''), err: err.join('') };
}

describe('model command', () => {
  it('--json prints exactly {noJitter:{peak,mean,p99}, jitter:{peak,mean,p99}, reduction}', async () => {
    const { code, out, err } = await runCli(['--json', '--seed', '7']);
    assert.equal(code, 0);
    const j = JSON.parse(out);
    assert.deepEqual(Object.keys(j), ['noJitter', 'jitter', 'reduction']);
    assert.deepEqual(Object.keys(j.noJitter), ['peak', 'mean', 'p99']);
    assert.deepEqual(Object.keys(j.jitter), ['peak', 'mean', 'p99']);
    const r = runBurstModel({ ...D, seed: 7 });
    assert.equal(j.noJitter.peak, r.push.noJitter.peak);
    assert.equal(j.jitter.peak, r.push.jitter.peak);
    assert.ok(Math.abs(j.reduction - r.push.reduction) < 1e-3);
    assert.ok(Math.abs(j.noJitter.mean - MEAN_EXPECTED) < 10);
    assert.match(err, /not reproducible/, 'the caveat goes to stderr so stdout stays one JSON document');
  });

  it('--json --path pull reports scrape bytes in the same shape', async () => {
    const { code, out } = await runCli(['--json', '--path', 'pull', '--producers', '100', '--body', '1000']);
    assert.equal(code, 0);
    const j = JSON.parse(out);
    assert.deepEqual(Object.keys(j), ['noJitter', 'jitter', 'reduction']);
    assert.equal(j.noJitter.peak, 100 * 1000);
  });

  it('the table states in one line that the quoted table is not reproducible, and why', async () => {
    const { code, out } = await runCli([]);
    assert.equal(code, 0);
    const lines = out.split('\n').filter((l) => /not reproducible/.test(l));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /14,232/);
    assert.match(lines[0]!, /2,381/);
    assert.match(lines[0]!, /35\.9×/);
    assert.match(lines[0]!, /total packets \/ 600 ≈ 833/);
    assert.match(out, /peak reduction from jitter/);
    assert.match(out, /synchronised scrape/);
  });

  it('flags change the model: producers, interval, window, packets, bin, seed', async () => {
    const { out } = await runCli([
      '--json',
      '--producers',
      '10',
      '--interval',
      '2s',
      '--window',
      '4s',
      '--packets',
      '5-6',
      '--bin',
      '1s',
      '--seed',
      '1',
    ]);
    const j = JSON.parse(out);
    assert.equal(j.noJitter.peak, 50); // 10 producers × 5 packets at t=0 and t=2 s
    assert.equal(j.noJitter.mean, 100 / 4);
    assert.equal(j.jitter.mean, 100 / 4);
  });

  it('same seed → byte-identical output; another seed → different', async () => {
    const a = await runCli(['--json', '--seed', '11']);
    const b = await runCli(['--json', '--seed', '11']);
    const c = await runCli(['--json', '--seed', '12']);
    assert.equal(a.out, b.out);
    assert.notEqual(a.out, c.out);
  });

  const badFlags: [string[], string, RegExp][] = [
    [['--bogus'], 'LAB_ERR_FLAG_UNKNOWN', /--bogus/],
    [['--producers', '0'], 'LAB_ERR_FLAG_VALUE', /--producers/],
    [['--producers', 'many'], 'LAB_ERR_FLAG_VALUE', /"many"/],
    [['--packets', '80-40'], 'LAB_ERR_FLAG_VALUE', /"80-40"/],
    [['--packets', 'forty'], 'LAB_ERR_FLAG_VALUE', /"forty"/],
    [['--interval', '0s'], 'LAB_ERR_FLAG_VALUE', /--interval/],
    [['--bin', 'soon'], 'LAB_ERR_FLAG_VALUE', /"soon"/],
    [['--path', 'sideways'], 'LAB_ERR_FLAG_VALUE', /"sideways"/],
    [['--json', '--path', 'both'], 'LAB_ERR_FLAG_VALUE', /both/],
    [['--seed'], 'LAB_ERR_FLAG_VALUE', /--seed/],
    [['extra'], 'LAB_ERR_FLAG_UNKNOWN', /"extra"/],
    [['--window', '1000h', '--bin', '1ms'], 'LAB_ERR_CONFIG', /bins/],
  ];
  for (const [argv, code, msg] of badFlags) {
    it(`exit 2 and ${code} for ${argv.join(' ')}`, async () => {
      const r = await runCli(argv);
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.match(r.err, new RegExp(code));
      assert.match(r.err, msg);
    });
  }

  it('writes whole lines: every out/err call ends in a newline (the dispatcher writes raw)', async () => {
    const calls: string[] = [];
    const io = { out: (s: string) => calls.push(s), err: (s: string) => calls.push(s) };
    await runModelCommand([], io);
    await runModelCommand(['--json'], io);
    await runModelCommand(['--bogus'], io);
    assert.ok(calls.length >= 5);
    for (const c of calls) assert.ok(c.endsWith('\n'), JSON.stringify(c.slice(-40)));
  });

  it('--help exits 0 and lists every flag', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    for (const f of ['producers', 'interval', 'window', 'packets', 'seed', 'bin', 'json', 'path', 'body'])
      assert.match(r.out, new RegExp(`--${f}`));
  });
});
