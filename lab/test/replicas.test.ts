// #28, the Prometheus pair, pure: the replicas' configs (identical apart from the `replica` label), the scrape
// offsets between them, the merged view and each replica's account, alerts counted once per alert, what the
// pods' scrapes cost at the open, the report's rows, and a dead replica that the run survives.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  circularDistanceMs,
  dedupReplicaAlerts,
  gapsSentence,
  mergeReplicaPods,
  openCost,
  type ReplicaPod,
  replicaAccounts,
  scrapeOffsetSpread,
} from '../src/analysis/replicas.ts';
import { paths, repoRoot } from '../src/core/paths.ts';
import type { AlertObservation, ProbeSample, RunRecord } from '../src/core/record.ts';
import { pullLabel } from '../src/core/record-agents.ts';
import { componentOf } from '../src/core/resources.ts';
import { healthSource } from '../src/probe/sources/health.ts';
import type { ProbeTargets } from '../src/probe/sources/source.ts';
import { lastScrapes } from '../src/probe/stores.ts';
import { replicasNotes, replicasTable } from '../src/report/replicas.ts';
import { capabilitiesOf } from '../src/runtime/capabilities.ts';
import { prometheusConfig as dockerPrometheusConfig } from '../src/runtime/docker/stack.ts';
import { derivePrometheusConfig } from '../src/runtime/prometheus-config.ts';
import { componentOfService, shareOf } from '../src/runtime/resource-limits.ts';

const p = paths(repoRoot());
const source = readFileSync(p.prometheusYml, 'utf8');

const pod = (
  name: string,
  stored: number | null,
  after: boolean | null = true,
  over = false,
): ReplicaPod => ({
  pod: name,
  producer: 'producer-0',
  stored,
  scrapedAfterQuiesce: after,
  overSampleLimit: over,
});

describe('the pair: configs identical apart from the replica label', () => {
  const render = (externalLabels?: Record<string, string>) =>
    parse(
      derivePrometheusConfig(source, {
        sourceDir: p.prometheusDir,
        sdDir: '/tmp/sd',
        scrapeIntervalMs: 2000,
        jobAddresses: {
          collector: '127.0.0.1:1',
          pushgateway: '127.0.0.1:2',
          'node-exporter': null,
          prometheus: '127.0.0.1:4',
        },
        role: 'pull',
        ...(externalLabels ? { externalLabels } : {}),
      }).yaml,
    ) as { global: { external_labels?: Record<string, string> } };
  it('each replica carries its own external replica label, nothing else differs', () => {
    const a = render({ replica: '1' });
    const b = render({ replica: '2' });
    assert.deepEqual(a.global.external_labels?.replica, '1');
    assert.deepEqual(b.global.external_labels?.replica, '2');
    const strip = (d: typeof a) => ({ ...d, global: { ...d.global, external_labels: undefined } });
    assert.deepEqual(strip(a), strip(b));
    assert.equal(render().global.external_labels?.replica, undefined, 'one replica: no label');
  });
  it('the process and docker runtimes run the pair; swarm refuses it', () => {
    assert.equal(capabilitiesOf('process').prometheusReplicas, 2);
    assert.equal(capabilitiesOf('docker').prometheusReplicas, 2);
    assert.equal(capabilitiesOf('swarm').prometheusReplicas, 1);
  });
  it('docker: each replica its config, the same apart from the label; each container half of pull’s budget', () => {
    const opts = {
      runId: 'r',
      workDir: '/tmp/x',
      scrapeIntervalMs: 2000,
      withNodeExporter: true,
      log: () => {},
    };
    const a = parse(
      dockerPrometheusConfig(repoRoot(), { ...opts, role: 'pull', externalLabels: { replica: '1' } }),
    );
    const b = parse(
      dockerPrometheusConfig(repoRoot(), { ...opts, role: 'pull', externalLabels: { replica: '2' } }),
    );
    assert.equal(a.global.external_labels.replica, '1');
    assert.equal(b.global.external_labels.replica, '2');
    b.global.external_labels.replica = '1';
    assert.deepEqual(a, b);
    assert.equal(componentOfService('prometheus-2'), 'prometheus');
    assert.deepEqual(shareOf({ cpus: 0.45, cpuset: '1', memoryBytes: 2 ** 30 }, 2), {
      cpus: 0.225,
      cpuset: '1',
      memoryBytes: 2 ** 29,
    });
  });
  it("replica 2 joins pull's budget (one cgroup for the pair), prometheus-push stays push's", () => {
    for (const [name, want] of [
      ['prometheus-2', 'prometheus'],
      ['prometheus', 'prometheus'],
      ['prometheus-push', 'prometheus-push'],
      ['producer-3', 'producers'],
      ['grafana', null],
    ] as const)
      assert.equal(componentOf(name), want, name);
  });
  it('labels the path', () => {
    assert.equal(pullLabel({ prometheusReplicas: 2 }), 'pull (Prometheus ×2)');
    assert.equal(pullLabel({ prometheusReplicas: 1 }), 'pull (Prometheus scrape)');
    assert.equal(pullLabel({}), 'pull (Prometheus scrape)');
    assert.equal(pullLabel({ pullTopology: 'agent' }), 'pull (agents → remote_write)');
  });
});

describe('scrape offsets between the replicas', () => {
  it('circular distance within the interval', () => {
    for (const [a, b, interval, want] of [
      [0, 0, 15_000, 0],
      [1000, 4000, 15_000, 3000],
      [14_000, 1000, 15_000, 2000], // across the interval boundary
      [30_500, 0, 15_000, 500], // several intervals apart
      [7500, 0, 15_000, 7500],
    ] as const)
      assert.equal(circularDistanceMs(a, b, interval), want, `${a} ${b}`);
  });
  it('from /api/v1/targets lastScrape per target, only targets both scraped', () => {
    const t = (url: string, at: string, health = 'up') => ({
      labels: { job: 'producers' },
      scrapeUrl: url,
      health,
      lastScrape: at,
    });
    const a = lastScrapes(
      [
        t('u1', '2026-12-07T10:00:00.000Z'),
        t('u2', '2026-12-07T10:00:01.000Z'),
        t('u3', '0001-01-01T00:00:00Z', 'unknown'),
        { ...t('c', '2026-12-07T10:00:00.000Z'), labels: { job: 'collector' } },
      ],
      'producers',
    );
    assert.deepEqual([...a.keys()], ['u1', 'u2']);
    const b = lastScrapes(
      [t('u1', '2026-12-07T10:00:01.500Z'), t('u2', '2026-12-07T10:00:01.100Z')],
      'producers',
    );
    const s = scrapeOffsetSpread(a, b, 2000, 0);
    assert.equal(s.targets, 2);
    assert.equal(s.minMs, 100);
    assert.equal(s.maxMs, 500);
    assert.equal(s.within10Pct, 1, '100 ms is within 10% of 2 s, 500 ms is not');
    assert.equal(scrapeOffsetSpread(a, new Map(), 2000, 0).p50Ms, null);
  });
});

describe('the merged view and each replica', () => {
  const cases: {
    name: string;
    r1: ReplicaPod[];
    r2: ReplicaPod[];
    merged: (number | null)[];
    covered: [number, number];
  }[] = [
    {
      name: 'replica 2 paused: its stale pods are covered by replica 1',
      r1: [pod('a', 100), pod('b', 50)],
      r2: [pod('a', 60, false), pod('b', 50)],
      merged: [100, 50],
      covered: [0, 40],
    },
    {
      name: 'replica 2 dead: nothing answered, replica 1 is the merged view',
      r1: [pod('a', 100), pod('b', 50)],
      r2: [pod('a', null, null), pod('b', null, null)],
      merged: [100, 50],
      covered: [0, 150],
    },
    {
      name: 'each replica missed a different pod',
      r1: [pod('a', 90, false), pod('b', 50)],
      r2: [pod('a', 100), pod('b', 20, false)],
      merged: [100, 50],
      covered: [10, 30],
    },
    {
      name: 'neither answered: unverified in the merged view too',
      r1: [pod('a', null, null)],
      r2: [pod('a', null, null)],
      merged: [null],
      covered: [0, 0],
    },
  ];
  const emitted = new Map([
    ['a', 100],
    ['b', 50],
  ]);
  for (const c of cases)
    it(c.name, () => {
      const merged = mergeReplicaPods([c.r1, c.r2]);
      assert.deepEqual(
        merged.map((m) => m.stored),
        c.merged,
      );
      const total = [...emitted.values()].filter((_, i) => i < c.r1.length).reduce((a, b) => a + b, 0);
      const accounts = replicaAccounts(
        total,
        [
          { component: 'prometheus', replica: '1', pods: c.r1, died: false },
          { component: 'prometheus-2', replica: '2', pods: c.r2, died: false },
        ],
        merged,
        emitted,
        new Set(),
        false,
      );
      assert.deepEqual(
        accounts.map((a) => a.coveredByOther.orders),
        c.covered,
      );
      for (const a of accounts) {
        assert.equal(a.delivered + a.lost, total, `${a.component}: emitted == delivered + lost`);
        assert.equal(
          a.causes.reduce((s, x) => s + x.orders, 0),
          a.lost,
          `${a.component}: causes sum exactly to the loss`,
        );
        // The merged view never holds less of a pod than any replica stored.
        for (const m of merged) {
          const mine = a.podsStored[m.pod];
          if (mine !== null && mine !== undefined) assert.ok((m.stored ?? 0) >= mine, m.pod);
        }
      }
    });
  it('a pod scraped after quiesce by either replica counts as scraped in the merged view', () => {
    const [m] = mergeReplicaPods([[pod('a', 10, false)], [pod('a', 10, true)]]);
    assert.equal(m!.scrapedAfterQuiesce, true);
    const [n] = mergeReplicaPods([[pod('a', 10, false, true)], [pod('a', 10, false, false)]]);
    assert.equal(n!.overSampleLimit, false, 'over the limit only when every replica saw it so');
  });
  it('says whether a gap was covered', () => {
    const acc = (replica: string, lost: number, covered: number) => ({
      replica,
      component: `prometheus-${replica}`,
      delivered: 0,
      lost,
      lossPct: null,
      causes: [],
      died: replica === '2',
      unanswered: [],
      coveredByOther: { pods: covered > 0 ? 1 : 0, orders: covered },
      podsStored: {},
    });
    assert.match(gapsSentence([acc('1', 0, 0), acc('2', 0, 0)], 0), /neither replica had a gap/);
    assert.match(
      gapsSentence([acc('1', 0, 0), acc('2', 150, 150)], 0),
      /replica 2 \(prometheus-2, died\) lost 150 orders; the other held 150 of them.*merged view lost nothing/,
    );
    assert.match(gapsSentence([acc('1', 30, 0), acc('2', 40, 10)], 30), /merged view still lost 30/);
  });
});

describe('alerts: once per alert, not once per replica', () => {
  const a = (name: string, state: 'firing' | 'pending', count: number): AlertObservation => ({
    name,
    state,
    count,
  });
  for (const c of [
    { name: 'both fire it', lists: [[a('X', 'firing', 3)], [a('X', 'firing', 3)]], want: [3] },
    { name: 'one fires more instances', lists: [[a('X', 'firing', 1)], [a('X', 'firing', 2)]], want: [2] },
    { name: 'only one fires it', lists: [[], [a('X', 'firing', 1)]], want: [1] },
  ])
    it(c.name, () => {
      assert.deepEqual(
        dedupReplicaAlerts(c.lists).map((x) => x.count),
        c.want,
      );
    });
  it('pending and firing stay apart', () => {
    assert.equal(dedupReplicaAlerts([[a('X', 'firing', 1), a('X', 'pending', 2)], []]).length, 2);
  });
});

describe('cost at the open', () => {
  const sample = (tMs: number, producers: number, p1: number, p2: number | null): ProbeSample =>
    ({
      tMs,
      phase: 'peak',
      pull: { scrapeP50: p1, scrapeP99: p1 * 2, scrapeMax: p1 * 3 },
      ...(p2 === null
        ? {}
        : { replicas: { 'prometheus-2': { scrapeP50: p2, scrapeP99: p2 * 2, scrapeMax: p2 * 3 } } }),
      cpu: { producers },
    }) as unknown as ProbeSample;
  it('producer cores from cumulative CPU seconds, scrape quantiles per replica, only inside the window', () => {
    const samples = [
      sample(0, 0, 9, 9), // before the window
      sample(1000, 10, 0.1, 0.2),
      sample(2000, 11, 0.3, 0.4),
      sample(3000, 12.5, 0.2, null),
      sample(9000, 99, 9, 9), // after
    ];
    const c = openCost(samples, 1000, { fromMs: 1000, toMs: 3000 }, ['prometheus', 'prometheus-2']);
    assert.equal(c.producerCores, 1.25);
    assert.deepEqual(
      c.scrape.map((x) => [x.component, x.p50, x.p99, x.ticks]),
      [
        ['prometheus', 0.2, 0.6, 3],
        ['prometheus-2', 0.4, 0.8, 2],
      ],
    );
    assert.equal(openCost([], 0, { fromMs: 0, toMs: 1 }, ['prometheus']).producerCores, null);
  });
});

describe('a further replica that dies is survivable', () => {
  const run = async (dead: string[], survivable?: Set<string>) => {
    let stopped: string | null = null;
    const t = { dead: async () => dead, ...(survivable ? { survivable } : {}) } as unknown as ProbeTargets;
    const s = { dead: undefined } as unknown as ProbeSample;
    await healthSource(t).read(s, {
      signal: new AbortController().signal,
      fatal: null,
      stopRun: (e) => {
        stopped = e.message;
      },
    });
    return { stopped, dead: s.dead };
  };
  it('prometheus-2 dead: recorded, the run goes on', async () => {
    const r = await run(['prometheus-2'], new Set(['prometheus-2']));
    assert.deepEqual(r.dead, ['prometheus-2']);
    assert.equal(r.stopped, null);
  });
  it('replica 1 (or anything else) dead: the run stops', async () => {
    const r = await run(['prometheus', 'prometheus-2'], new Set(['prometheus-2']));
    assert.match(r.stopped ?? '', /prometheus/);
    assert.doesNotMatch(r.stopped ?? '', /prometheus-2/);
    assert.match((await run(['prometheus-2'])).stopped ?? '', /prometheus-2/, 'no pair: fatal as before');
  });
});

describe('the report', () => {
  const record = {
    config: { resources: { prometheus: { cpus: 0.45, cpuset: '1', memoryBytes: 2 ** 30 } } },
    pullReplicas: {
      replicas: 2,
      merge: 'max',
      perReplica: [
        {
          replica: '1',
          component: 'prometheus',
          delivered: 100,
          lost: 0,
          lossPct: 0,
          causes: [],
          died: false,
          unanswered: [],
          coveredByOther: { pods: 0, orders: 0 },
          podsStored: {},
        },
        {
          replica: '2',
          component: 'prometheus-2',
          delivered: 0,
          lost: 100,
          lossPct: 100,
          causes: [{ cause: 'unverified', orders: 100, share: 1, countedBy: '', estimate: false }],
          died: true,
          unanswered: ['producer-0'],
          coveredByOther: { pods: 2, orders: 100 },
          podsStored: {},
        },
      ],
      merged: { delivered: 100, lost: 0, lossPct: 0, causes: [] },
      gaps: 'replica 2 lost 100; the merged view lost nothing',
      scrapeOffset: {
        targets: 2,
        intervalMs: 2000,
        p50Ms: 300,
        minMs: 100,
        maxMs: 500,
        within10Pct: 1,
        readAtMs: 0,
        from: '',
      },
      atOpen: null,
    },
  } as unknown as RunRecord;
  it('one row per replica and the merged view', () => {
    const t = replicasTable(record)!;
    assert.deepEqual(
      t.rows.map((r) => r.slice(0, 3)),
      [
        ['replica 1 (prometheus)', '100', '0'],
        ['replica 2 (prometheus-2, died)', '0', '100'],
        ['merged (max across replicas)', '100', '0'],
      ],
    );
    assert.equal(replicasTable({} as RunRecord), null, 'no pair, no table');
    const notes = replicasNotes(record).join(' ');
    assert.match(notes, /merged view lost nothing/);
    assert.match(notes, /300 ms apart at the median \(100–500 ms over 2 pods/);
    assert.match(notes, /both replicas run in pull's one budget \(0.45 cores, 1.00 GiB\)/);
  });
});
