import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  attributeLoss,
  causeText,
  dominantCause,
  type PullPodOutcome,
  type PushLossInput,
  pullLossCauses,
  pushLossCauses,
} from '../src/analysis/causes.ts';
import type { LossCause } from '../src/core/record.ts';

const sum = (cs: readonly LossCause[]) => cs.reduce((a, c) => a + c.orders, 0);
const byCause = (cs: readonly LossCause[]) => Object.fromEntries(cs.map((c) => [c.cause, c.orders]));

describe('attributeLoss: causes add up to the loss, exactly', () => {
  it('takes estimates in order, caps them, and lists the remainder as unexplained', () => {
    const cs = attributeLoss(100, [
      { cause: 'send-error', orders: 10.4, countedBy: 'x', estimate: true },
      { cause: 'kernel-rcvbuf', orders: 200, countedBy: 'y', estimate: false },
      { cause: 'in-flight', orders: 5, countedBy: 'z', estimate: false },
    ]);
    assert.deepEqual(byCause(cs), { 'send-error': 10, 'kernel-rcvbuf': 90, unexplained: 0 });
    assert.equal(sum(cs), 100);
    assert.match(cs[1]!.countedBy, /capped/);
    assert.match(cs[0]!.countedBy, /^estimate: /);
    assert.equal(cs[1]!.share, 0.9);
  });

  it('keeps an unexplained remainder visible', () => {
    const cs = attributeLoss(1000, [{ cause: 'send-error', orders: 1, countedBy: 'x', estimate: false }]);
    assert.deepEqual(byCause(cs), { 'send-error': 1, unexplained: 999 });
    assert.equal(dominantCause(cs)?.cause, 'unexplained');
  });

  it('has no causes when nothing was lost or more was delivered than emitted', () => {
    assert.deepEqual(attributeLoss(0, [{ cause: 'a', orders: 5, countedBy: '', estimate: false }]), []);
    assert.deepEqual(attributeLoss(-3, []), []);
  });

  it('sums exactly for any loss and any estimates (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e9 }),
        fc.array(fc.double({ min: 0, max: 2e9, noNaN: true }), { maxLength: 6 }),
        (lost, raw) => {
          const cs = attributeLoss(
            lost,
            raw.map((o, i) => ({ cause: `c${i}`, orders: o, countedBy: '', estimate: true })),
          );
          assert.equal(sum(cs), lost);
          for (const c of cs) assert.ok(c.orders >= 0 && Number.isInteger(c.orders));
          assert.equal(cs[cs.length - 1]!.cause, 'unexplained');
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});

const push = (over: Partial<PushLossInput>): PushLossInput => ({
  lost: 0,
  pushMode: 'per-event',
  transport: 'udp',
  ordersPushed: 1000,
  pushEvents: 2000,
  datagrams: 2000,
  sendErrors: 0,
  datagramsReceived: 2000,
  refusedLines: {},
  inFlightOrders: 0,
  ...over,
});

describe('pushLossCauses', () => {
  it('the issue-10 run: most of the loss is the series limit, not the kernel', () => {
    // Shape of the default run that motivated this: 1.4% of datagrams dropped by the kernel, the
    // collector refusing 1.75 M lines at its series limit.
    const cs = pushLossCauses(
      push({
        lost: 1_787_963,
        ordersPushed: 3_061_597,
        pushEvents: 6_180_024,
        datagrams: 6_180_024,
        datagramsReceived: 6_180_024 - 87_092,
        refusedLines: { 'series-limit': 1_753_927 },
      }),
    );
    assert.equal(sum(cs), 1_787_963);
    const top = dominantCause(cs)!;
    assert.equal(top.cause, 'collector-refused:series-limit');
    assert.ok(top.share > 0.95, `share ${top.share}`);
    assert.ok(byCause(cs)['kernel-rcvbuf']! > 40_000 && byCause(cs)['kernel-rcvbuf']! < 45_000);
  });

  it('per-event refusals are bounded by one order per refused line', () => {
    const cs = pushLossCauses(push({ lost: 500, refusedLines: { 'parse-error': 100 } }));
    assert.deepEqual(byCause(cs), { 'collector-refused:parse-error': 100, unexplained: 400 });
  });

  it('aggregated refusals count the mean orders per line', () => {
    const cs = pushLossCauses(
      push({
        lost: 500,
        pushMode: 'aggregated',
        ordersPushed: 1000,
        pushEvents: 100,
        refusedLines: { x: 3 },
      }),
    );
    assert.deepEqual(byCause(cs), { 'collector-refused:x': 30, unexplained: 470 });
  });

  it('send errors and kernel drops convert datagrams at the mean orders per datagram', () => {
    const cs = pushLossCauses(
      push({ lost: 300, ordersPushed: 1000, datagrams: 500, sendErrors: 50, datagramsReceived: 400 }),
    );
    // 2 orders per datagram: 50 send errors → 100 orders; 500 − 50 − 400 = 50 missing → 100 orders.
    assert.deepEqual(byCause(cs), { 'send-error': 100, 'kernel-rcvbuf': 100, unexplained: 100 });
  });

  it('TCP has no kernel-drop estimate; in-flight is listed', () => {
    const cs = pushLossCauses(
      push({ lost: 10, transport: 'tcp', datagramsReceived: null, inFlightOrders: 4 }),
    );
    assert.deepEqual(byCause(cs), { 'in-flight': 4, unexplained: 6 });
  });
});

const pod = (over: Partial<PullPodOutcome>): PullPodOutcome => ({
  pod: 'p',
  emitted: 100,
  stored: 100,
  scrapedAfterQuiesce: true,
  died: false,
  overSampleLimit: false,
  ...over,
});

describe('pullLossCauses', () => {
  it('unverified pods count whole: the denominator never shrinks', () => {
    const pods = [pod({ stored: null, emitted: 5700 }), pod({ emitted: 4300, stored: 4300 })];
    const lost = 5700;
    const cs = pullLossCauses(lost, pods, false);
    assert.deepEqual(byCause(cs), { unverified: 5700, unexplained: 0 });
    assert.equal(dominantCause(cs)!.share, 1);
  });

  it('a pod is explained by how its scrapes ended', () => {
    const pods = [
      pod({ pod: 'a', stored: 90, died: true }),
      pod({ pod: 'b', stored: 80, scrapedAfterQuiesce: false, overSampleLimit: true }),
      pod({ pod: 'c', stored: 70, scrapedAfterQuiesce: false }),
      pod({ pod: 'd', stored: 99, scrapedAfterQuiesce: true }),
    ];
    const lost = 10 + 20 + 30 + 1;
    assert.deepEqual(byCause(pullLossCauses(lost, pods, false)), {
      'target-died': 10,
      'scrape-over-limit': 20,
      'scrape-failed': 30,
      'not-stored': 1,
      unexplained: 0,
    });
    assert.equal(byCause(pullLossCauses(lost, pods, true))['prometheus-overloaded'], 30);
  });

  it('causes never exceed the loss (an over-delivering pod does not cancel out)', () => {
    const pods = [pod({ stored: 150 }), pod({ stored: 50, scrapedAfterQuiesce: false })];
    const cs = pullLossCauses(0, pods, false);
    assert.deepEqual(cs, []);
  });

  it('causes read as words', () => {
    assert.equal(causeText('collector-refused:series-limit'), 'refused by the collector (series-limit)');
    assert.equal(
      causeText('unverified'),
      'could not be verified (Prometheus did not answer for its producer)',
    );
  });
});
