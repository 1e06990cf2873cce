// #29 pull through per-host agents, the pure parts: the agent's description and configuration, the central
// store's receiver flag, the agent's budget group, what the observer reads of an agent, the loss by cause from
// the agents' remote-write counters, and the agents' failure signals.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { type AgentPodOutcome, agentPullLossCauses, agentShortfall } from '../src/analysis/agent-causes.ts';
import { causeText } from '../src/analysis/causes.ts';
import { deriveFirstFailures } from '../src/analysis/failures.ts';
import { signalImpact } from '../src/analysis/impact.ts';
import { signalPhrase } from '../src/analysis/verdict.ts';
import { parseBurstFlags, pullTopologyOf } from '../src/burst/flags.ts';
import type { AgentSelf } from '../src/core/record-agents.ts';
import { agentNameOf, pullLabel } from '../src/core/record-agents.ts';
import { componentOf } from '../src/core/resources.ts';
import {
  agentSelfSnapshot,
  centralReceiverSnapshot,
  emptyAgentSelf,
  podsScrapedAfter,
  remoteWriteLag,
} from '../src/probe/agents.ts';
import { renderMarkdown } from '../src/report/render.ts';
import { REMOTE_WRITE_RECEIVER_FLAG, renderArgs, stackComponents } from '../src/runtime/components.ts';
import { pullBudgets } from '../src/runtime/docker/agents.ts';
import { agentPrometheusConfig, agentSpec } from '../src/runtime/pull-agents.ts';
import { CONFIG, record, series, T0 } from './fixtures.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SOURCE = readFileSync(join(ROOT, 'prometheus', 'prometheus.yml'), 'utf8');
const sum = (cs: readonly { orders: number }[]) => cs.reduce((a, c) => a + c.orders, 0);
const byCause = (cs: readonly { cause: string; orders: number }[]) =>
  Object.fromEntries(cs.map((c) => [c.cause, c.orders]));

describe('pull agents: description and configuration', () => {
  it("the agent runs Prometheus' agent mode on its own port; only the central store gets the receiver", () => {
    const spec = agentSpec('producer-3');
    assert.equal(spec.name, 'prometheus-agent-3');
    const args = renderArgs(spec, () => '127.0.0.1:9999');
    assert.ok(args.includes('--web.listen-address=127.0.0.1:9999'));
    assert.ok(args.some((a) => /^--enable-feature=.*\bagent\b/.test(a)));
    const central = stackComponents({ withNodeExporter: false, pullTopology: 'agent' });
    assert.ok(central.prometheus.flags.includes(REMOTE_WRITE_RECEIVER_FLAG));
    assert.ok(!central['prometheus-push'].flags.includes(REMOTE_WRITE_RECEIVER_FLAG));
    const plain = stackComponents({ withNodeExporter: false });
    assert.ok(!plain.prometheus.flags.includes(REMOTE_WRITE_RECEIVER_FLAG));
    assert.throws(() => agentSpec('collector'), /producer-<index>/);
  });

  it("scrapes only its host's discovery file with the producers job's limits, and remote-writes to the store", () => {
    const yaml = agentPrometheusConfig(SOURCE, {
      sdFiles: ['/run/sd/producer-3.json'],
      scrapeIntervalMs: 2000,
      producerScrape: { sampleLimit: 1234 },
      remoteWriteUrl: 'http://127.0.0.1:9090/api/v1/write',
    });
    const doc = parse(yaml) as {
      global: Record<string, unknown>;
      rule_files?: unknown;
      remote_write: unknown;
      scrape_configs: {
        job_name: string;
        sample_limit?: number;
        relabel_configs?: unknown;
        file_sd_configs: { files: string[] }[];
      }[];
    };
    assert.deepEqual(
      doc.scrape_configs.map((j) => j.job_name),
      ['producers'],
    );
    const job = doc.scrape_configs[0]!;
    assert.deepEqual(job.file_sd_configs[0]!.files, ['/run/sd/producer-3.json']);
    assert.equal(job.sample_limit, 1234);
    assert.equal(job.relabel_configs, undefined, 'an agent never drops its pods');
    assert.equal(doc.global.scrape_interval, '2s');
    assert.equal(doc.global.evaluation_interval, undefined);
    assert.equal(doc.rule_files, undefined, 'agent mode refuses rule files');
    assert.deepEqual(doc.remote_write, [{ url: 'http://127.0.0.1:9090/api/v1/write', name: 'central' }]);
  });

  const bad: [string, Parameters<typeof agentPrometheusConfig>[1], RegExp][] = [
    [
      'no discovery file',
      { sdFiles: [], scrapeIntervalMs: 2000, remoteWriteUrl: 'http://h:1/api/v1/write' },
      /no discovery file/,
    ],
    [
      'a URL that is not the receiver',
      { sdFiles: ['/x.json'], scrapeIntervalMs: 2000, remoteWriteUrl: 'http://h:1/metrics' },
      /"http:\/\/h:1\/metrics" is not <store>\/api\/v1\/write/,
    ],
  ];
  for (const [what, opts, err] of bad)
    it(`refuses ${what}`, () => assert.throws(() => agentPrometheusConfig(SOURCE, opts), err));

  it('names, labels and budgets: an agent is pull’s pipeline', () => {
    assert.equal(agentNameOf('producer-12'), 'prometheus-agent-12');
    assert.equal(componentOf('prometheus-agent-12'), 'prometheus');
    assert.equal(componentOf('prometheus-agentx'), null);
    assert.equal(pullLabel({ pullTopology: 'agent' }), 'pull (agents → remote_write)');
    assert.equal(pullLabel({}), 'pull (Prometheus scrape)');
  });
});

describe('pull agents on an engine runtime: the budget split', () => {
  const cases: [number, number | null, number | null][] = [
    [1, 0.225, 0.225],
    [2, 0.225, 0.113],
    [4, 0.225, 0.056],
  ];
  for (const [n, central, each] of cases)
    it(`${n} agent(s): central ${central} cores, each agent ${each}`, () => {
      const b = pullBudgets({ cpus: 0.45, cpuset: '1', memoryBytes: 4 * 2 ** 30 }, n);
      assert.equal(b.central.cpus, central);
      assert.equal(b.agent.cpus, each);
      assert.equal(b.central.memoryBytes, 2 * 2 ** 30);
      assert.ok(b.central.cpus! + n * b.agent.cpus! <= 0.45 + 0.001 * n, 'never more than pull’s budget');
    });
});

describe('pull agents: --pull-topology', () => {
  const cases: [string[], string | undefined | RegExp][] = [
    [[], undefined],
    [['--pull-topology', 'central'], undefined],
    [['--pull-topology', 'agent'], 'agent'],
    [['--pull-topology', 'agents'], /pull-topology/],
    [['--pull-topology', 'agent', '--pull', 'off'], /not scraped with --pull off/],
  ];
  for (const [argv, want] of cases)
    it(`${argv.join(' ') || '(default)'} → ${String(want)}`, () => {
      if (want instanceof RegExp) assert.throws(() => parseBurstFlags(argv, {}), want);
      else assert.equal(parseBurstFlags(argv, {}).config.pullTopology, want);
    });
  it('records nothing for the default', () => assert.deepEqual(pullTopologyOf(undefined, 'on'), {}));
});

const AGENT_METRICS = `# HELP prometheus_remote_storage_samples_total Total number of samples sent to remote storage.
# TYPE prometheus_remote_storage_samples_total counter
prometheus_remote_storage_samples_total{remote_name="central",url="http://127.0.0.1:9/api/v1/write"} 1200
prometheus_remote_storage_samples_in_total 1500
prometheus_remote_storage_samples_failed_total{remote_name="central",url="u"} 3
prometheus_remote_storage_samples_retried_total{remote_name="central",url="u"} 40
prometheus_remote_storage_samples_dropped_total{remote_name="central",url="u"} 0
prometheus_remote_storage_samples_pending{remote_name="central",url="u"} 300
prometheus_remote_storage_highest_timestamp_in_seconds 1.7e+09
prometheus_remote_storage_queue_highest_sent_timestamp_seconds{remote_name="central",url="u"} 1.69999997e+09
prometheus_remote_storage_shards{remote_name="central",url="u"} 4
prometheus_remote_storage_shards_max{remote_name="central",url="u"} 200
prometheus_remote_storage_shards_desired{remote_name="central",url="u"} 7.5
prometheus_tsdb_wal_corruptions_total 0
prometheus_target_interval_length_seconds{interval="2s",quantile="0.5"} 2.0001
prometheus_target_interval_length_seconds{interval="2s",quantile="0.99"} 2.31
prometheus_target_interval_length_seconds{interval="5s",quantile="0.99"} bad
`;

describe('pull agents: what the observer reads', () => {
  it("an agent's /metrics → its remote-write queue, WAL and interval (a bad value skipped)", () => {
    const a = agentSelfSnapshot(AGENT_METRICS);
    assert.deepEqual(
      {
        in: a.samplesIn,
        sent: a.samplesSent,
        failed: a.samplesFailed,
        retried: a.samplesRetried,
        dropped: a.samplesDropped,
        pending: a.samplesPending,
        shards: [a.shards, a.shardsMax, a.shardsDesired],
        wal: a.walCorruptions,
        walTrunc: a.walTruncationsFailed,
        p99: a.intervalP99,
      },
      {
        in: 1500,
        sent: 1200,
        failed: 3,
        retried: 40,
        dropped: 0,
        pending: 300,
        shards: [4, 200, 7.5],
        wal: 0,
        walTrunc: null,
        p99: 2.31,
      },
    );
    assert.ok(Math.abs(remoteWriteLag(a)! - 30) < 1e-6);
    assert.equal(remoteWriteLag(emptyAgentSelf()), null);
  });

  it("the central store's receiver by status class; none when it never received", () => {
    const text = [
      'prometheus_http_requests_total{code="204",handler="/api/v1/write"} 50',
      'prometheus_http_requests_total{code="429",handler="/api/v1/write"} 2',
      'prometheus_http_requests_total{code="500",handler="/api/v1/write"} 3',
      'prometheus_http_requests_total{code="400",handler="/api/v1/write"} 1',
      'prometheus_http_requests_total{code="200",handler="/metrics"} 99',
    ].join('\n');
    assert.deepEqual(centralReceiverSnapshot(text), { ok: 50, throttled: 2, errors: 3, refused: 1 });
    assert.equal(
      centralReceiverSnapshot('prometheus_http_requests_total{code="200",handler="/metrics"} 9'),
      null,
    );
  });

  it('pods an agent scraped successfully after quiesce', () => {
    const at = (ms: number) => new Date(ms).toISOString();
    const pods = podsScrapedAfter(
      [
        { labels: { pod: 'a' }, health: 'up', lastScrape: at(T0 + 5000) },
        { labels: { pod: 'b' }, health: 'down', lastScrape: at(T0 + 5000) },
        { labels: { pod: 'c' }, health: 'up', lastScrape: at(T0 - 1) },
        { labels: { pod: 'd' }, health: 'up' },
      ],
      T0,
    );
    assert.deepEqual(pods, ['a']);
  });
});

const agent = (o: Partial<AgentSelf> = {}): AgentSelf => ({
  ...emptyAgentSelf(),
  samplesIn: 1000,
  samplesSent: 1000,
  samplesFailed: 0,
  samplesRetried: 0,
  samplesDropped: 0,
  samplesPending: 0,
  highestTs: 100,
  highestSentTs: 100,
  shards: 1,
  shardsMax: 200,
  walCorruptions: 0,
  ...o,
});

const pod = (o: Partial<AgentPodOutcome> & { pod: string }): AgentPodOutcome => ({
  emitted: 100,
  stored: 100,
  scrapedAfterQuiesce: true,
  died: false,
  overSampleLimit: false,
  agent: 'prometheus-agent-0',
  scrapedByAgent: true,
  ...o,
});

describe('pull agents: loss by cause from the agents’ own counters (sums exactly)', () => {
  const cases: [
    string,
    AgentPodOutcome[],
    Record<string, AgentSelf | null>,
    boolean,
    Record<string, number>,
  ][] = [
    [
      'scraped at the agent, still pending in its queue',
      [pod({ pod: 'a', stored: 60, scrapedAfterQuiesce: false }), pod({ pod: 'b' })],
      { 'prometheus-agent-0': agent({ samplesPending: 500, highestSentTs: 80, samplesRetried: 900 }) },
      false,
      { 'remote-write-pending': 40, unexplained: 0 },
    ],
    [
      "in the central store after quiesce (its up) while the agent's queue still held its last orders (shards reorder series)",
      [pod({ pod: 'a', stored: 70 }), pod({ pod: 'b', stored: 95, scrapedByAgent: null })],
      { 'prometheus-agent-0': agent({ samplesPending: 12_509, highestSentTs: 75 }) },
      false,
      { 'remote-write-pending': 35, unexplained: 0 },
    ],
    [
      'in the central store after quiesce, the agent drained: not stored',
      [pod({ pod: 'a', stored: 70 })],
      { 'prometheus-agent-0': agent() },
      false,
      { 'not-stored': 30, unexplained: 0 },
    ],
    [
      'given up on a non-recoverable error',
      [pod({ pod: 'a', stored: 10, scrapedAfterQuiesce: false })],
      { 'prometheus-agent-0': agent({ samplesFailed: 77 }) },
      false,
      { 'remote-write-failed': 90, unexplained: 0 },
    ],
    [
      'dropped, and a corrupt WAL on another agent',
      [
        pod({ pod: 'a', stored: 50, scrapedAfterQuiesce: false }),
        pod({ pod: 'b', stored: 70, scrapedAfterQuiesce: false, agent: 'prometheus-agent-1' }),
      ],
      {
        'prometheus-agent-0': agent({ samplesDropped: 5 }),
        'prometheus-agent-1': agent({ walCorruptions: 1 }),
      },
      false,
      { 'remote-write-dropped': 50, 'wal-corrupt': 30, unexplained: 0 },
    ],
    [
      'never scraped at the agent: scrape failed, over limit, agent overloaded',
      [
        pod({ pod: 'a', stored: 90, scrapedAfterQuiesce: false, scrapedByAgent: false }),
        pod({
          pod: 'b',
          stored: 80,
          scrapedAfterQuiesce: false,
          scrapedByAgent: false,
          overSampleLimit: true,
        }),
      ],
      { 'prometheus-agent-0': agent() },
      false,
      { 'scrape-over-limit': 20, 'scrape-failed': 10, unexplained: 0 },
    ],
    [
      'agent overloaded',
      [pod({ pod: 'a', stored: 90, scrapedAfterQuiesce: false, scrapedByAgent: false })],
      { 'prometheus-agent-0': agent() },
      true,
      { 'prometheus-overloaded': 10, unexplained: 0 },
    ],
    [
      'scraped at the agent, no counter moved: unexplained, listed',
      [pod({ pod: 'a', stored: 90, scrapedAfterQuiesce: false })],
      { 'prometheus-agent-0': agent() },
      false,
      { unexplained: 10 },
    ],
    [
      'the agent did not answer at the end; a dead host; an unverified pod',
      [
        pod({ pod: 'a', stored: 90, scrapedAfterQuiesce: false }),
        pod({ pod: 'b', stored: 50, scrapedAfterQuiesce: false, died: true }),
        pod({ pod: 'c', stored: null, scrapedAfterQuiesce: null }),
      ],
      { 'prometheus-agent-0': null },
      false,
      { unverified: 100, 'target-died': 50, unexplained: 10 },
    ],
  ];
  for (const [what, pods, finals, overloaded, want] of cases)
    it(what, () => {
      const lost = pods.reduce((a, p) => a + p.emitted - (p.stored ?? 0), 0);
      const cs = agentPullLossCauses(lost, pods, finals, overloaded);
      assert.deepEqual(byCause(cs), want);
      assert.equal(sum(cs), lost);
    });

  it('names the agent and its counters in the cause', () => {
    const cs = agentPullLossCauses(
      40,
      [pod({ pod: 'a', stored: 60, scrapedAfterQuiesce: false })],
      { 'prometheus-agent-0': agent({ samplesPending: 500, highestSentTs: 80 }) },
      false,
    );
    assert.match(cs[0]!.countedBy, /prometheus-agent-0: 500 samples pending, newest sent 20\.0 s behind/);
    assert.match(causeText('remote-write-pending'), /remote-write queue/);
    assert.equal(agentShortfall(agent()), null);
  });
});

describe('pull agents: failure signals', () => {
  const opts = { burstAtMs: T0, scrapeTimeoutSeconds: 10, scrapeIntervalSeconds: 15 };
  const healthy = (sec: number) => ({
    agents: { 'prometheus-agent-0': agent({ highestTs: 1000 + sec, highestSentTs: 1000 + sec - 1 }) },
    centralReceiver: { ok: 10 * (sec + 10), throttled: 0, errors: 0, refused: 0 },
  });

  it('a healthy agent tier raises none', () => {
    assert.deepEqual(deriveFirstFailures(series(-5, 20, healthy), opts), []);
  });

  it('queue behind, shards at max, central 5xx, retries and give-ups: each at its first second', () => {
    const s = series(-5, 20, (sec) => {
      const h = healthy(sec);
      const a = h.agents['prometheus-agent-0'];
      return {
        ...h,
        agents: {
          'prometheus-agent-0': {
            ...a,
            highestSentTs: sec >= 8 ? 1000 - 25 : a.highestSentTs,
            shards: sec >= 12 ? 200 : 1,
            samplesRetried: sec >= 3 ? 50 : 0,
            samplesFailed: sec >= 15 ? 9 : 0,
          },
        },
        centralReceiver: { ...h.centralReceiver, errors: sec >= 2 ? 4 : 0 },
      };
    });
    const f = deriveFirstFailures(s, opts);
    assert.deepEqual(
      f.map((x) => [x.path, x.signal, x.secondsAfterBurst]),
      [
        ['pull', 'remote-write-refused', 2],
        ['pull', 'remote-write-retried', 3],
        ['pull', 'remote-write-behind', 8],
        ['pull', 'remote-write-shards-max', 12],
        ['pull', 'remote-write-failed', 15],
      ],
    );
    assert.match(f[2]!.detail, /prometheus-agent-0's remote-write queue 33\.0 s behind/);
    assert.match(f[0]!.detail, /4 × 5xx/);
  });

  it('in the verdict and the impact tables', () => {
    assert.equal(signalPhrase('remote-write-behind'), "an agent's remote-write queue fell behind");
    const causes = [{ cause: 'remote-write-pending', orders: 7, share: 1, countedBy: '', estimate: false }];
    assert.equal(signalImpact('remote-write-behind', causes), 7);
    assert.equal(signalImpact('remote-write-failed', causes), 0);
  });

  it('a dead agent fails the pull path', () => {
    const s = series(-2, 5, (sec) => (sec >= 3 ? { dead: ['prometheus-agent-1'] } : {}));
    const f = deriveFirstFailures(s, opts);
    assert.deepEqual(
      f.map((x) => [x.path, x.signal]),
      [['pull', 'died:prometheus-agent-1']],
    );
  });
});

describe('pull agents in the report', () => {
  it('one row per agent with its queue at the end and its cost, then the central store', () => {
    const r = record({
      config: { ...CONFIG, pullTopology: 'agent' },
      pullAgents: {
        topology: 'agent',
        agents: [
          {
            name: 'prometheus-agent-0',
            host: 'producer-0',
            pods: 5,
            final: agent({ samplesIn: 5000, samplesSent: 4200, samplesPending: 800, highestSentTs: 88 }),
            scrapedAfterQuiesce: 5,
            cpuCores: 0.071,
            rssMaxBytes: 140 * 2 ** 20,
          },
        ],
        central: {
          name: 'prometheus',
          cpuCores: 0.3,
          rssMaxBytes: null,
          receiver: { ok: 90, throttled: 2, errors: 1, refused: 0 },
        },
        budget: 'one budget for pull',
      },
    });
    const md = renderMarkdown(r);
    assert.match(
      md,
      /\| prometheus-agent-0 \(producer-0, 5 pods\) \| 5,000 \| 4,200 \| 800 \/ 12\.0 s \| 0 \/ 0 \/ 0 \| 0\.071 \|/,
    );
    assert.match(md, /\| prometheus \(central store\) \|.*90 writes ok.*429: 2, 5xx: 1/);
    assert.match(md, /one budget for pull/);
    assert.doesNotMatch(renderMarkdown(record()), /pull agent/);
  });
});
