import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extrapolate } from '../src/capacity/extrapolate.ts';
import { parseCapacityFlags, parseScaling } from '../src/capacity/flags.ts';
import { renderCapacityMarkdown } from '../src/capacity/report.ts';
import { type CapacityResult, extrapolations } from '../src/capacity/result.ts';
import { scalingReport, slicesOf } from '../src/capacity/run.ts';
import {
  planAt,
  podsPerCore,
  type ScalingPath as ScalingPathName,
  scalingPoint,
  withPodsPerCore,
} from '../src/capacity/scaling.ts';
import type { SearchResult, TrialOutcome } from '../src/capacity/search.ts';
import { checkPlan } from '../src/core/resources.ts';

// --scaling, pure: pods per budgeted receiver core at two budgets, linearity with its error, and the
// extrapolation's basis (pods per core where linear, the per-component line otherwise).

const trial = (load: number, held: boolean, cores: number): TrialOutcome => ({
  load,
  held,
  failedCriterion: held ? null : 'push.lossPct',
  failedValue: held ? null : 5,
  machine: null,
  aborted: false,
  record: null,
  metrics: { 'cores.collector': cores, 'cores.prometheus': cores / 4, 'cores.producers': load / 100 },
});

const search = (
  maxHeld: number | null,
  minFailed: number | null,
  limitedBy: SearchResult['limitedBy'] = 'path',
): SearchResult => ({
  maxHeld,
  minFailed,
  failedCriterion: 'push.lossPct',
  failedValue: 5,
  limitedBy,
  machine: null,
  bracketRatio: null,
  halfPassLoad: null,
  replicates: 3,
  levels: [],
  trials:
    maxHeld === null
      ? []
      : [
          trial(maxHeld / 2, true, 0.1),
          trial(maxHeld, true, 0.2),
          trial(minFailed ?? maxHeld * 2, false, 0.25),
        ],
});

describe('pods per core (--scaling)', () => {
  const cases: [
    string,
    [number, SearchResult][],
    { value: number | null; linear: boolean | null; ratio?: number },
  ][] = [
    [
      'linear: 20–22 pods at 0.25 core, 40–44 at 0.5',
      [
        [0.25, search(20, 22)],
        [0.5, search(40, 44)],
      ],
      { value: 83.905, linear: true, ratio: 1 },
    ],
    [
      'sub-linear: doubling the core gives 30–33 pods',
      [
        [0.25, search(20, 22)],
        [0.5, search(30, 33)],
      ],
      { value: 62.929, linear: false, ratio: 0.75 },
    ],
    [
      'the larger budget never bracketed: not measured',
      [
        [0.25, search(20, 22)],
        [0.5, search(40, null, 'budget')],
      ],
      { value: null, linear: null },
    ],
  ];
  for (const [name, runs, want] of cases)
    it(name, () => {
      const ppc = podsPerCore(
        'push',
        runs.map(([c, r]) => scalingPoint(c, r)),
      );
      assert.equal(ppc.receiver, 'collector');
      assert.equal(ppc.value, want.value);
      assert.equal(ppc.linearity?.linear ?? null, want.linear);
      if (want.ratio !== undefined) assert.equal(ppc.linearity!.ratio, want.ratio);
      if (ppc.linearity)
        assert.ok(ppc.linearity.lo <= ppc.linearity.ratio && ppc.linearity.ratio <= ppc.linearity.hi);
    });

  it('the bracket per core: geometric middle, ends per core', () =>
    assert.deepEqual(scalingPoint(0.5, search(40, 44)).podsPerCore, { value: 83.905, lo: 80, hi: 88 }));

  it("planAt holds the path's receiver to the budget; the idle receiver gives up only the excess", () => {
    const { config } = parseCapacityFlags(['--cpuset', 'off'], {});
    const plan = planAt(config.resources, 'pull', 0.25);
    assert.equal(plan.prometheus.cpus, 0.25);
    assert.deepEqual(plan.collector, config.resources.collector); // no cpuset: nothing to fit into
    const two = { cores: 2, memoryBytes: 24 * 2 ** 30 };
    const one = (cpus: number | null, cpuset: string | null) => ({ cpus, cpuset, memoryBytes: null });
    const base = {
      ...config.resources,
      prometheus: one(0.45, '1'),
      collector: one(0.45, '1'),
      pushgateway: one(0.05, '1'),
      'node-exporter': one(0.05, '1'),
    };
    const cases: [ScalingPathName, number, number, number][] = [
      ['push', 0.25, 0.25, 0.45], // fits: the other receiver untouched
      ['push', 0.5, 0.5, 0.4], // 1.05 on one core: Prometheus gives up 0.05
      ['pull', 0.5, 0.5, 0.4],
      ['pull', 0.9, 0.9, 0.05], // floor
    ];
    for (const [path, cores, want, otherWant] of cases) {
      const p = planAt(base, path, cores);
      const [r, o] = path === 'push' ? ['collector', 'prometheus'] : ['prometheus', 'collector'];
      assert.equal(p[r as 'collector'].cpus, want, `${path} ${cores}`);
      assert.equal(p[o as 'collector'].cpus, otherWant, `${path} ${cores}: ${o}`);
      if (otherWant > 0.05) checkPlan(p, two); // the plan the trial runs with is one the machine can give
    }
  });

  it('--scaling on with the default plan on this host parses (every scaled plan checked)', () => {
    assert.deepEqual(parseCapacityFlags(['--scaling', 'on'], {}).config.scaling, [0.25, 0.5]);
  });

  it('--scaling off|on|list', () => {
    assert.equal(parseScaling('off'), null);
    assert.deepEqual(parseScaling('on'), [0.25, 0.5]);
    assert.deepEqual(parseScaling('0.5, 0.25'), [0.25, 0.5]);
    for (const bad of ['0.25', '0.25,0.25', '0,1', 'x,y'])
      assert.throws(() => parseScaling(bad), new RegExp(`--scaling: "${bad.replace('.', '\\.')}"`));
    assert.equal(parseCapacityFlags([], {}).config.scaling, null);
  });

  it('slices: each burst path at each budget, the Pushgateway once', () => {
    const { config } = parseCapacityFlags(['--scaling', 'on'], {});
    assert.deepEqual(slicesOf(config), [
      { path: 'pull', cores: 0.25 },
      { path: 'pull', cores: 0.5 },
      { path: 'push', cores: 0.25 },
      { path: 'push', cores: 0.5 },
      { path: 'pushgateway', cores: null },
    ]);
    assert.equal(slicesOf(parseCapacityFlags([], {}).config).length, 3);
  });

  it('the extrapolation uses pods per core where linear, the per-component line otherwise, and says which', () => {
    const linear = scalingReport(
      'push',
      [
        { cores: 0.25, result: search(20, 22) },
        { cores: 0.5, result: search(40, 44) },
      ],
      false,
    );
    assert.equal(linear.maxHeld, 40); // the largest budget's answer
    const e = extrapolations({ push: linear }, 1400).push!;
    assert.equal(e.label, 'EXTRAPOLATION (not measured)');
    assert.equal(
      e.components.find((c) => c.component === 'collector')!.cores,
      Math.round((1400 / 83.905) * 1000) / 1000,
    );
    assert.match(e.basis, /basis for the collector: pods per budgeted core/);
    assert.match(e.components.find((c) => c.component === 'collector')!.perUnit!, /one step out ±0%/);
    assert.equal(e.components.find((c) => c.component === 'collector')!.coresFit!.holdoutRelError, 0);
    const sub = scalingReport(
      'push',
      [
        { cores: 0.25, result: search(20, 22) },
        { cores: 0.5, result: search(30, 33) },
      ],
      false,
    );
    const line = extrapolations({ push: sub }, 1400).push!;
    assert.match(
      line.basis,
      /basis: the per-component straight line \(pods per core not used: collector: .* not linear\)/,
    );
    assert.deepEqual(line.components, extrapolate('push', sub.trials, 1400).components);
    assert.match(withPodsPerCore(extrapolate('push', sub.trials, 1400), null).basis, /no --scaling run/);
  });

  it('capacity.md shows pods per core per budget', () => {
    const { config } = parseCapacityFlags(['--paths', 'push', '--scaling', 'on'], {});
    const push = scalingReport(
      'push',
      [
        { cores: 0.25, result: search(20, 22) },
        { cores: 0.5, result: search(40, 44) },
      ],
      false,
    );
    const r: CapacityResult = {
      schema: 'pushpull-lab/capacity@1',
      startedAt: '2026-12-07T20:00:00Z',
      finishedAt: '2026-12-07T20:20:00Z',
      runtime: 'process',
      budgetEnded: false,
      interrupted: false,
      config,
      criteria: config.criteria,
      environment: { cores: 2, memoryGiB: 23.5, node: 'v20' },
      paths: { push },
      extrapolation: extrapolations({ push }, 1400),
      pushgatewayClaim: null,
      notes: [],
    };
    const md = renderCapacityMarkdown(r);
    assert.match(md, /## Pods per budgeted receiver core \(--scaling\)/);
    assert.match(
      md,
      /\| push \| collector 0\.25 core \| 20–22 \| path \| 83\.9 \(80–88\) \| 1 \(0\.909–1\.1\) linear \|/,
    );
  });
});
