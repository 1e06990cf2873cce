// Live progress with a fake clock and sink: without a terminal a status line at least every ~10 s (phase,
// elapsed, ETA) and never more often; on a terminal the redrawn status line carries the ETA; the ETA comes
// from the run's planned phases (warm-up bound, lead, burst window, final scrapes).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateRemaining, formatEta, type RunPlan } from '../src/burst/eta.ts';
import { createProgress } from '../src/burst/progress.ts';
import { sample, T0 } from './fixtures.ts';

const PLAN: RunPlan = { warmupMaxMs: 120_000, leadMs: 3_000, burstMs: 121_000, scrapeIntervalMs: 15_000 };
const info = { elapsedMs: 0, pods: 140, producers: 3 };

function harness(isTTY: boolean) {
  let now = T0;
  const written: string[] = [];
  const p = createProgress(
    { write: (s) => written.push(s), isTTY, columns: 400 },
    { plan: PLAN, now: () => now, timer: false },
  );
  return {
    p,
    written,
    advance(ms: number) {
      now += ms;
    },
    lines: () => written.join('').split('\n').filter(Boolean),
  };
}

describe('ETA from the planned phases', () => {
  it('sums what is left of the current phase and every later one', () => {
    // warm-up just began: 120 (bound) + 3 (lead) + 121 (window) + 1 (quiesce) + 32 (2 x 15 s + 2) + 20 (collect)
    const w = estimateRemaining(PLAN, 'warmup', T0, T0);
    assert.deepEqual(w, { remainingMs: 297_000, upperBound: true });
    // 30 s into the burst window (any profile phase): 91 + 1 + 32 + 20, and no longer a bound.
    assert.deepEqual(estimateRemaining(PLAN, 'decay', T0, T0 + 30_000), {
      remainingMs: 144_000,
      upperBound: false,
    });
    // a phase that overran its plan counts as done, not negative
    assert.equal(estimateRemaining(PLAN, 'final-scrapes', T0, T0 + 99_000)?.remainingMs, 20_000);
    assert.equal(estimateRemaining(PLAN, 'done', T0, T0), null);
  });
  it('formats minutes and seconds, rounding up, bound or estimate', () => {
    assert.equal(formatEta({ remainingMs: 282_000, upperBound: true }), 'eta ≤4m42s');
    assert.equal(formatEta({ remainingMs: 65_001, upperBound: false }), 'eta ~1m06s');
    assert.equal(formatEta({ remainingMs: 400, upperBound: false }), 'eta ~1s');
  });
});

describe('progress without a terminal', () => {
  it('writes a status line every ~10 s between phase lines, with phase, elapsed and ETA', () => {
    const h = harness(false);
    h.p.phase('start', info);
    h.advance(9_000);
    h.p.tick();
    assert.equal(h.lines().length, 1, 'nothing before 10 s');
    h.advance(1_000);
    h.p.tick();
    assert.equal(h.lines().length, 2);
    assert.match(h.lines()[1]!, /^\[ {2}10\.0s\] start eta ≤5m02s$/);
    h.p.phase('warmup', { ...info, elapsedMs: 12_000 });
    assert.match(h.lines()[2]!, /warmup \(140 pods on 3 producers\) — eta ≤4m57s$/);
    // 90 s of warm-up with a probe sample every second: one line per 10 s, not one per sample.
    for (let i = 1; i <= 90; i++) {
      h.advance(1_000);
      h.p.sample(sample(i - 200, { phase: 'warmup' }), {
        burstAtMs: null,
        scrapeIntervalMs: 15_000,
        pods: 140,
      });
    }
    const status = h.lines().slice(3);
    assert.equal(status.length, 9, status.join('\n'));
    assert.ok(status.every((l) => /warmup +eta ≤\d+m\d\ds \| 140 pods\/3 producers \| pull/.test(l)));
    // the ETA counts down as warm-up goes on
    const etas = status.map((l) => Number(/eta ≤(\d+)m(\d\d)s/.exec(l)!.slice(1, 3).join('.')));
    assert.ok(
      etas.every((v, i) => i === 0 || v < etas[i - 1]!),
      etas.join(' '),
    );
    assert.ok(!h.written.join('').includes('\r'), 'no carriage returns in a log');
  });
  it('stops once the run is done', () => {
    const h = harness(false);
    h.p.phase('done', info);
    h.advance(60_000);
    h.p.tick();
    assert.equal(h.lines().length, 1);
  });
});

describe('progress on a terminal', () => {
  it('redraws one status line with the ETA and writes no periodic lines', () => {
    const h = harness(true);
    h.p.phase('scheduled', info);
    h.advance(3_000);
    h.p.phase('ramp', info);
    h.advance(30_000);
    h.p.sample(sample(30), { burstAtMs: T0 + 3_000, scrapeIntervalMs: 15_000, pods: 140 });
    const last = h.written[h.written.length - 1]!;
    assert.ok(last.startsWith('\r\x1b[2K'), 'redrawn in place');
    assert.match(last.slice(5), /^\[ {2}33s T\+27s\] peak +eta ~2m24s \| 140 pods\/3 producers/);
    h.advance(20_000);
    h.p.tick();
    assert.equal(h.written[h.written.length - 1], last, 'tick writes nothing on a terminal');
    h.p.close();
    assert.equal(h.written[h.written.length - 1], '\r\x1b[2K', 'close clears the status line');
  });
});
