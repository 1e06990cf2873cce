// The drill's merge of its variants' runs (run.ts mergeVariantRuns): in the scenario's variant order whatever
// order they finished in, the first failure ends the merge, one variant keeps its bare metric names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LabError } from '@pushpull/common';
import type { ModeOutcome } from '../src/drill/modes/types.ts';
import { mergeVariantRuns, type VariantRun } from '../src/drill/run.ts';
import { parseScenario } from '../src/drill/scenario.ts';
import { targetDiesYaml } from './scenario-fixtures.ts';

const scenario = (variants: string[]) => parseScenario(targetDiesYaml(variants), 'x.yml');

const outcome = (v: string, n: number): ModeOutcome => ({
  cells: [
    { column: 'push-udp', variant: v, detectedAfterS: n, signal: 's', lostCount: 0, lostPct: 0, detail: 'd' },
  ],
  metrics: { n },
  series: { up: [[0, n]] },
  notes: ['shared note', `note ${v}`],
});
const ok = (v: string, n: number): VariantRun => ({ variant: v, outcome: outcome(v, n) });
const failed = (v: string): VariantRun => ({
  variant: v,
  error: new LabError('LAB_ERR_TIMEOUT', `${v} slow`),
});

describe('mergeVariantRuns', () => {
  const cases: {
    what: string;
    variants: string[];
    runs: (VariantRun | null)[];
    cells: string[];
    metrics: Record<string, number>;
    error: RegExp | null;
    notes: string[];
  }[] = [
    {
      what: 'every variant, in variant order',
      variants: ['a', 'b', 'c'],
      runs: [ok('a', 1), ok('b', 2), ok('c', 3)],
      cells: ['a', 'b', 'c'],
      metrics: { 'a.n': 1, 'b.n': 2, 'c.n': 3, sum: 6 },
      error: null,
      notes: ['shared note', 'note a', 'note b', 'note c'],
    },
    {
      what: 'one variant: bare metric names as well',
      variants: ['a'],
      runs: [ok('a', 7)],
      cells: ['a'],
      metrics: { 'a.n': 7, n: 7, sum: 7 },
      error: null,
      notes: ['shared note', 'note a'],
    },
    {
      what: 'a failure ends the merge, also for a later variant that ran beside it; no combine',
      variants: ['a', 'b', 'c'],
      runs: [ok('a', 1), failed('b'), ok('c', 3)],
      cells: ['a'],
      metrics: { 'a.n': 1 },
      error: /^b: .*b slow/,
      notes: ['shared note', 'note a'],
    },
    {
      what: 'variants not started after a failure are skipped',
      variants: ['a', 'b', 'c'],
      runs: [failed('a'), null, null],
      cells: [],
      metrics: {},
      error: /^a: .*a slow/,
      notes: [],
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const m = mergeVariantRuns(scenario(c.variants), c.runs, (outs) => ({
        sum: [...outs.values()].reduce((a, o) => a + (o.metrics.n ?? 0), 0),
      }));
      assert.deepEqual(
        m.cells.map((x) => x.variant),
        c.cells,
      );
      assert.deepEqual(m.metrics, c.metrics);
      assert.deepEqual(m.notes, c.notes);
      if (c.error) assert.match(m.error ?? '', c.error);
      else assert.equal(m.error, null);
      const keys = Object.keys(m.series);
      assert.deepEqual(keys, c.variants.length === 1 ? ['up'] : c.cells.map((v) => `${v}: up`));
    });
  }
});
