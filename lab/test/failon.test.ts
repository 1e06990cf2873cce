import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import { evalFailOn, factsOf, parseFailOn } from '../src/analysis/failon.ts';
import { record } from './fixtures.ts';

// fixture: push lost 1000 of 5000 (20%), pull lost nothing, one push failure at +0.9 s, p99 0.41 s
const facts = factsOf(record());
const run = (e: string) => evalFailOn(parseFailOn(e), facts);

describe('--fail-on expressions (safe parser, no eval)', () => {
  const cases: [string, boolean][] = [
    ['push.lossPct>1', true],
    ['push.lossPct > 20', false],
    ['push.lossPct >= 20', true],
    ['push.lossPct>=20%', true],
    ['pull.lossPct > 0', false],
    ['pull.lost == 0', true],
    ['pull.lost != 0', false],
    ['pull.lossPct > 1 || push.lossPct > 1', true],
    ['pull.lossPct > 1 or push.lossPct > 1', true],
    ['pull.lossPct > 1 && push.lossPct > 1', false],
    ['push.failed == 1 and not pull.failed == 1', true],
    ['!(push.lost < 10)', true],
    ['(pull.lost > 0 || push.lost > 0) && scrape.p99 < 0.5', true],
    ['scrape.p99 > 5', false],
    ['push.firstFailureS < 1', true],
    ['pull.firstFailureS < 1', false], // null: comparisons are false
    ['failures >= 1', true],
    ['1 < push.lost', true],
    ['.5 < scrape.p99', false],
  ];
  for (const [expr, want] of cases) it(`${expr} → ${want}`, () => assert.equal(run(expr), want));

  const bad: [string, RegExp][] = [
    ['', /empty expression/],
    ['push.lossPct', /expected a comparison/],
    ['push.lossPct >', /expected a fact or a number/],
    ['push.lossPct > 1 &&', /expected a fact or a number/],
    ['push.loss > 1', /unknown fact "push.loss"/],
    ['process.exit() > 1', /unknown fact|unexpected/],
    ['push.lossPct > 1 ; rm -rf /', /unexpected ";"/],
    ['(push.lossPct > 1', /expected "\)"/],
    ['push.lossPct > 1)', /unexpected "\)"/],
    ['push.lossPct = 1', /unexpected "="/],
    [`${'('.repeat(40)}push.lost > 1${')'.repeat(40)}`, /nested too deeply/],
  ];
  for (const [expr, re] of bad)
    it(`rejects ${JSON.stringify(expr.slice(0, 30))} naming the problem`, () =>
      assert.throws(
        () => parseFailOn(expr),
        (e) => isLabError(e, 'LAB_ERR_FLAG_VALUE') && re.test(e.message) && e.message.includes('--fail-on'),
      ));

  it('facts come from the record', () => {
    assert.equal(facts['push.lossPct'], 20);
    assert.equal(facts['pull.lossPct'], 0);
    assert.equal(facts['push.failed'], 1);
    assert.equal(facts['scrape.p99'], 0.41);
    assert.equal(facts.failures, 1);
  });
});
