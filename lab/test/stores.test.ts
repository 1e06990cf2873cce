// #24: each path on its own store — the configs both stores run (one rendering, targets apart), the default
// resource plan with the push store, and the observer's cheap readings of a store (its /metrics,
// /api/v1/targets). Pure: no store runs here (the process-runtime burst tests run both modes for real).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { paths, repoRoot } from '../src/core/paths.ts';
import { checkPlan, defaultPlan, resolvePlan } from '../src/core/resources.ts';
import { storeSelfSnapshot, targetFields } from '../src/probe/stores.ts';
import {
  composePushStoreConfig,
  derivePrometheusConfig,
  type StoreRole,
  storeRoles,
} from '../src/runtime/prometheus-config.ts';

const p = paths(repoRoot());
const source = readFileSync(p.prometheusYml, 'utf8');
const addresses = {
  collector: '127.0.0.1:1',
  pushgateway: '127.0.0.1:2',
  'node-exporter': '127.0.0.1:3',
  prometheus: '127.0.0.1:4',
};

type Job = {
  job_name: string;
  static_configs?: { targets: string[] }[];
  relabel_configs?: { action: string }[];
};

/** The jobs a rendering scrapes (a target to scrape and no drop-all relabelling). */
function scraped(role: StoreRole): string[] {
  const d = derivePrometheusConfig(source, {
    sourceDir: p.prometheusDir,
    sdDir: '/tmp/sd',
    scrapeIntervalMs: 2000,
    jobAddresses: addresses,
    role,
  });
  const doc = parse(d.yaml) as { scrape_configs: Job[] };
  return doc.scrape_configs
    .filter((j) => !(j.relabel_configs ?? []).some((r) => r.action === 'drop'))
    .filter((j) => j.static_configs === undefined || j.static_configs.some((s) => s.targets.length > 0))
    .map((j) => j.job_name);
}

/** A rendering with every target stripped: what "the same configuration apart from targets" compares. */
function withoutTargets(role: StoreRole): unknown {
  const d = derivePrometheusConfig(source, {
    sourceDir: p.prometheusDir,
    sdDir: '/tmp/sd',
    scrapeIntervalMs: 2000,
    jobAddresses: addresses,
    role,
  });
  const doc = parse(d.yaml) as { scrape_configs: Record<string, unknown>[] };
  for (const j of doc.scrape_configs) {
    delete j.static_configs;
    delete j.relabel_configs;
  }
  return doc;
}

describe('one Prometheus configuration, rendered per store', () => {
  const cases: [StoreRole, string[]][] = [
    ['pull', ['producers', 'prometheus']],
    ['push', ['collector', 'pushgateway', 'node-exporter', 'prometheus']],
    ['shared', ['producers', 'collector', 'pushgateway', 'node-exporter', 'prometheus']],
  ];
  for (const [role, jobs] of cases)
    it(`${role}: scrapes ${jobs.join(', ')}`, () => assert.deepEqual(scraped(role), jobs));

  it('the two stores differ in their targets only (rules, intervals, limits, job names alike)', () => {
    assert.deepEqual(withoutTargets('push'), withoutTargets('pull'));
    assert.deepEqual(withoutTargets('pull'), withoutTargets('shared'));
  });

  it('store modes: per-path runs prometheus (pull) and prometheus-push (push); shared one store', () => {
    assert.deepEqual(storeRoles('per-path'), [
      { component: 'prometheus', role: 'pull' },
      { component: 'prometheus-push', role: 'push' },
    ]);
    assert.deepEqual(storeRoles('shared'), [{ component: 'prometheus', role: 'shared' }]);
    assert.deepEqual(storeRoles(undefined), storeRoles('shared'));
  });

  it("prometheus/prometheus-push.yml (compose's push store) is the rendering of prometheus.yml", () => {
    assert.equal(
      readFileSync(`${p.prometheusDir}/prometheus-push.yml`, 'utf8'),
      composePushStoreConfig(source),
    );
  });
});

describe('the default plan with a store per path', () => {
  const host = { cores: 2, memoryBytes: 24 * 2 ** 30 };
  const sum = (...xs: (number | null)[]) =>
    Math.round(xs.reduce<number>((a, x) => a + (x ?? 0), 0) * 100) / 100;

  it('2 cores: pull 0.45 = collector 0.25 + prometheus-push 0.2, all on core 1; memory equal too', () => {
    const plan = defaultPlan(host);
    assert.deepEqual(
      [plan.prometheus.cpus, plan.collector.cpus, plan['prometheus-push'].cpus],
      [0.45, 0.25, 0.2],
    );
    assert.equal(sum(plan.collector.cpus, plan['prometheus-push'].cpus), plan.prometheus.cpus);
    assert.equal(
      sum(plan.collector.memoryBytes, plan['prometheus-push'].memoryBytes),
      plan.prometheus.memoryBytes,
    );
    assert.equal(plan['prometheus-push'].cpuset, '1');
    assert.deepEqual([plan.producers.cpus, plan.lab.cpus, plan.lab.cpuset], [0.8, 0.2, '0']);
  });

  for (const cores of [1, 2, 4, 8])
    it(`${cores} cores: the pipelines' totals are equal and the plan fits, both store modes`, () => {
      const h = { cores, memoryBytes: 16 * 2 ** 30 };
      const per = defaultPlan(h, 'per-path');
      assert.equal(sum(per.collector.cpus, per['prometheus-push'].cpus), per.prometheus.cpus);
      assert.doesNotThrow(() => checkPlan(per, h));
      const shared = defaultPlan(h, 'shared');
      assert.equal(shared.collector.cpus, shared.prometheus.cpus);
      assert.deepEqual(shared['prometheus-push'], { cpus: null, cpuset: null, memoryBytes: null });
      assert.doesNotThrow(() => checkPlan(shared, h));
    });

  it('--cpus names the push store like any component', () => {
    assert.equal(resolvePlan({ cpus: 'prometheus-push=0.1' }, host)['prometheus-push'].cpus, 0.1);
  });
});

describe("a store's own /metrics (no PromQL)", () => {
  const text = [
    '# HELP prometheus_target_interval_length_seconds Actual intervals between scrapes.',
    'prometheus_target_interval_length_seconds{interval="2s",quantile="0.5"} 2.0001',
    'prometheus_target_interval_length_seconds{interval="2s",quantile="0.99"} 2.7',
    'prometheus_target_interval_length_seconds{interval="15s",quantile="0.99"} 15.2',
    'prometheus_rule_group_iterations_missed_total{rule_group="/r.yml;pushpull-recording"} 3',
    'prometheus_rule_group_iterations_missed_total{rule_group="/r.yml;pushpull-alerts"} 1',
    'prometheus_rule_group_iterations_total{rule_group="/r.yml;pushpull-recording"} 40',
    'prometheus_rule_group_iterations_total{rule_group="/r.yml;pushpull-alerts"} 42',
    'prometheus_rule_group_last_duration_seconds{rule_group="/r.yml;pushpull-recording"} 0.8',
    'prometheus_rule_group_last_duration_seconds{rule_group="/r.yml;pushpull-alerts"} 0.01',
    'prometheus_tsdb_head_series 1234',
  ].join('\n');
  const cases: [string, string, ReturnType<typeof storeSelfSnapshot>][] = [
    [
      'every family',
      text,
      { intervalP99: 15.2, ruleMissed: 4, ruleIterations: 82, ruleLastDurationMax: 0.8 },
    ],
    [
      'nothing known',
      'up 1\n',
      { intervalP99: null, ruleMissed: null, ruleIterations: null, ruleLastDurationMax: null },
    ],
    [
      'garbage lines are skipped',
      'prometheus_rule_group_iterations_missed_total{x="1"} notanumber\n{{{\nprometheus_rule_group_iterations_missed_total 2',
      { intervalP99: null, ruleMissed: 2, ruleIterations: null, ruleLastDurationMax: null },
    ],
  ];
  for (const [name, body, want] of cases) it(name, () => assert.deepEqual(storeSelfSnapshot(body), want));
});

describe('/api/v1/targets → the pull probe (no PromQL)', () => {
  const t = (job: string, health: string, d: number, timeout = '2s') => ({
    labels: { job },
    scrapePool: job,
    health,
    lastScrapeDuration: d,
    scrapeTimeout: timeout,
  });
  const cases: [string, Parameters<typeof targetFields>[0], ReturnType<typeof targetFields>][] = [
    [
      'four pods, one down, one slow; the collector is not a pod',
      [
        t('producers', 'up', 0.1),
        t('producers', 'up', 0.2),
        t('producers', 'down', 1.5),
        t('producers', 'up', 0.3),
        t('collector', 'up', 9),
      ],
      {
        targets: 4,
        targetsUp: 3,
        scrapeP50: 0.25,
        // PromQL's quantile(0.99) over [0.1, 0.2, 0.3, 1.5]: rank 2.97 → 0.3 + 0.97 × 1.2.
        scrapeP99: 0.3 + 0.97 * 1.2,
        scrapeMax: 1.5,
        scrapeTimeout: 2,
        slowTargets: 1,
      },
    ],
    [
      'no pod targets: nothing known',
      [t('collector', 'up', 0.1)],
      {
        targets: null,
        targetsUp: null,
        scrapeP50: null,
        scrapeP99: null,
        scrapeMax: null,
        scrapeTimeout: null,
        slowTargets: null,
      },
    ],
    [
      'never scraped yet (no `up` yet: not a failed target), and a malformed timeout: no crash',
      [
        { labels: { job: 'producers' }, health: 'unknown', lastScrapeDuration: 0, scrapeTimeout: 'soon' },
        t('producers', 'down', 0.4, 'soon'),
      ],
      {
        targets: 1,
        targetsUp: 0,
        scrapeP50: 0.4,
        scrapeP99: 0.4,
        scrapeMax: 0.4,
        scrapeTimeout: null,
        slowTargets: null,
      },
    ],
  ];
  for (const [name, active, want] of cases)
    it(name, () => {
      const got = targetFields(active, 'producers');
      for (const k of Object.keys(want) as (keyof typeof want)[]) {
        const w = want[k];
        if (typeof w === 'number')
          assert.ok(Math.abs((got[k] as number) - w) < 1e-9, `${k}: ${got[k]} vs ${w}`);
        else assert.equal(got[k], w, k);
      }
    });
});

describe('--store: recorded, and the plan follows it', () => {
  const cases: [string, string[], Record<string, string>, 'per-path' | 'shared'][] = [
    ['default', [], {}, 'per-path'],
    ['--store shared', ['--store', 'shared'], {}, 'shared'],
    ['LAB_STORE=shared', [], { LAB_STORE: 'shared' }, 'shared'],
    ['the flag wins over the env', ['--store', 'per-path'], { LAB_STORE: 'shared' }, 'per-path'],
  ];
  for (const [name, argv, env, store] of cases)
    it(name, async () => {
      const { parseBurstFlags } = await import('../src/burst/flags.ts');
      const { config } = parseBurstFlags(argv, env);
      assert.equal(config.store, store);
      // The plan on this machine: push's pipeline (the collector, and its own store when there is one)
      // gets what pull's Prometheus gets.
      const plan = config.resources!;
      const push = (plan.collector.cpus ?? 0) + (plan['prometheus-push'].cpus ?? 0);
      assert.equal(Math.round(push * 100) / 100, plan.prometheus.cpus);
      if (store === 'shared') assert.equal(plan['prometheus-push'].cpus, null);
      else assert.ok((plan['prometheus-push'].cpus ?? 0) > 0);
    });

  it('a verb without --store (drill, capacity) gets the shared plan its one store runs with', async () => {
    const { resourceFlags } = await import('../src/core/flags.ts');
    assert.equal(resourceFlags({}).resources['prometheus-push'].cpus, null);
  });

  it('an unknown store is a usage error naming it', async () => {
    const { parseBurstFlags } = await import('../src/burst/flags.ts');
    assert.throws(() => parseBurstFlags(['--store', 'both'], {}), /both/);
  });
});

describe('a shared run shows no push store it did not run', () => {
  it('the plan lines and the report leave prometheus-push out with --store shared, keep it per path', async () => {
    const { planLines } = await import('../src/core/resources.ts');
    const { resourcesTable } = await import('../src/report/resources.ts');
    const { record2 } = await import('./report-fixtures.ts');
    const plan = defaultPlan({ cores: 2, memoryBytes: 24 * 2 ** 30 }, 'shared');
    assert.ok(!planLines(plan, 'shared').some((l) => l.startsWith('prometheus-push')));
    assert.ok(
      planLines(defaultPlan({ cores: 2, memoryBytes: 24 * 2 ** 30 })).some((l) =>
        /^prometheus-push +0\.2 cores/.test(l),
      ),
    );
    const row = {
      cpus: null,
      cpuset: null,
      memory: null,
      enforcedBy: 'cgroup-v1' as const,
      cpuUsedP50: 0,
      cpuUsedP99: 0,
      throttledShare: null,
      memPeakBytes: null,
      oomKills: 0,
    };
    const resources = { prometheus: row, 'prometheus-push': row };
    const names = (store: 'per-path' | 'shared') =>
      resourcesTable(record2({ config: { ...record2().config, store }, resources }))!.rows.map((x) => x[0]);
    assert.deepEqual(names('shared'), ['prometheus']);
    assert.deepEqual(names('per-path'), ['prometheus', 'prometheus-push']);
  });
});
