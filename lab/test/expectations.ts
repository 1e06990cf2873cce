// One check for a measured scenario, shared by the drill's integration and end-to-end tests: it ran without
// error, it had expectations at all (an empty list would pass every `for … of` trivially), and each held.
import assert from 'node:assert/strict';
import type { ScenarioResult } from '../src/drill/grid.ts';

export function assertExpectationsHeld(r: Pick<ScenarioResult, 'name' | 'error' | 'expectations'>): void {
  assert.equal(r.error, null, r.error ?? '');
  assert.ok(
    r.expectations.length > 0,
    `${r.name}: no expectations were checked (an empty list proves nothing)`,
  );
  for (const e of r.expectations) assert.ok(e.ok, `${r.name}: ${e.text}`);
}
