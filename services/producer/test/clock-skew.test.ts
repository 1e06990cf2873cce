// TEST ONLY clock skew (PUSHPULL_TEST_CLOCK_SKEW_MS): parsed and bounded, and a producer built with it
// reports its own clock off by exactly the skew and says so in GET /control/state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LabError, ManualClock, skewedClock } from '@pushpull/common';
import { testClockSkewMs } from '../src/config.ts';
import { createProducer } from '../src/index.ts';

describe('test-only clock skew', () => {
  const cases: [string | undefined, number | RegExp][] = [
    [undefined, 0],
    ['', 0],
    ['0', 0],
    ['250', 250],
    ['-1200', -1200],
    ['600000', 600_000],
    ['600001', /PUSHPULL_TEST_CLOCK_SKEW_MS: "600001" is not an integer/],
    ['1.5', /"1.5" is not an integer/],
    ['soon', /"soon" is not an integer/],
  ];
  for (const [raw, want] of cases)
    it(`PUSHPULL_TEST_CLOCK_SKEW_MS=${JSON.stringify(raw)} → ${want}`, () => {
      const env = raw === undefined ? {} : { PUSHPULL_TEST_CLOCK_SKEW_MS: raw };
      if (typeof want === 'number') assert.equal(testClockSkewMs(env), want);
      else
        assert.throws(
          () => testClockSkewMs(env),
          (e: unknown) => e instanceof LabError && e.code === 'LAB_ERR_FLAG_VALUE' && want.test(e.message),
        );
    });

  it('a skewed producer opens at the schedule in its own clock and labels the skew in its state', () => {
    const base = new ManualClock(1_000_000);
    const p = createProducer(
      { pods: 1, name: 'sk', http: '127.0.0.1:0', statsd: 'udp://127.0.0.1:9', pushMode: 'off' },
      { clock: skewedClock(base, 300), testClockSkewMs: 300, autoTick: false },
    );
    assert.equal(p.state().atMs, 1_000_300);
    assert.equal(p.state().testClockSkewMs, 300);
    p.core.schedule(1_000_500);
    base.set(1_000_199); // its clock: 1_000_499, not yet
    p.tick();
    assert.equal(p.state().openedAtMs, null);
    base.set(1_000_200); // its clock reaches the open 300 ms before the base clock does
    p.tick();
    assert.equal(p.state().openedAtMs, 1_000_500);
    assert.equal(p.state().phase, 'ramp');
  });
});
