import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import { parse } from 'yaml';
import { accountPath } from '../src/analysis/accounting.ts';
import { verdictSentence } from '../src/analysis/verdict.ts';
import {
  DEFAULT_CRITERIA,
  judgePushStep,
  judgeTrial,
  machineLimit,
  pathFailure,
  scheduledBurstOrders,
  unsentPct,
} from '../src/capacity/criteria.ts';
import { parseCapacityFlags, parsePaths } from '../src/capacity/flags.ts';
import { answerOf, pushgatewayClaim } from '../src/capacity/result.ts';
import { trialOverhead } from '../src/capacity/trial.ts';
import { paths, repoRoot } from '../src/core/paths.ts';
import type { BurstConfig, RunRecord } from '../src/core/record.ts';
import { derivePrometheusConfig } from '../src/runtime/prometheus-config.ts';
import { CONFIG, ledger, record, series } from './fixtures.ts';

// When a trial holds: the criteria over hand-made records (one per criterion that fails it), the machine
// checks, the Pushgateway step, the flags, and --pull off in the Prometheus config and the verdict.

const profile: NonNullable<BurstConfig['profile']> = {
  name: 'market-open',
  steadyOrdersPerSecond: 4000,
  peakOrdersPerSecond: 380_000,
  afterOrdersPerSecond: 40_000,
  rampMs: 800,
  holdMs: 7000,
  decayMs: 22_200,
  fitted: true,
};
const config: BurstConfig = {
  ...CONFIG,
  pods: 14,
  producers: 1,
  durationMs: 30_000,
  profile,
  scrapeIntervalMs: 5000,
};
/** Scheduled orders of `config` in its 30 s window, by hand: (ramp + hold + decay) × 14 / 1400. */
const SCHEDULED = ((192_000 * 800 + 380_000 * 7000 + 210_000 * 22_200) / 1000) * 0.01;

/** A trial record whose ledger generated `fraction` of the scheduled orders over the burst window. */
function trial(o: Partial<RunRecord> = {}, fraction = 1): RunRecord {
  const perSec = (SCHEDULED * fraction) / 30;
  const base = record({
    config,
    series: series(-5, 35, (sec) => ({
      ledger: ledger({ orders: Math.round(1000 + perSec * Math.max(0, Math.min(sec, 30))) }),
      hostMemAvailable: 20 * 2 ** 30,
    })),
  });
  return {
    ...base,
    environment: { ...base.environment, prometheusScrapeTimeoutMs: 5000 },
    paths: {
      pull: { ...accountPath(5000, 5000, 'l', 'p'), visibility: vis(4) },
      push: accountPath(5000, 4990, 'l', 'c'),
    },
    firstFailures: [],
    peaks: { ...base.peaks, scrapeP99Seconds: 1.2, hostMemAvailableMin: 20 * 2 ** 30 },
    ...o,
  };
}
const vis = (p90: number | null) => ({
  p50Seconds: 1,
  p90Seconds: p90,
  seconds: 30,
  neverCaughtUp: 0,
  method: 'm',
});

describe('capacity criteria (pure, from the run record)', () => {
  it('scheduled orders: the fitted profile over the window, at the per-pod load', () => {
    assert.ok(Math.abs(scheduledBurstOrders(config)! - SCHEDULED) < 1e-6);
    assert.equal(scheduledBurstOrders({ ...config, profile: null }), null);
  });

  it('a healthy trial holds on both paths (push 0.2 % loss ≤ 1 %; pull p99 1.2 s ≤ 2.5 s, lag 4 s ≤ 10 s)', () => {
    const r = trial();
    assert.ok(unsentPct(r)! < 1);
    assert.equal(machineLimit(r, DEFAULT_CRITERIA), null);
    assert.equal(pathFailure(r, 'push', DEFAULT_CRITERIA), null);
    assert.equal(pathFailure(r, 'pull', DEFAULT_CRITERIA), null);
    const t = judgeTrial(r, 'pull', DEFAULT_CRITERIA, { aborted: false, record: 'x/run.json' });
    assert.equal(t.held, true);
    assert.equal(t.load, 14);
    assert.equal(t.metrics['cores.prometheus'], 1); // the fixture's CPU grows 1 s per second
  });

  it('an aborted trial keeps what the probe saw, never a loss, visibility or unsent share (never settled)', () => {
    const r = trial();
    r.paths.push.lossPct = -300.782; // what an unsettled record read in the default run of 2026-12-08
    const t = judgeTrial(r, 'push', DEFAULT_CRITERIA, { aborted: true, record: 'r' });
    assert.equal(t.aborted, true);
    assert.equal(t.held, false);
    for (const k of ['lossPct', 'visibilityP90S', 'unsentPct']) assert.equal(t.metrics[k], null, k);
    assert.equal(t.metrics['cores.prometheus'], 1);
    assert.equal(t.metrics.scrapeP99S, r.peaks.scrapeP99Seconds);
    // Finished, the same record's loss is a figure (and a failure).
    assert.equal(
      judgeTrial(r, 'push', DEFAULT_CRITERIA, { aborted: false, record: 'r' }).metrics.lossPct,
      -300.782,
    );
  });

  const failing: [string, 'pull' | 'push', Partial<RunRecord> | (() => RunRecord), string, unknown][] = [
    [
      'push loss 2 % > 1 %',
      'push',
      { paths: { pull: accountPath(1, 1, '', ''), push: accountPath(100, 98, '', '') } },
      'push.lossPct',
      2,
    ],
    [
      'push over-delivered 3 % (OTLP delta duplicates)',
      'push',
      { paths: { pull: accountPath(1, 1, '', ''), push: accountPath(100, 103, '', '') } },
      'push.lossPct',
      -3,
    ],
    [
      'push emitted nothing',
      'push',
      { paths: { pull: accountPath(1, 1, '', ''), push: accountPath(0, 0, '', '') } },
      'push.emitted',
      0,
    ],
    [
      'a failed scrape',
      'pull',
      {
        firstFailures: [
          {
            path: 'pull',
            signal: 'failed-scrape',
            secondsAfterBurst: 3,
            detail: '2 of 14 pod targets failed',
          },
        ],
      },
      'pull.failedScrapes',
      '2 of 14 pod targets failed',
    ],
    [
      'pull lost orders',
      'pull',
      { paths: { pull: accountPath(1000, 990, '', ''), push: accountPath(0, 0, '', '') } },
      'pull.lossPct',
      1,
    ],
    [
      'scrape p99 2.6 s > half the 5 s timeout',
      'pull',
      () => {
        const r = trial();
        r.peaks.scrapeP99Seconds = 2.6;
        return r;
      },
      'pull.scrapeP99',
      2.6,
    ],
    [
      'visibility p90 11 s > 2 × 5 s',
      'pull',
      () => {
        const r = trial();
        r.paths.pull.visibility = vis(11);
        return r;
      },
      'pull.visibilityP90',
      11,
    ],
    [
      'never caught up',
      'pull',
      () => {
        const r = trial();
        r.paths.pull.visibility = vis(null);
        return r;
      },
      'pull.visibilityP90',
      'never caught up',
    ],
    [
      'the run failed',
      'push',
      { error: 'LAB_ERR_TIMEOUT: collector did not answer' },
      'run failed',
      'LAB_ERR_TIMEOUT: collector did not answer',
    ],
  ];
  for (const [name, path, patch, criterion, value] of failing)
    it(`fails: ${name}`, () => {
      const r = typeof patch === 'function' ? patch() : trial(patch);
      assert.deepEqual(pathFailure(r, path, DEFAULT_CRITERIA), { criterion, value });
      assert.equal(judgeTrial(r, path, DEFAULT_CRITERIA, { aborted: false, record: 'r' }).held, false);
    });

  it('the criteria are flags: --max-push-loss 3 holds a 2 % loss; --max-scrape-p99 0.6 holds 2.6 s of 5 s', () => {
    const r = trial({ paths: { pull: accountPath(1, 1, '', ''), push: accountPath(100, 98, '', '') } });
    assert.equal(pathFailure(r, 'push', { ...DEFAULT_CRITERIA, maxPushLossPct: 3 }), null);
    const s = trial();
    s.peaks.scrapeP99Seconds = 2.6;
    assert.equal(pathFailure(s, 'pull', { ...DEFAULT_CRITERIA, maxScrapeP99Fraction: 0.6 }), null);
  });

  it('machine-limited: the load generator fell behind (> 5 % unsent), or host memory under 1 GiB', () => {
    const behind = trial({}, 0.9); // 10 % of the scheduled orders never generated
    assert.ok(Math.abs(unsentPct(behind)! - 10) < 0.5);
    const t = judgeTrial(behind, 'push', DEFAULT_CRITERIA, { aborted: false, record: 'r' });
    assert.equal(t.held, false);
    assert.match(t.machine!, /load generator/);
    const low = trial();
    low.peaks.hostMemAvailableMin = 0.5 * 2 ** 30;
    assert.deepEqual(machineLimit(low, DEFAULT_CRITERIA), {
      resource: 'memory (host MemAvailable, GiB)',
      value: 0.5,
    });
    // The machine is checked before the path: a lossy trial on a starved machine is the machine's.
    low.paths.push = accountPath(100, 50, '', '');
    assert.match(
      judgeTrial(low, 'push', DEFAULT_CRITERIA, { aborted: false, record: 'r' }).failedCriterion!,
      /^machine: memory/,
    );
  });

  it('an aborted trial counts neither way', () => {
    const t = judgeTrial(trial(), 'push', DEFAULT_CRITERIA, { aborted: true, record: 'r' });
    assert.equal(t.aborted, true);
    assert.equal(t.held, false);
  });

  it('Pushgateway step: errors, p99, back-pressure and scrape fail the path; a saturated pusher is the machine', () => {
    const ok = {
      ratePerSec: 100,
      errors: 0,
      latencyP99S: 0.2,
      unsentPct: 0,
      pusherCores: 0.3,
      scrapeMaxS: 0.5,
      hostMemMinBytes: 8 * 2 ** 30,
    };
    assert.equal(judgePushStep(ok, DEFAULT_CRITERIA, 5).held, true);
    assert.equal(
      judgePushStep({ ...ok, errors: 3 }, DEFAULT_CRITERIA, 5).failedCriterion,
      'pushgateway.pushErrors',
    );
    assert.equal(
      judgePushStep({ ...ok, latencyP99S: 1.5 }, DEFAULT_CRITERIA, 5).failedCriterion,
      'pushgateway.latencyP99',
    );
    assert.equal(
      judgePushStep({ ...ok, unsentPct: 20 }, DEFAULT_CRITERIA, 5).failedCriterion,
      'pushgateway.backPressureUnsentPct',
    );
    assert.equal(
      judgePushStep({ ...ok, scrapeMaxS: 2.6 }, DEFAULT_CRITERIA, 5).failedCriterion,
      'pushgateway.scrape',
    );
    const m = judgePushStep({ ...ok, unsentPct: 20, pusherCores: 0.98 }, DEFAULT_CRITERIA, 5);
    assert.match(m.machine!, /pusher/);
    assert.equal(
      judgePushStep({ ...ok, latencyP99S: 1.5 }, { ...DEFAULT_CRITERIA, maxPushLatencyP99S: 2 }, 5).held,
      true,
    );
  });

  it('answers and the ~10k claim say what limited the search', () => {
    const base = {
      maxHeld: 40,
      minFailed: 50,
      failedCriterion: 'pushgateway.latencyP99',
      failedValue: 4.2,
      machine: null,
      bracketRatio: null,
      halfPassLoad: null,
      replicates: 1,
      levels: [],
      trials: [],
    };
    assert.equal(
      answerOf({ ...base, limitedBy: 'path' }, 'pods'),
      '40 pods held; 50 pods failed (pushgateway.latencyP99 = 4.2)',
    );
    assert.match(
      answerOf({ ...base, limitedBy: 'budget' }, 'pods'),
      /the budget, not the path, ended the search/,
    );
    assert.match(
      answerOf(
        { ...base, minFailed: null, limitedBy: 'machine', machine: { resource: 'memory', load: 80 } },
        'pods',
      ),
      /^≥ 40 pods; this machine gave out first \(memory at 80 pods\)/,
    );
    assert.match(
      pushgatewayClaim({ ...base, limitedBy: 'path' })!,
      /bent between 40 and 50 pushes\/s .* well below the claimed ~10,000\/s/,
    );
    assert.match(
      pushgatewayClaim({ ...base, maxHeld: 40_000, minFailed: null, limitedBy: 'config' })!,
      /does not show here/,
    );
  });
});

describe('capacity flags', () => {
  it('defaults: every path, 20 min, 30 s trials, 5 s scrapes, start 20 pods, ±10 %', () => {
    const { config: c } = parseCapacityFlags([], {});
    assert.deepEqual(c.paths, ['pull', 'push', 'pushgateway']);
    assert.equal(c.budgetMs, 1_200_000);
    assert.equal(c.trialDurationMs, 30_000);
    assert.equal(c.scrapeIntervalMs, 5000);
    assert.equal(c.startPods, 20);
    assert.equal(c.precision, 0.1);
    assert.equal(c.criteria.maxPushLossPct, 1);
    assert.equal(c.criteria.minHostMemAvailableBytes, 2 ** 30);
    assert.equal(c.fleetPods, 1400);
  });
  const budgets: [string, number][] = [
    ['6m40s', 400_000], // what the progress line prints ("budget left 6m40s")
    ['20m', 1_200_000],
    ['1h2m', 3_720_000],
    ['90', 90_000],
  ];
  for (const [text, ms] of budgets)
    it(`--budget ${text} = ${ms} ms`, () =>
      assert.equal(parseCapacityFlags(['--budget', text], {}).config.budgetMs, ms));
  const bad: [string[], RegExp][] = [
    [['--budget', '6m40'], /--budget: "6m40"/],
    [['--paths', 'pull,otlp'], /--paths/],
    [['--paths', 'push,push'], /--paths/],
    [['--budget', '10s'], /--budget/],
    [['--trial-duration', 'soon'], /trial-duration/],
    [['--start-pods', '500', '--max-pods', '100'], /--start-pods 500 is above --max-pods 100/],
    [['--max-push-loss', '-1'], /max-push-loss/],
    [['--push-mode', 'off'], /push-mode/],
    [['--pgw-start-rate', '900', '--pgw-max-rate', '100'], /pgw-start-rate/],
    [['extra'], /unexpected argument/],
  ];
  for (const [argv, re] of bad)
    it(`rejects ${argv.join(' ')} with a LAB_ERR_FLAG_* error`, () => {
      assert.throws(
        () => parseCapacityFlags(argv, {}),
        (e: unknown) =>
          (isLabError(e, 'LAB_ERR_FLAG_VALUE') || isLabError(e, 'LAB_ERR_FLAG_UNKNOWN')) &&
          re.test(String((e as Error).message)),
      );
    });
  it('--paths keeps the canonical order', () =>
    assert.deepEqual(parsePaths('pushgateway, pull'), ['pull', 'pushgateway']));
});

describe('--pull off', () => {
  it("keeps the producers job but drops every target it discovers; the collector's job is untouched", () => {
    const p = paths(repoRoot());
    const derived = derivePrometheusConfig(readFileSync(p.prometheusYml, 'utf8'), {
      sourceDir: p.prometheusDir,
      sdDir: '/tmp/sd',
      scrapeIntervalMs: 5000,
      jobAddresses: {
        collector: '127.0.0.1:1',
        pushgateway: '127.0.0.1:2',
        'node-exporter': null,
        prometheus: '127.0.0.1:3',
      },
      producerScrape: { off: true },
    });
    const jobs = (
      parse(derived.yaml) as { scrape_configs: { job_name: string; relabel_configs?: unknown[] }[] }
    ).scrape_configs;
    assert.deepEqual(jobs.find((j) => j.job_name === 'producers')!.relabel_configs, [
      { source_labels: ['__address__'], regex: '.*', action: 'drop' },
    ]);
    assert.equal(jobs.find((j) => j.job_name === 'collector')!.relabel_configs, undefined);
  });

  it('the verdict says pull was not measured, never that it lost or held', () => {
    const v = verdictSentence({
      config: { pushMode: 'per-event', transport: 'udp', pull: false, flushIntervalMs: 10_000 },
      paths: { pull: accountPath(0, 0, '', ''), push: accountPath(100, 100, '', '') },
      firstFailures: [],
      peaks: { scrapeP99Seconds: null },
      scrapeTimeoutSeconds: 5,
    });
    assert.match(v, /^push \(per-event UDP\) held: .*; pull was not measured \(--pull off/);
  });
});

describe("trialOverhead: a trial's time beyond its window", () => {
  const cases: [number, number, { wallS: number; overheadS: number }][] = [
    [65_000, 30_000, { wallS: 65, overheadS: 35 }], // the 2026-12-07 trials: ~35 s around a 30 s window
    [40_250, 30_000, { wallS: 40.3, overheadS: 10.3 }],
    [20_000, 30_000, { wallS: 20, overheadS: 0 }], // aborted early: never negative
  ];
  for (const [wall, window, want] of cases)
    it(`${wall} ms around a ${window} ms window`, () => assert.deepEqual(trialOverhead(wall, window), want));
});
