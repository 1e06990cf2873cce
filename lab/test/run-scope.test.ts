// The end-to-end tests' "nothing left" checks filter by their own run (scopeFilter): never by the bare
// `pushpull.lab` label, which would see every lab run on the engine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RunScope, scopeFilter } from './cli-helpers.ts';

describe('scopeFilter', () => {
  const ok: [RunScope, string][] = [
    [{ runId: '20261207T164000Z-ab12' }, 'label=pushpull.lab=20261207T164000Z-ab12'],
    [{ owner: 4242 }, 'label=pushpull.lab.owner=4242'],
  ];
  for (const [scope, want] of ok) it(JSON.stringify(scope), () => assert.equal(scopeFilter(scope), want));
  const bad: RunScope[] = [
    { runId: '' },
    { runId: 'a b' },
    { owner: 0 },
    { owner: Number.NaN },
    { owner: -1 },
  ];
  for (const scope of bad)
    it(`${JSON.stringify(scope)} is an error, not every run`, () => assert.throws(() => scopeFilter(scope)));
});
