import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertExpectationsHeld } from './expectations.ts';

describe('assertExpectationsHeld', () => {
  const held = { text: 'InstanceDown fired', ok: true };
  const broken = { text: 'push liveness alert', ok: false };
  const cases: { name: string; error: string | null; expectations: (typeof held)[]; fails: RegExp | null }[] =
    [
      { name: 'all held', error: null, expectations: [held, held], fails: null },
      { name: 'empty list', error: null, expectations: [], fails: /no expectations were checked/ },
      { name: 'one broken', error: null, expectations: [held, broken], fails: /push liveness alert/ },
      { name: 'run error', error: 'LAB_ERR_TIMEOUT: x', expectations: [held], fails: /LAB_ERR_TIMEOUT/ },
    ];
  for (const c of cases)
    it(c.name, () => {
      const run = () =>
        assertExpectationsHeld({ name: 'target-dies', error: c.error, expectations: c.expectations });
      if (c.fails) assert.throws(run, c.fails);
      else assert.doesNotThrow(run);
    });
});
