// #24: what the observer saw — coverage per probe source (a reading counts for the second it arrived in),
// claims drawn from a sparse source marked so, a store that missed rule evaluations as a failure of its path,
// and visibility that kept (or lost) its 5 s resolution. Pure, hand-made series.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveFirstFailures } from '../src/analysis/failures.ts';
import { coverageOf, markSparse, observerOf, sourceOfSignal } from '../src/analysis/observer.ts';
import type { FirstFailure, PathAccount, ProbeSample } from '../src/core/record.ts';
import { sample, T0 } from './fixtures.ts';

/** 10 burst seconds; `read(sec)` says which sources delivered a reading in that tick, `failed` which failed. */
function ticks(read: (sec: number) => string[], failed: (sec: number) => string[] = () => []): ProbeSample[] {
  return Array.from({ length: 12 }, (_, i) => i - 1).map((sec) => {
    const probeMs = Object.fromEntries([...read(sec), ...failed(sec)].map((s) => [s, 10]));
    return sample(sec, { probeMs, failedProbes: failed(sec) });
  });
}
const W = { fromMs: T0, toMs: T0 + 10_000 };

describe('coverage per probe source', () => {
  const cases: [string, ProbeSample[], Record<string, number>][] = [
    ['every second read', ticks(() => ['collector']), { collector: 1 }],
    [
      'read every other second (a 2 s period or a back-off): 50%',
      ticks((s) => (s % 2 === 0 ? ['alerts'] : [])),
      { alerts: 0.5 },
    ],
    [
      'a failed read is no reading; a source that never answered is 0, not absent',
      ticks(
        () => [],
        (s) => (s < 10 ? ['prometheus'] : []),
      ),
      { prometheus: 0 },
    ],
    [
      'readings before the open and after quiesce do not count',
      ticks((s) => (s < 0 || s >= 10 ? ['targets'] : s < 7 ? ['targets'] : [])),
      { targets: 0.7 },
    ],
  ];
  for (const [name, samples, want] of cases)
    it(name, () => {
      const got = coverageOf(samples, W);
      assert.equal(got.seconds, 10);
      assert.deepEqual(got.coverage, want);
    });

  it('a late reading counts for the second it arrived in (the tick it was merged into)', () => {
    // Asked at second 2, arrived during the tick of second 4: seconds 2 and 3 have nothing.
    const samples = ticks((s) => (s === 2 || s === 3 ? [] : ['collector']));
    assert.equal(coverageOf(samples, W).coverage.collector, 0.8);
  });
});

const account = (resolutionSeconds: number | null): PathAccount => ({
  emitted: 1,
  delivered: 1,
  lost: 0,
  lossPct: 0,
  emittedFrom: '',
  deliveredFrom: '',
  visibility: { p50Seconds: 1, p90Seconds: 2, seconds: 10, neverCaughtUp: 0, resolutionSeconds, method: '' },
});

/** Store self-metrics: the push store missed `missed(sec)` evaluations by then (cumulative). */
function withStores(perPath: boolean, missed: (sec: number) => number): ProbeSample[] {
  return ticks(() => ['collector', 'prometheus-self']).map((s, i) => ({
    ...s,
    stores: {
      prometheus: { intervalP99: 2, ruleMissed: 0, ruleIterations: i, ruleLastDurationMax: 0.1 },
      ...(perPath
        ? {
            'prometheus-push': {
              intervalP99: 2,
              ruleMissed: missed(i - 1),
              ruleIterations: i,
              ruleLastDurationMax: 4,
            },
          }
        : {}),
    },
  }));
}

describe('a store that misses rule evaluations fails its path', () => {
  const opts = { burstAtMs: T0, scrapeTimeoutSeconds: 2, scrapeIntervalSeconds: 2 };
  it("per-path: push's store missed 5 from second 4 → push fails with the count; pull does not", () => {
    const f = deriveFirstFailures(
      withStores(true, (s) => (s < 4 ? 2 : 7)),
      opts,
    ).filter((x) => x.signal === 'rule-evaluation-missed');
    assert.deepEqual(
      f.map((x) => [x.path, x.secondsAfterBurst]),
      [['push', 4]],
    );
    assert.match(f[0]!.detail, /push's Prometheus fell behind its rule evaluation, 5 missed/);
  });
  it('shared: the one store serves both paths', () => {
    const samples = withStores(false, () => 0).map((s, i) => ({
      ...s,
      stores: { prometheus: { ...s.stores!.prometheus!, ruleMissed: i > 5 ? 3 : 0 } },
    }));
    const f = deriveFirstFailures(samples, opts).filter((x) => x.signal === 'rule-evaluation-missed');
    assert.deepEqual(f.map((x) => x.path).sort(), ['pull', 'push']);
    assert.match(f[0]!.detail, /Prometheus \(shared\) fell behind its rule evaluation, 3 missed/);
  });
  it('no missed evaluation → no failure', () => {
    const f = deriveFirstFailures(
      withStores(true, () => 1),
      opts,
    );
    assert.equal(f.filter((x) => x.signal === 'rule-evaluation-missed').length, 0);
  });
});

describe('the record: sparse sources, visibility resolution, and the verdict sentence', () => {
  it('marks the claims drawn from a source below 90%, names the store that fell behind', () => {
    const samples = withStores(true, (s) => (s < 4 ? 0 : 6)).map((s, i) =>
      i % 2 === 0 ? s : { ...s, probeMs: { 'prometheus-self': 10 } },
    );
    const observer = observerOf({
      samples,
      fromMs: W.fromMs,
      toMs: W.toMs,
      perPath: true,
      paths: { pull: account(5), push: account(15) },
    });
    assert.deepEqual(observer.coverage, { collector: 0.5, 'prometheus-self': 1 });
    assert.deepEqual(observer.sparse, ['collector']);
    assert.equal(observer.visibility?.pull.behind, undefined, 'pull kept its 5 s');
    assert.equal(observer.visibility?.push.store, 'prometheus-push');
    assert.equal(observer.visibility?.push.ruleEvaluationsMissed, 6);
    assert.match(
      observer.visibility?.push.behind ?? '',
      /prometheus-push fell behind: push visibility kept a resolution of 15 s, not 5 s \(6 rule evaluations missed/,
    );
    const failures: FirstFailure[] = [
      { path: 'push', signal: 'collector-drop', secondsAfterBurst: 1, detail: 'drops' },
      { path: 'pull', signal: 'slow-scrape', secondsAfterBurst: 2, detail: 'slow' },
    ];
    const note = markSparse(observer, failures, true);
    assert.equal(failures[0]!.detail, 'drops [sparse: collector read in 50% of burst seconds]');
    assert.equal(failures[1]!.detail, 'slow', 'a claim from a covered source stays as it is');
    assert.match(
      note ?? '',
      /^Sparse observation: collector 50% of burst seconds \(below 90%\); claims drawn from them are sparse\. Prometheus-push fell behind/,
    );
  });

  it('nothing sparse, nothing behind → no sentence', () => {
    const observer = observerOf({
      samples: withStores(true, () => 0),
      ...W,
      perPath: true,
      paths: { pull: account(5), push: account(5) },
    });
    assert.equal(markSparse(observer, [], true), null);
  });

  const signals: [FirstFailure['signal'], FirstFailure['path'], boolean, string | null][] = [
    ['slow-scrape', 'pull', true, 'targets'],
    ['interval-stretch', 'pull', true, 'prometheus-self'],
    ['rule-evaluation-missed', 'push', true, 'prometheus-push-self'],
    ['rule-evaluation-missed', 'push', false, 'prometheus-self'],
    ['alert:InstanceDown', 'pull', true, 'alerts'],
    ['died:collector', 'push', true, null],
    ['remote-write-behind', 'pull', true, 'agents'],
  ];
  for (const [signal, path, perPath, want] of signals)
    it(`${signal} (${path}, ${perPath ? 'per-path' : 'shared'}) is read from ${want ?? 'no single source'}`, () =>
      assert.equal(sourceOfSignal({ signal, path }, perPath), want));
});

describe('the report shows what the observer saw', () => {
  it('coverage per source with the sparse ones marked, and each path’s store and resolution', async () => {
    const { record2 } = await import('./report-fixtures.ts');
    const { renderMarkdown } = await import('../src/report/render.ts');
    const r = record2({
      config: { ...record2().config, store: 'per-path' },
      observer: {
        periodMs: 1000,
        seconds: 60,
        coverage: { collector: 0.5, targets: 1 },
        sparse: ['collector'],
        visibility: {
          pull: { store: 'prometheus', resolutionSeconds: 5, ruleEvaluationsMissed: 0 },
          push: {
            store: 'prometheus-push',
            resolutionSeconds: 20,
            ruleEvaluationsMissed: 3,
            behind: 'prometheus-push fell behind: push visibility kept a resolution of 20 s, not 5 s',
          },
        },
      },
    });
    const md = renderMarkdown(r);
    assert.match(md, /\| collector +\| +50% \| SPARSE: claims drawn from it are marked \|/);
    assert.match(md, /\| targets +\| +100% \| +\|/);
    assert.match(md, /\| push +\| prometheus-push \| +20 s \| +3 \| prometheus-push fell behind/);
    assert.match(md, /--store per-path/);
    assert.doesNotMatch(renderMarkdown(record2()), /probe source/, 'older records: no observer table');
  });
});
