import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArrivalBins } from '../src/expose/arrivals.ts';

describe('arrival bins', () => {
  it('counts arrivals per 100 ms bin, with zeros for silent bins', () => {
    const a = new ArrivalBins(100, 50);
    const t = 1_000_000;
    a.record(1, t);
    a.record(2, t + 50);
    a.record(5, t + 320);
    const s = a.snapshot(t + 399);
    assert.equal(s.binMs, 100);
    const rel = s.counts.slice((t - s.startMs) / 100);
    assert.deepEqual(rel, [3, 0, 0, 5]);
  });
  it('forgets bins older than the ring and re-zeroes reused slots', () => {
    const a = new ArrivalBins(100, 10);
    a.record(7, 0);
    a.record(1, 1000); // same slot as bin 0 one lap later
    const s = a.snapshot(1000);
    assert.equal(s.counts.length, 10);
    assert.equal(
      s.counts.reduce((x, y) => x + y, 0),
      1,
    );
    assert.equal(s.counts[s.counts.length - 1], 1);
    a.record(4, 0); // older than the ring: ignored
    assert.equal(
      a.snapshot(1000).counts.reduce((x, y) => x + y, 0),
      1,
    );
  });
  it('an empty ring reports one zero bin', () => {
    assert.deepEqual(new ArrivalBins().snapshot(250).counts, [0]);
  });
});
