// Issue 11, item 7: a seeded property-based fuzz of parse -> aggregate -> expose that keeps the hardening
// fixed: (a) no exception, (b) exact accounting matching the rendered counters, (c) valid text format per
// case and the merged exposition through the real promtool (naming lints only), (d) no "__" label.
// The long run (>= 100,000 cases) is bench/fuzz.bench.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkCase, checkExposition, datagram, newIngest, promtool, render } from '../testkit/fuzz-lines.ts';

describe('fuzz: parse -> aggregate -> expose (fast-check, seeded)', () => {
  it('1,500 random and mutated datagrams: no throw, exact books, valid exposition, promtool clean', () => {
    const shared = newIngest();
    fc.assert(
      fc.property(datagram, (buf) => checkCase(buf, shared)),
      { seed: 11, numRuns: 1500 },
    );
    const merged = render(shared);
    assert.ok(checkExposition(merged) > 100, 'the merged exposition has samples');
    assert.ok(shared.stats.linesAccepted > 100, 'some lines were accepted');
    assert.ok(shared.stats.tagErrors[1]! > 0, 'reserved tags were drawn');
    const r = promtool(merged);
    assert.deepEqual(r.unexpected, [], 'promtool: only naming lints');
    assert.notEqual(r.status, 1, 'promtool parsed it');
  });

  it('the checks can fail: a __ label or a broken line is caught', () => {
    assert.throws(() => checkExposition('x{__name__="y"} 1\n'), /bad sample line/);
    assert.throws(() => checkExposition('x{a="1" 1\n'), /bad sample line/);
    assert.notDeepEqual(promtool('# TYPE x gauge\nx{__name__="y"} 1\n').unexpected, []);
  });
});
