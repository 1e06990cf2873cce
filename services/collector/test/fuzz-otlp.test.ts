// Issue 23: a seeded, structure-aware fast-check fuzz of the OTLP receiver (protobuf and OTLP/JSON):
// decode throws only OtlpDecodeError, apply never throws, the books balance on every case (points decoded =
// accepted + refused by reason, and the rendered self-metrics agree), /metrics is valid text format, and
// every 1,000th case and the final merged state pass the real promtool. The long run (>= 100,000 cases)
// is bench/fuzz-otlp.bench.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { promtool } from '../testkit/fuzz-lines.ts';
import { body, checkCase, newCollector, type Tally } from '../testkit/fuzz-otlp.ts';

describe('fuzz: OTLP receiver, decode -> apply -> expose (fast-check, seeded)', () => {
  it('3,000 structured requests, protobuf and JSON, some damaged: books balance, exposition valid', () => {
    const shared = newCollector();
    const t: Tally = { cases: 0, undecodable: {}, points: 0 };
    const promtoolRuns: number[] = [];
    fc.assert(
      fc.property(body, (b) => {
        checkCase(b, shared, t);
        if (t.cases % 1000 === 0) {
          const r = promtool(shared.render());
          assert.deepEqual(r.unexpected, [], `promtool at case ${t.cases}`);
          promtoolRuns.push(t.cases);
        }
      }),
      { seed: 23, numRuns: 3000 },
    );
    const final = promtool(shared.render());
    assert.deepEqual(final.unexpected, [], 'promtool on the final state');
    assert.notEqual(final.status, 1);
    assert.ok(promtoolRuns.length >= 3, `promtool ran at ${promtoolRuns.join(', ')}`);
    // the generator reaches every outcome: accepted points, refusals, and undecodable bodies
    assert.ok(shared.otlp.stats.pointsAccepted > 100, 'points were accepted');
    assert.ok(t.points > 1000, 'points were decoded');
    assert.ok((t.undecodable[400] ?? 0) > 10, 'some bodies were undecodable');
  });
});
