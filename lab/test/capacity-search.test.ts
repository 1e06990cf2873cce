import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  initialState,
  type SearchOptions,
  searchCapacity,
  step,
  type TrialOutcome,
  trialsLeft,
} from '../src/capacity/search.ts';

// The capacity search against pure fake trial functions and a fake clock: no stack, no time.

const outcome = (load: number, held: boolean, o: Partial<TrialOutcome> = {}): TrialOutcome => ({
  load,
  held,
  failedCriterion: held ? null : 'push.lossPct',
  failedValue: held ? null : 5,
  machine: null,
  aborted: false,
  record: null,
  metrics: {},
  ...o,
});

/** A fake clock every trial advances by `trialMs`. */
function fakeClock(trialMs = 60_000) {
  let now = 0;
  return { clock: { now: () => now }, tick: () => (now += trialMs) };
}

const opts = (o: Partial<SearchOptions> = {}): SearchOptions => ({
  start: 20,
  max: 1400,
  min: 1,
  precision: 0.1,
  deadlineMs: Number.POSITIVE_INFINITY,
  ...o,
});

/** Holds up to `limit` pods; records every load tried. */
function monotone(limit: number, tick: () => void, tried: number[] = []) {
  return async (load: number) => {
    tried.push(load);
    tick();
    return outcome(load, load <= limit);
  };
}

describe('capacity search (pure, fake trials)', () => {
  it('monotone: doubles from 20 until a trial fails, then bisects to ±10 %', async () => {
    const { clock, tick } = fakeClock();
    const tried: number[] = [];
    const r = await searchCapacity(opts(), monotone(100, tick, tried), clock);
    assert.equal(r.limitedBy, 'path');
    assert.deepEqual(tried.slice(0, 5), [20, 40, 80, 160, 160]); // 160 failed, retried once
    assert.ok(r.maxHeld! <= 100 && r.minFailed! > 100, `${r.maxHeld}..${r.minFailed}`);
    assert.ok(r.minFailed! - r.maxHeld! <= Math.max(1, 0.1 * r.maxHeld!));
    assert.equal(r.failedCriterion, 'push.lossPct');
    assert.equal(r.trials.length, tried.length);
  });

  for (const limit of [1, 7, 33, 250, 999])
    it(`monotone: brackets the true limit ${limit} and never tries a load twice unless retrying`, async () => {
      const { clock, tick } = fakeClock();
      const tried: number[] = [];
      const r = await searchCapacity(opts({ start: 20 }), monotone(limit, tick, tried), clock);
      assert.equal(r.limitedBy, 'path');
      assert.ok((r.maxHeld ?? 0) <= limit && r.minFailed! > limit);
      const failedTwice = tried.filter((l, i) => tried.indexOf(l) !== i);
      for (const l of failedTwice) assert.ok(l > limit, `${l} was retried although it held`);
    });

  it('noisy: a failure that holds on its retry counts as held', async () => {
    const { clock, tick } = fakeClock();
    const seen = new Map<number, number>();
    const r = await searchCapacity(
      opts({ max: 160 }),
      async (load) => {
        tick();
        const n = (seen.get(load) ?? 0) + 1;
        seen.set(load, n);
        // 40 pods fails once (noise), then holds; everything up to 160 holds.
        return outcome(load, !(load === 40 && n === 1));
      },
      clock,
    );
    assert.equal(seen.get(40), 2);
    assert.equal(r.maxHeld, 160);
    assert.equal(r.minFailed, null);
    assert.equal(r.limitedBy, 'config');
  });

  it('machine-limited: ends the search with the resource named, maxHeld kept', async () => {
    const { clock, tick } = fakeClock();
    const r = await searchCapacity(
      opts(),
      async (load) => {
        tick();
        return load >= 80
          ? outcome(load, false, { machine: 'memory (host MemAvailable, GiB)', failedValue: 0.8 })
          : outcome(load, true);
      },
      clock,
    );
    assert.equal(r.limitedBy, 'machine');
    assert.equal(r.maxHeld, 40);
    assert.deepEqual(r.machine, { resource: 'memory (host MemAvailable, GiB)', load: 80 });
    assert.equal(r.trials.length, 3); // a machine-limited trial is not retried
  });

  it('budget-limited: no trial starts after the deadline; an aborted trial counts neither way', async () => {
    const { clock, tick } = fakeClock(60_000);
    const r = await searchCapacity(opts({ deadlineMs: 150_000 }), monotone(10_000, tick), clock);
    assert.equal(r.limitedBy, 'budget');
    assert.equal(r.trials.length, 3); // at 0, 60 and 120 s; the 4th would start at 180 s
    assert.equal(r.maxHeld, 80);
    const { clock: c2 } = fakeClock();
    const r2 = await searchCapacity(
      opts(),
      async (load) => (load === 40 ? outcome(load, false, { aborted: true }) : outcome(load, true)),
      c2,
    );
    assert.equal(r2.limitedBy, 'budget');
    assert.equal(r2.maxHeld, 20);
    assert.equal(r2.minFailed, null);
  });

  it('config: every trial held up to --max-pods (the max itself is tried)', async () => {
    const { clock, tick } = fakeClock();
    const tried: number[] = [];
    const r = await searchCapacity(opts({ max: 100 }), monotone(10_000, tick, tried), clock);
    assert.deepEqual(tried, [20, 40, 80, 100]);
    assert.equal(r.limitedBy, 'config');
    assert.equal(r.maxHeld, 100);
  });

  it('the very first trial fails: bisects down to the smallest load, limitedBy path', async () => {
    const { clock, tick } = fakeClock();
    const r = await searchCapacity(opts(), monotone(0, tick), clock);
    assert.equal(r.maxHeld, null);
    assert.equal(r.minFailed, 1);
    assert.equal(r.limitedBy, 'path');
  });

  it('is bounded in trials whatever the trial function answers', async () => {
    const { clock } = fakeClock();
    let n = 0;
    const r = await searchCapacity(
      opts(),
      async (load) => outcome(load, n++ % 2 === 0), // alternates: the worst noise
      clock,
      undefined,
      12,
    );
    assert.ok(r.trials.length <= 12);
  });

  it('step and trialsLeft: the progress estimate shrinks as the bracket closes', () => {
    const o = opts();
    let s = initialState(o);
    const first = trialsLeft(s, o);
    s = step(s, outcome(20, true), o);
    s = step(s, outcome(40, false), o);
    s = step(s, outcome(40, false), o); // counted after its retry
    assert.equal(s.hi, 40);
    assert.ok(trialsLeft(s, o) < first + 2);
    assert.equal(s.next, 30);
    s = step(s, outcome(30, true), o);
    s = step(s, outcome(35, true), o);
    s = step(s, outcome(37, true), o);
    assert.equal(s.next, null);
    assert.equal(trialsLeft(s, o), 0);
  });
});
