import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sumCounts } from '@pushpull/common';
import {
  accountPath,
  counterTotal,
  formatLossPct,
  ledgerTotals,
  overSampleLimitQuery,
  partialAccount,
  pullDeliveredByPodQuery,
  pullDeliveredQuery,
  scrapedAfterQuery,
} from '../src/analysis/accounting.ts';
import { measurePeaks } from '../src/analysis/peaks.ts';
import { rateSeries, steppedRateSeries } from '../src/analysis/series.ts';
import type { Ledger } from '../src/core/record.ts';
import { ledger, sample, series, T0 } from './fixtures.ts';

describe('loss accounting', () => {
  it('lost = emitted − delivered, loss % of emitted, emitted == delivered + lost', () => {
    for (const [e, d] of [
      [1000, 1000],
      [1000, 877],
      [0, 0],
      [5, 7],
    ] as const) {
      const a = accountPath(e, d, 'x', 'y');
      assert.equal(a.emitted, a.delivered + a.lost);
      assert.equal(a.lossPct, e > 0 ? ((e - d) / e) * 100 : null);
    }
    assert.equal(accountPath(1000, 877, 'x', 'y').lossPct, 12.3);
  });

  it('sums ledgers over producers', () => {
    const mk = (name: string, orders: number, pushed: number): Ledger => ({
      name,
      atMs: 0,
      quiesced: true,
      total: ledger({ orders, ordersPushed: pushed, datagrams: pushed * 2 }),
      pods: {},
    });
    const t = ledgerTotals([mk('a', 10, 9), mk('b', 5, 5)]);
    assert.equal(t.orders, 15);
    assert.equal(t.ordersPushed, 14);
    assert.equal(t.datagrams, 28);
    assert.deepEqual(sumCounts([]), ledger());
  });

  it('counter totals across resets (a restarted pod) from raw samples', () => {
    assert.equal(counterTotal([1, 5, 9]), 9);
    assert.equal(counterTotal([1, 5, 9, 2, 4]), 13);
    assert.equal(counterTotal([3, 0, 0, 6, 1]), 10);
    assert.equal(counterTotal([]), 0);
    assert.equal(counterTotal([Number.NaN, 4]), 4);
  });

  it('the pull query sums the last stored value of every orders_total series', () => {
    assert.equal(pullDeliveredQuery(90.2), 'sum(max_over_time(orders_total{job="producers"}[91s]))');
    assert.equal(
      pullDeliveredQuery(10, 'producer-3'),
      'sum(max_over_time(orders_total{job="producers",container="producer-3"}[10s]))',
    );
    assert.equal(
      pullDeliveredQuery(10, 'a"b\\c'),
      'sum(max_over_time(orders_total{job="producers",container="a\\"b\\\\c"}[10s]))',
    );
  });

  it('per pod: the final scrapes for every pod, the whole run only for the pods missing there', () => {
    assert.equal(
      pullDeliveredByPodQuery(40, 'producer-0'),
      'sum by (pod) (max_over_time(orders_total{job="producers",container="producer-0"}[40s]))',
    );
    assert.equal(
      pullDeliveredByPodQuery(200, 'producer-0', ['producer-0-p1', 'a.b"c']),
      'sum by (pod) (max_over_time(orders_total{job="producers",container="producer-0",pod=~"producer-0-p1|a\\\\.b\\"c"}[200s]))',
    );
    assert.equal(
      scrapedAfterQuery(12.5, 'p'),
      '(timestamp(up{job="producers",container="p"}) > 12.500) and (up{job="producers",container="p"} == 1)',
    );
    assert.equal(
      overSampleLimitQuery(30, 200, 'p'),
      'max_over_time(scrape_samples_scraped{job="producers",container="p"}[30s]) > 200',
    );
  });

  it('formats loss percentages', () => {
    assert.equal(formatLossPct(null), 'n/a');
    assert.equal(formatLossPct(0), '0%');
    assert.equal(formatLossPct(12.345), '12.3%');
    assert.equal(formatLossPct(1.234), '1.23%');
  });
});

describe('rates and peaks from the series', () => {
  it('rate of a counter per second; a reset yields a gap, not a negative rate', () => {
    const s = [0, 100, 300, 50, 150].map((v, i) => sample(i, { ledger: ledger({ orders: v }) }));
    const r = rateSeries(s, T0, (x) => x.ledger?.orders).map((p) => p.y);
    assert.deepEqual(r, [null, 100, 200, null, 100]);
  });

  it('a stepped (per-scrape) counter is spread over the time since its last change', () => {
    const s = [0, 0, 0, 300, 300, 300, 600].map((v, i) =>
      sample(i, { pull: { ...sample(0).pull!, storedOrders: v } }),
    );
    const r = steppedRateSeries(s, T0, (x) => x.pull?.storedOrders).map((p) => p.y);
    assert.deepEqual(r, [null, 100, 100, 100, 100, 100, 100]);
  });

  it('pull delivered per second: the recording rule when Prometheus evaluated it, else the stepped total', async () => {
    const { pullDeliveredRate } = await import('../src/analysis/series.ts');
    const withRule = [0, 1, 2].map((i) =>
      sample(i, { pull: { ...sample(0).pull!, storedOrdersRate: 10 * i } }),
    );
    assert.deepEqual(
      pullDeliveredRate(withRule, T0).map((p) => p.y),
      [0, 10, 20],
    );
    const stepped = [0, 0, 300].map((v, i) => sample(i, { pull: { ...sample(0).pull!, storedOrders: v } }));
    assert.deepEqual(
      pullDeliveredRate(stepped, T0).map((p) => p.y),
      [null, 150, 150],
    );
  });

  it('peaks', () => {
    const p = measurePeaks(series(-2, 5), T0);
    assert.equal(p.pullEmittedPerSec, 100);
    assert.equal(p.pushDeliveredPerSec, 100);
    assert.equal(p.collectorPacketsPerSec, 200);
    assert.equal(p.udpDropsPerSec, 0);
    assert.equal(p.bodyBytesMax, 18_000);
  });
});

describe("the model's predicted flush peak beside the measured one", async () => {
  const { modelPeak } = await import('../src/burst/run.ts');
  const { CONFIG } = await import('./fixtures.ts');
  // 10 pods, aggregated, 10 s flushes, 30 datagrams/s fleet-wide → 30 datagrams per pod per flush.
  const s = series(0, 20, (sec) => ({ ledger: ledger({ datagrams: sec * 30 }) }));
  it('aggregated mode: a prediction in packets per 1 s bin, with the measured value next to it', () => {
    const m = modelPeak({ ...CONFIG, pushMode: 'aggregated', jitter: false }, s, T0, T0 + 20_000, 123);
    assert.ok(m);
    assert.equal(m.unit, 'packets per 1 s bin');
    assert.equal(m.measured, 123);
    assert.equal(m.value, 300, 'jitter off: one round of 10 pods × 30 packets lands in one bin');
    const j = modelPeak({ ...CONFIG, pushMode: 'aggregated', jitter: true }, s, T0, T0 + 20_000, 123);
    assert.ok(j && j.value < 300, 'jitter spreads the flushes');
  });
  it('a fractional mean per flush scales the prediction instead of being floored', () => {
    // 10 pods, 10 s flushes, 15 datagrams/s fleet-wide → 15 per pod per flush; 16.5/s → 16.5.
    const frac = series(0, 20, (sec) => ({ ledger: ledger({ datagrams: sec * 16.5 }) }));
    const m = modelPeak({ ...CONFIG, pushMode: 'aggregated', jitter: false }, frac, T0, T0 + 20_000, null);
    assert.ok(m);
    assert.ok(Math.abs(m.value - 165) < 1e-9, `10 pods × 16.5 (got ${m.value})`);
    assert.match(m.note, /16\.50 packets per 10 s flush/);
  });
  it('per-event mode has no flush to predict', () => {
    assert.equal(modelPeak({ ...CONFIG, pushMode: 'per-event' }, s, T0, T0 + 20_000, 1), null);
  });
});

describe('partialAccount: a run that stopped early', () => {
  const cases: {
    what: string;
    emitted: number;
    delivered: number;
    lost: number;
    pct: number | null;
    note: boolean;
  }[] = [
    {
      what: 'delivered below emitted: the partial loss as read',
      emitted: 100,
      delivered: 60,
      lost: 40,
      pct: 40,
      note: false,
    },
    { what: 'all delivered', emitted: 100, delivered: 100, lost: 0, pct: 0, note: false },
    // A reused stack's store still held an earlier trial's orders (the aborted capacity trial of 2026-12-08).
    {
      what: 'more delivered than emitted: no loss figure, said so',
      emitted: 54_068,
      delivered: 216_695,
      lost: 0,
      pct: null,
      note: true,
    },
  ];
  for (const c of cases)
    it(c.what, () => {
      const a = partialAccount(c.emitted, c.delivered, 'ledgers', 'Prometheus');
      assert.equal(a.lost, c.lost);
      assert.equal(a.lossPct, c.pct);
      assert.equal(a.delivered, c.delivered);
      assert.equal(/no loss figure/.test(a.deliveredFrom), c.note);
    });
});
