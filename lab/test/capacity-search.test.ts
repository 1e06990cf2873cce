import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '@pushpull/common';
import { halfPassLoad, type LevelStats, levelStatus, majority } from '../src/capacity/levels.ts';
import {
  initialState,
  type SearchOptions,
  type SearchResult,
  searchCapacity,
  step,
  type TrialOutcome,
  trialsLeft,
} from '../src/capacity/search.ts';

// The capacity search against pure fake trial functions and a fake clock: no stack, no time. Replicates
// near the knee, one trial far from it; a level holds when ⌈K/2⌉ of its K replicates hold.

const outcome = (load: number, held: boolean, o: Partial<TrialOutcome> = {}): TrialOutcome => ({
  load,
  held,
  failedCriterion: held ? null : 'push.lossPct',
  failedValue: held ? null : 5,
  machine: null,
  aborted: false,
  record: null,
  metrics: { lossPct: held ? 0.5 : 5 },
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
  replicates: 3,
  criterion: 'lossPct',
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

const level = (r: SearchResult, load: number | null) => r.levels.find((l) => l.load === load)!;

/** What every finished search must satisfy, whatever the trials said. */
function assertConsistent(r: SearchResult, o: SearchOptions) {
  const need = majority(o.replicates);
  if (r.maxHeld !== null && r.limitedBy !== 'budget')
    assert.ok(level(r, r.maxHeld).passes >= need, 'maxHeld decided');
  if (r.minFailed !== null) {
    const l = level(r, r.minFailed);
    assert.ok(
      l.trials - l.passes > o.replicates - need,
      `minFailed ${r.minFailed} decided: ${JSON.stringify(l)}`,
    );
  }
  if (r.limitedBy === 'path' && r.maxHeld !== null)
    assert.ok(r.minFailed! / r.maxHeld <= 1 + o.precision + 1e-9 || r.minFailed! - r.maxHeld <= 1);
  if (r.maxHeld !== null && r.minFailed !== null) assert.ok(r.maxHeld < r.minFailed);
  for (const l of r.levels) assert.ok(l.trials <= o.replicates, `level ${l.load}: ${l.trials} > K`);
}

describe('replicate statistics (pure)', () => {
  const t = (held: boolean) => outcome(10, held);
  const cases: [string, boolean[], number, string][] = [
    ['2 of 3 held', [true, false, true], 3, 'held'],
    ['1 of 3 held: retry-once would have called it held', [false, true, false], 3, 'failed'],
    ['a failure, then a hold: undecided', [false, true], 3, 'open'],
    ['two holds decide K = 3 early', [true, true], 3, 'held'],
    ['one hold, far from the knee', [true], 3, 'held-once'],
    ['K = 1: one hold', [true], 1, 'held'],
    ['K = 1: one failure', [false], 1, 'failed'],
    ['K = 5: 3 of 5', [true, false, true, false, true], 5, 'held'],
    ['K = 5: 2 holds, 3 failures', [true, false, true, false, false], 5, 'failed'],
  ];
  for (const [name, helds, k, want] of cases)
    it(`levelStatus: ${name} → ${want}`, () => assert.equal(levelStatus(helds.map(t), k), want));
  it('levelStatus: an aborted trial never counts', () =>
    assert.equal(levelStatus([outcome(10, true), outcome(10, false, { aborted: true })], 3), 'held-once'));

  const lv = (load: number, passFraction: number): LevelStats => ({
    load,
    trials: 3,
    passes: Math.round(passFraction * 3),
    passFraction,
    status: 'held',
    aborted: 0,
    criterion: null,
  });
  const halves: [string, LevelStats[], number | null][] = [
    ['between 1 and 0', [lv(40, 1), lv(50, 0)], 45],
    ['2/3 then 1/3', [lv(40, 2 / 3), lv(46, 1 / 3)], 43],
    ['exactly one half at 40', [lv(40, 0.5), lv(50, 0)], 40],
    ['never below half', [lv(40, 1), lv(80, 1)], null],
    ['below half from the first level', [lv(20, 0), lv(40, 0)], null],
  ];
  for (const [name, levels, want] of halves)
    it(`halfPassLoad: ${name} → ${want}`, () => assert.equal(halfPassLoad(levels), want));
});

describe('capacity search with replicates (pure, fake trials)', () => {
  it('monotone: one trial per level while doubling, K near the knee, bracket within 10 %', async () => {
    const { clock, tick } = fakeClock();
    const tried: number[] = [];
    const o = opts();
    const r = await searchCapacity(o, monotone(100, tick, tried), clock);
    assert.equal(r.limitedBy, 'path');
    // 20, 40, 80 once each; 160 fails twice (decided), 80 confirmed (2 holds), then split geometrically.
    assert.deepEqual(tried.slice(0, 6), [20, 40, 80, 160, 160, 80]);
    assert.equal(tried[6], 113); // √(80 × 160)
    assert.ok(r.maxHeld! <= 100 && r.minFailed! > 100, `${r.maxHeld}..${r.minFailed}`);
    assert.equal(level(r, 20).trials, 1);
    assert.equal(level(r, 40).trials, 1);
    assert.equal(r.bracketRatio, Math.round((r.minFailed! / r.maxHeld!) * 1000) / 1000);
    assert.ok(r.halfPassLoad! > r.maxHeld! && r.halfPassLoad! < r.minFailed!);
    assert.deepEqual(level(r, r.minFailed).criterion, {
      name: 'lossPct',
      median: 5,
      min: 5,
      max: 5,
      spread: 0,
    });
    assertConsistent(r, o);
  });

  for (const limit of [1, 7, 33, 250, 999])
    it(`monotone: brackets the true limit ${limit}`, async () => {
      const { clock, tick } = fakeClock();
      const o = opts();
      const r = await searchCapacity(o, monotone(limit, tick), clock);
      assert.equal(r.limitedBy, 'path');
      assert.ok((r.maxHeld ?? 0) <= limit && r.minFailed! > limit, `${r.maxHeld}..${r.minFailed}`);
      assertConsistent(r, o);
    });

  it('noisy: a level that holds 1 of 3 fails (no retry-once bias toward "held")', async () => {
    const { clock, tick } = fakeClock();
    const seen = new Map<number, number>();
    const o = opts({ max: 160 });
    const r = await searchCapacity(
      o,
      async (load) => {
        tick();
        const n = (seen.get(load) ?? 0) + 1;
        seen.set(load, n);
        // 40 pods: failed, held, failed (the 2026-12-07 push trial: 5.1 % lost, then 0.88 %); all else holds.
        return outcome(load, load !== 40 || n === 2);
      },
      clock,
    );
    assert.equal(seen.get(40), 3);
    assert.equal(r.minFailed, 40);
    assert.deepEqual(
      { passes: level(r, 40).passes, trials: level(r, 40).trials, status: level(r, 40).status },
      { passes: 1, trials: 3, status: 'failed' },
    );
    assert.ok(r.maxHeld! < 40);
    assertConsistent(r, o);
  });

  it('noisy: over 40 seeds the bracket lands around a soft limit of 100 pods', async () => {
    let near = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const rng = new Rng(seed);
      const { clock, tick } = fakeClock();
      const o = opts();
      // Pass probability falls from ~1 to ~0 around 100 pods (±8 % wide): a noisy machine.
      const r = await searchCapacity(
        o,
        async (load) => {
          tick();
          return outcome(load, rng.next() < 1 / (1 + Math.exp((load - 100) / 8)));
        },
        clock,
      );
      assertConsistent(r, o);
      if (r.limitedBy === 'path' && r.maxHeld! >= 75 && r.minFailed! <= 135) near++;
    }
    assert.ok(near >= 34, `${near} of 40 seeds bracketed the soft limit`);
  });

  it('never fails below --max-pods: one trial per level, the max confirmed, limitedBy config', async () => {
    const { clock, tick } = fakeClock();
    const tried: number[] = [];
    const o = opts({ max: 100 });
    const r = await searchCapacity(o, monotone(10_000, tick, tried), clock);
    assert.deepEqual(tried, [20, 40, 80, 100, 100]);
    assert.equal(r.limitedBy, 'config');
    assert.equal(r.maxHeld, 100);
    assert.equal(r.minFailed, null);
    assert.equal(r.halfPassLoad, null);
    assertConsistent(r, o);
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
    assert.equal(r.trials.length, 3);
  });

  it('budget: no trial starts after the deadline; an aborted trial is kept as evidence, never counted', async () => {
    const { clock, tick } = fakeClock(60_000);
    const r = await searchCapacity(opts({ deadlineMs: 150_000 }), monotone(10_000, tick), clock);
    assert.equal(r.limitedBy, 'budget');
    assert.equal(r.trials.length, 3); // at 0, 60 and 120 s; the 4th would start at 180 s
    assert.equal(r.maxHeld, 80);
    const { clock: c2 } = fakeClock();
    const r2 = await searchCapacity(
      opts(),
      async (load) =>
        load === 40
          ? outcome(load, false, { aborted: true, metrics: { lossPct: 23.6 } })
          : outcome(load, true),
      c2,
    );
    assert.equal(r2.limitedBy, 'budget');
    assert.equal(r2.maxHeld, 20);
    assert.equal(r2.minFailed, null);
    assert.equal(r2.trials.length, 2);
    assert.deepEqual(
      { trials: level(r2, 40).trials, aborted: level(r2, 40).aborted, criterion: level(r2, 40).criterion },
      { trials: 0, aborted: 1, criterion: null },
    );
  });

  it('the very first level fails: halves down to the smallest load, limitedBy path', async () => {
    const { clock, tick } = fakeClock();
    const o = opts();
    const r = await searchCapacity(o, monotone(0, tick), clock);
    assert.equal(r.maxHeld, null);
    assert.equal(r.minFailed, 1);
    assert.equal(r.limitedBy, 'path');
    assertConsistent(r, o);
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

  it('step and trialsLeft: the estimate shrinks as the bracket closes', () => {
    const o = opts();
    let s = initialState(o);
    const first = trialsLeft(s, o);
    for (const t of [outcome(20, true), outcome(40, false), outcome(40, false)]) s = step(s, t, o);
    assert.equal(s.next, 20); // the held side of the knee is confirmed next
    assert.ok(trialsLeft(s, o) <= first);
    s = step(s, outcome(20, true), o);
    assert.equal(s.next, 28); // √(20 × 40)
    const mid = trialsLeft(s, o);
    for (const t of [outcome(28, true), outcome(28, true)]) s = step(s, t, o);
    assert.ok(trialsLeft(s, o) <= mid);
    for (let i = 0; i < 12 && s.next !== null; i++) s = step(s, outcome(s.next, s.next <= 30), o);
    assert.equal(s.next, null);
    assert.equal(s.limitedBy, 'path');
    assert.equal(trialsLeft(s, o), 0);
  });
});
