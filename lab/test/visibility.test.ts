import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CountAt, falsePagesOf, pathCounts, visibilityOf } from '../src/analysis/visibility.ts';
import type { ProbeSample } from '../src/core/record.ts';
import { newSample } from '../src/probe/sample.ts';

const T0 = 1_000_000;
/** A count that grows by `rate` per second from T0. */
const linear = (rate: number, fromS: number, toS: number, stepS = 1): CountAt[] => {
  const out: CountAt[] = [];
  for (let s = fromS; s <= toS; s += stepS) out.push({ tMs: T0 + s * 1000, v: Math.max(0, rate * s) });
  return out;
};
const win = { fromMs: T0, toMs: T0 + 20_000 };

describe('visibilityOf: how far the stored data trails the emitted orders', () => {
  it('a stored series that is the emitted one shifted by 5 s trails by 5 s', () => {
    const emitted = linear(100, 0, 40);
    const stored = emitted.map((p) => ({ tMs: p.tMs + 5000, v: p.v }));
    const v = visibilityOf(emitted, stored, win, 1, 'm')!;
    assert.equal(v.p50Seconds, 5);
    assert.equal(v.p90Seconds, 5);
    assert.equal(v.neverCaughtUp, 0);
    assert.equal(v.seconds, 21);
  });

  it('coarse stored readings give an upper bound at their resolution', () => {
    const emitted = linear(100, 0, 40);
    // Stored every 10 s, 2 s behind: at t the first reading ≥ E(t) is the next 10 s boundary ≥ t + 2.
    const stored = linear(100, 0, 40, 10).map((p) => ({ tMs: p.tMs + 2000, v: p.v }));
    const v = visibilityOf(emitted, stored, win, 1, 'm')!;
    assert.ok(v.p50Seconds! >= 2 && v.p50Seconds! <= 12, `p50 ${v.p50Seconds}`);
    assert.ok(v.p90Seconds! <= 12);
  });

  it('a path that lost orders is scaled by its delivery ratio, so the loss is not counted as lateness', () => {
    const emitted = linear(100, 0, 40);
    const stored = emitted.map((p) => ({ tMs: p.tMs + 3000, v: p.v * 0.9 }));
    assert.equal(visibilityOf(emitted, stored, win, 0.9, 'm')!.p90Seconds, 3);
    // Unscaled, the 10% loss would read as lateness growing with the count.
    const raw = visibilityOf(emitted, stored, win, 1, 'm')!;
    assert.ok(raw.p50Seconds! > 3, JSON.stringify(raw));
  });

  it('the late tail shows as a null p90 with its count', () => {
    const emitted = linear(100, 0, 20);
    // Stored stops at 1,500: seconds after 15 never catch up.
    const stored = emitted.map((p) => ({ tMs: p.tMs + 1000, v: Math.min(p.v, 1500) }));
    const v = visibilityOf(emitted, stored, win, 1, 'm')!;
    assert.equal(v.p50Seconds, 1);
    assert.equal(v.p90Seconds, null);
    assert.equal(v.neverCaughtUp, 5);
  });

  it('seconds with no reading after them are not measured, not "never caught up"; the resolution is kept', () => {
    const emitted = linear(100, 0, 20);
    // Readings every 5 s, 2 s late, that stop at 12 s (Prometheus stopped answering).
    const stored = linear(100, 0, 10, 5).map((p) => ({ tMs: p.tMs + 2000, v: p.v }));
    const v = visibilityOf(emitted, stored, win, 1, 'm')!;
    assert.equal(v.neverCaughtUp, 0);
    assert.equal(v.unmeasured, 10, 'seconds 11..20 have no reading after them');
    assert.equal(v.seconds, 11);
    assert.equal(v.resolutionSeconds, 5);
  });

  it('nothing to measure → null', () => {
    assert.equal(visibilityOf([], linear(1, 0, 5), win, 1, 'm'), null);
    assert.equal(visibilityOf(linear(1, 0, 5), [], win, 1, 'm'), null);
  });

  it('an empty stored series read after the burst is "never caught up", not unmeasured', () => {
    // Prometheus answered the read at +60 s but had stored nothing for the path (it could not scrape it).
    const v = visibilityOf(linear(100, 0, 40), [], win, 1, 'm', T0 + 60_000)!;
    assert.equal(v.seconds, 21);
    assert.equal(v.neverCaughtUp, 21);
    assert.equal(v.p50Seconds, null);
    // read before the burst ended: the late seconds stay unmeasured
    const early = visibilityOf(linear(100, 0, 40), linear(100, 0, 5), win, 1, 'm', T0 + 10_000)!;
    assert.equal(early.unmeasured, 15);
  });
});

/** A blank sample (what the probe starts each tick with) at `tS` seconds after T0. */
function sample(tS: number, over: Partial<ProbeSample>): ProbeSample {
  return { ...newSample('peak'), tMs: T0 + tS * 1000, ...over };
}

describe('pathCounts and falsePagesOf', () => {
  it('uses complete ledger ticks and fresh stored readings only', () => {
    const ledger = (o: number) => ({
      orders: o,
      ordersPushed: o,
      rejects: 0,
      registryEvents: 0,
      pushEvents: 0,
      datagrams: 0,
      bytes: 0,
      sendErrors: 0,
      heartbeats: 0,
    });
    const pull = (stored: number) => ({ storedOrders: stored, storedPushOrders: stored * 2 }) as never;
    const s = [
      sample(0, { ledger: ledger(10), ledgerProducers: 2, pull: pull(5) }),
      sample(1, { ledger: ledger(20), ledgerProducers: 1, pull: pull(5) }),
      sample(2, { ledger: ledger(30), ledgerProducers: 2, pull: pull(25) }),
    ];
    const c = pathCounts(s, 'pull', 2);
    assert.deepEqual(
      c.emitted.map((p) => p.v),
      [10, 30],
    );
    assert.deepEqual(
      c.stored.map((p) => p.v),
      [5, 25],
    );
    assert.deepEqual(
      pathCounts(s, 'push', 2).stored.map((p) => p.v),
      [10, 50],
    );
  });

  it('lists each alert that fired in the burst once, with its path, first time and most instances', () => {
    const s = [
      sample(-5, { alerts: [{ name: 'InstanceDown', state: 'firing', count: 1 }] }),
      sample(2, { alerts: [{ name: 'ScrapeDurationNearTimeout', state: 'pending', count: 3 }] }),
      sample(4, { alerts: [{ name: 'ScrapeDurationNearTimeout', state: 'firing', count: 2 }] }),
      sample(6, {
        alerts: [
          { name: 'ScrapeDurationNearTimeout', state: 'firing', count: 5 },
          { name: 'UdpReceiveErrors', state: 'firing', count: 1 },
          { name: 'SomethingNew', state: 'firing', count: 1 },
        ],
      }),
      sample(30, { alerts: [{ name: 'PushHeartbeatAbsent', state: 'firing', count: 1 }] }),
    ];
    assert.deepEqual(falsePagesOf(s, win), [
      { alert: 'ScrapeDurationNearTimeout', path: 'pull', firstFiringS: 4, maxFiring: 5 },
      { alert: 'UdpReceiveErrors', path: 'push', firstFiringS: 6, maxFiring: 1 },
      { alert: 'SomethingNew', path: 'both', firstFiringS: 6, maxFiring: 1 },
    ]);
  });
});
