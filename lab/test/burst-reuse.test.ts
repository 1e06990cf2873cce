import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type LingeringSeries,
  lingeringAt,
  lingeringOf,
  type Rebasable,
  rebase,
  rebaseCollector,
  windowSeconds,
} from '../src/burst/reuse.ts';
import type { CollectorSnapshot, ProbeSample } from '../src/core/record.ts';
import { emptyPull, newSample } from '../src/probe/sample.ts';
import { collector } from './fixtures.ts';

// A run on a stack an earlier run left up (#25) reads only what it produced: its query windows never reach
// before its floor, the collector's counters are rebased on their values before its fleet started, and
// earlier pods' values are taken out of pull's stored total while the rule still sums them.

// The fixtures' collector with every kernel and drop counter at zero (the rebase subtracts them all).
const snap = (o: Partial<CollectorSnapshot> = {}): CollectorSnapshot =>
  collector({
    refusedByReason: null,
    socketDrops: 0,
    kernelRcvbufErrors: 0,
    kernelInErrors: 0,
    kernelInDatagrams: 0,
    ...o,
  });

describe('windowSeconds: a query window never reaches before the floor', () => {
  const cases: [string, number, number, number, number | null, number][] = [
    ['fresh stack: from the fleet start plus slack', 100_000, 40_000, 10, null, 70],
    ['shared stack, floor far before: the same', 100_000, 40_000, 10, 0, 70],
    ['shared stack: the slack is cut at the floor', 100_000, 40_000, 10, 38_500, 61],
    ['floor after the fleet start (clock skew): still ≥ 1 s', 100_000, 99_900, 10, 99_950, 1],
  ];
  for (const [name, now, from, slack, floor, want] of cases)
    it(name, () => assert.equal(windowSeconds(now, from, slack, floor), want));
});

describe('rebaseCollector: counters as this run increased them, gauges as read', () => {
  const base = snap({
    orders: 1_000,
    packetsUdp: 900,
    lines: 1_200,
    socketDrops: 40,
    refusedByReason: { max_series: 5, parse_error: 1 },
    series: 300,
  });
  const cases: [string, CollectorSnapshot | null, CollectorSnapshot, Partial<CollectorSnapshot>][] = [
    ['no baseline: unchanged', null, snap({ orders: 7, series: 3 }), { orders: 7, series: 3 }],
    [
      'counters less the baseline; series (a gauge) kept',
      base,
      snap({
        orders: 1_500,
        packetsUdp: 1_300,
        lines: 1_800,
        socketDrops: 45,
        refusedByReason: { max_series: 5, parse_error: 3, oversize: 2 },
        series: 310,
      }),
      {
        orders: 500,
        packetsUdp: 400,
        lines: 600,
        socketDrops: 5,
        refusedByReason: { max_series: 0, parse_error: 2, oversize: 2 },
        series: 310,
      },
    ],
    [
      'a counter that went back (restarted collector) is never negative; null stays null',
      base,
      snap({ orders: 10, packetsUdp: null }),
      { orders: 0, packetsUdp: null },
    ],
  ];
  for (const [name, b, s, want] of cases)
    it(name, () => {
      const got = rebaseCollector(s, b);
      for (const [k, v] of Object.entries(want))
        assert.deepEqual(got[k as keyof CollectorSnapshot], v, `${name}: ${k}`);
    });
});

describe('lingering: earlier pods in the stored rule until its lookback passes', () => {
  const lingering: LingeringSeries[] = [
    { pod: 'producer-0-p0', tMs: 10_000, value: 100 },
    { pod: 'producer-1-p0', tMs: 10_000, value: 40 },
    { pod: 'producer-1-p1', tMs: 20_000, value: 2 },
  ];
  const current = new Set(['producer-0-p0']); // scraped anew in this run: its old value is replaced
  const cases: [number, number][] = [
    [5_000, 0], // before the samples
    [20_000, 42],
    [70_000, 42], // 60 s after the first: still in last_over_time(…[1m])
    [70_001, 2],
    [80_001, 0],
  ];
  for (const [u, want] of cases)
    it(`at ${u} ms: ${want}`, () => assert.equal(lingeringAt(lingering, current, u), want));

  it('lingeringOf: per pod, the sum of its last values and its last successful scrape before the floor', () => {
    const sums = [
      { metric: { pod: 'a' }, value: [10, '1500'] as [number, string] },
      { metric: { pod: 'b' }, value: [10, '30'] as [number, string] },
      { metric: { pod: 'c' }, value: [10, 'NaN'] as [number, string] },
    ];
    const up = [
      {
        metric: { pod: 'a' },
        values: [
          [8, '1'],
          [9, '0'], // its last scrape failed: the values are those of 8 s
          [12, '1'], // after the floor: this run's
        ] as [number, string][],
      },
      { metric: { pod: 'b' }, values: [[7.5, '1']] as [number, string][] },
      { metric: { pod: 'c' }, values: [[9.5, '1']] as [number, string][] },
    ];
    assert.deepEqual(lingeringOf(sums, up, 10_000), [
      { pod: 'a', tMs: 8_000, value: 1500 },
      { pod: 'b', tMs: 7_500, value: 30 },
    ]);
  });
});

describe('rebase: what a run on a shared stack measured becomes what it produced', () => {
  const sample = (tMs: number, orders: number, storedOrders: number, storedPush: number): ProbeSample => ({
    ...newSample('peak'),
    tMs,
    pull: { ...emptyPull(), storedOrders, storedPushOrders: storedPush },
    collector: snap({ orders }),
  });

  const measured = (): Rebasable => ({
    samples: [sample(30_000, 1_250, 540, 1_250), sample(90_000, 1_600, 700, 1_600)],
    pushDelivered: 1_700,
    collectorUdpPackets: 900,
    collectorRefused: { max_series: 0 },
    otlpRefused: null,
    stored: {
      pull: { points: [[30_000, 540] as [number, number], [90_000, 700] as [number, number]], from: 'rule' },
      push: { points: [[30_000, 1_250] as [number, number]], from: 'rule' },
    },
  });
  const reuse = {
    floorMs: 25_000,
    collectorBaseline: snap({ orders: 1_000, packetsUdp: 500 }),
    lingering: [{ pod: 'old', tMs: 24_000, value: 40 }],
  };

  it('push: the collector baseline comes off every reading and the final count', () => {
    const m = measured();
    rebase(m, reuse, new Set(['new']));
    assert.deepEqual(
      m.samples.map((s) => s.collector?.orders),
      [250, 600],
    );
    assert.deepEqual(
      m.samples.map((s) => s.pull?.storedPushOrders),
      [250, 600],
    );
    assert.equal(m.pushDelivered, 700);
    assert.equal(m.collectorUdpPackets, 400);
    assert.deepEqual(m.stored.push?.points, [[30_000, 250]]);
  });

  it('pull: the earlier pod counts while within the rule’s minute, then no more', () => {
    const m = measured();
    rebase(m, reuse, new Set(['new']));
    assert.deepEqual(
      m.samples.map((s) => s.pull?.storedOrders),
      [500, 700],
    );
    assert.deepEqual(m.stored.pull?.points, [
      [30_000, 500],
      [90_000, 700],
    ]);
  });

  it('nothing to rebase (no baseline read, no earlier pods): unchanged', () => {
    const m = measured();
    rebase(m, { floorMs: 25_000, collectorBaseline: null, lingering: [] }, new Set());
    assert.deepEqual(m, measured());
  });
});
