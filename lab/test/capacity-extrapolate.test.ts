import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extrapolate, fitLine, predict } from '../src/capacity/extrapolate.ts';
import { parseCapacityFlags } from '../src/capacity/flags.ts';
import { renderCapacityMarkdown, renderCapacityTerminal } from '../src/capacity/report.ts';
import type { CapacityResult } from '../src/capacity/result.ts';
import { extrapolations, pathReport } from '../src/capacity/result.ts';
import type { TrialOutcome } from '../src/capacity/search.ts';

// The extrapolation to the full fleet: a line per component through the trials, its two errors, and
// the labels that say it is not a measurement.

const t = (load: number, held: boolean, metrics: Record<string, number | null>): TrialOutcome => ({
  load,
  held,
  failedCriterion: held ? null : 'pull.scrapeP99',
  failedValue: held ? null : 3,
  machine: null,
  aborted: false,
  record: `trial-${load}/run.json`,
  metrics,
});

describe('extrapolation (pure)', () => {
  it('fitLine: an exact line is recovered with zero error in and out of sample', () => {
    const f = fitLine([
      { x: 20, y: 0.3 },
      { x: 40, y: 0.5 },
      { x: 80, y: 0.9 },
    ])!;
    assert.ok(Math.abs(f.slope - 0.01) < 1e-9);
    assert.ok(Math.abs(f.intercept - 0.1) < 1e-9);
    assert.ok(f.maxRelError! < 1e-9);
    assert.ok(f.holdoutRelError! < 1e-9);
    assert.ok(Math.abs(predict(f, 1400)! - 14.1) < 1e-9);
  });

  it('fitLine: one point → proportional; a negative slope falls back to proportional; errors measured', () => {
    const one = fitLine([{ x: 50, y: 2 }])!;
    assert.equal(one.intercept, 0);
    assert.equal(one.slope, 0.04);
    assert.equal(one.maxRelError, null);
    assert.equal(one.holdoutRelError, null);
    const down = fitLine([
      { x: 20, y: 1 },
      { x: 40, y: 0.8 },
    ])!;
    assert.equal(down.intercept, 0);
    assert.ok(down.slope > 0);
    // Superlinear data: the line through the small trials underestimates the largest one by 50 %.
    const curved = fitLine([
      { x: 10, y: 1 },
      { x: 20, y: 2 },
      { x: 40, y: 8 },
    ])!;
    assert.ok(Math.abs(curved.holdoutRelError! - 0.5) < 1e-9, String(curved.holdoutRelError));
    assert.ok(curved.maxRelError! > 0.1);
    assert.equal(fitLine([]), null);
  });

  it('per path: held trials only when two or more held; cores and GiB at the fleet; labelled', () => {
    const trials = [
      t(20, true, {
        'cores.prometheus': 0.3,
        'rssGiB.prometheus': 0.25,
        'cores.producers': 0.2,
        'rssGiB.producers': 0.1,
        seriesScraped: 63_140,
      }),
      t(40, true, {
        'cores.prometheus': 0.5,
        'rssGiB.prometheus': 0.45,
        'cores.producers': 0.4,
        'rssGiB.producers': 0.2,
        seriesScraped: 126_280,
      }),
      // a failed trial: capped by the machine, left out
      t(80, false, {
        'cores.prometheus': 0.6,
        'rssGiB.prometheus': 0.5,
        'cores.producers': 0.5,
        'rssGiB.producers': 0.3,
      }),
    ];
    const e = extrapolate('pull', trials, 1400);
    assert.equal(e.label, 'EXTRAPOLATION (not measured)');
    assert.match(e.basis, /2 held trial\(s\) at 20, 40 pods/);
    assert.equal(e.largestTrialPods, 40);
    assert.equal(e.factor, 35);
    const prom = e.components.find((c) => c.component === 'prometheus')!;
    assert.equal(prom.cores, 14.1); // 0.1 + 0.01 × 1400
    assert.equal(prom.memoryGiB, 14.05); // 0.05 + 0.01 × 1400
    assert.equal(prom.perPod.cores, 0.01);
    assert.match(prom.perUnit!, /KiB per series scraped \(126,280 series at 40 pods\)/);
    assert.equal(e.total.cores, 14.1 + 14); // producers: 0.01 × 1400
    // Every finished trial when fewer than two held.
    const few = extrapolate(
      'push',
      [t(20, true, { 'cores.collector': 0.2 }), t(40, false, { 'cores.collector': 0.4 })],
      1400,
    );
    assert.match(few.basis, /2 finished trial/);
    assert.equal(few.components.find((c) => c.component === 'collector')!.cores, 14);
    assert.equal(few.total.cores, null); // prometheus and producers unmeasured: no total claimed
  });

  it('the reports carry the label, the basis and both errors', () => {
    const { config } = parseCapacityFlags(['--paths', 'pull'], {});
    const search = {
      maxHeld: 40,
      minFailed: 80,
      failedCriterion: 'pull.scrapeP99',
      failedValue: 3,
      limitedBy: 'path' as const,
      machine: null,
      bracketRatio: null,
      halfPassLoad: null,
      replicates: 1,
      levels: [],
      trials: [
        t(20, true, { 'cores.prometheus': 0.3, 'rssGiB.prometheus': 0.25 }),
        t(40, true, { 'cores.prometheus': 0.5, 'rssGiB.prometheus': 0.45 }),
        t(80, false, { 'cores.prometheus': 0.6 }),
      ],
    };
    const paths = { pull: pathReport('pull', search) };
    const r: CapacityResult = {
      schema: 'pushpull-lab/capacity@1',
      startedAt: '2026-12-01T00:00:00Z',
      finishedAt: '2026-12-01T00:20:00Z',
      runtime: 'process',
      budgetEnded: false,
      interrupted: false,
      config,
      criteria: config.criteria,
      environment: { cores: 2, memoryGiB: 23.5, node: 'v20' },
      paths,
      extrapolation: extrapolations(paths, 1400),
      pushgatewayClaim: null,
      notes: [],
    };
    const md = renderCapacityMarkdown(r);
    assert.match(md, /\*\*pull\*\*: 40 pods held; 80 pods failed \(pull\.scrapeP99 = 3\)/);
    assert.match(md, /EXTRAPOLATION \(not measured\): what 1,400 pods would need on the pull path/);
    assert.match(md, /35× beyond the largest trial \(40 pods\)/);
    assert.match(md, /one step out/);
    assert.match(
      renderCapacityTerminal(r),
      /pull at 1,400 pods \(EXTRAPOLATION \(not measured\)\): prometheus 14\.10 cores \/ 14\.05 GiB/,
    );
  });
});
