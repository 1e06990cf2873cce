import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import { parse } from 'yaml';
import { paths, repoRoot } from '../src/core/paths.ts';
import { derivePrometheusConfig, parsePromDuration, promDuration } from '../src/runtime/prometheus-config.ts';

const root = repoRoot();
const p = paths(root);
const source = readFileSync(p.prometheusYml, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'pushpull-lab-promcfg-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const opts = {
  sourceDir: p.prometheusDir,
  sdDir: join(dir, 'sd'),
  scrapeIntervalMs: 2000,
  jobAddresses: {
    collector: '127.0.0.1:40001',
    pushgateway: '127.0.0.1:40002',
    'node-exporter': '127.0.0.1:40003',
    prometheus: '127.0.0.1:40004',
  },
};

type Job = {
  job_name: string;
  static_configs?: { targets: string[] }[];
  file_sd_configs?: { files: string[] }[];
  sample_limit?: number;
  body_size_limit?: string;
  scrape_timeout?: string;
  honor_labels?: boolean;
};

describe('process runtime Prometheus config, derived from prometheus/prometheus.yml', () => {
  const d = derivePrometheusConfig(source, opts);
  const doc = parse(d.yaml) as {
    global: Record<string, string>;
    rule_files: string[];
    scrape_configs: Job[];
  };
  const src = parse(source) as { scrape_configs: Job[]; rule_files: string[] };
  const job = (n: string) => doc.scrape_configs.find((j) => j.job_name === n)!;

  it('keeps every job of the compose config, in order (contract: fixed job names)', () => {
    assert.deepEqual(
      doc.scrape_configs.map((j) => j.job_name),
      src.scrape_configs.map((j) => j.job_name),
    );
    for (const n of ['producers', 'collector', 'pushgateway', 'node-exporter', 'prometheus'])
      assert.ok(job(n), n);
  });

  it('rewrites static targets to the local ports and file_sd to the run’s sd dir', () => {
    assert.deepEqual(job('collector').static_configs, [{ targets: ['127.0.0.1:40001'] }]);
    assert.deepEqual(job('pushgateway').static_configs, [{ targets: ['127.0.0.1:40002'] }]);
    assert.deepEqual(job('node-exporter').static_configs, [{ targets: ['127.0.0.1:40003'] }]);
    assert.deepEqual(job('prometheus').static_configs, [{ targets: ['127.0.0.1:40004'] }]);
    assert.deepEqual(job('producers').file_sd_configs?.[0]?.files, [join(dir, 'sd', '*.json')]);
  });

  it('keeps limits and honor_labels, makes rule files absolute', () => {
    const sj = src.scrape_configs.find((j) => j.job_name === 'producers')!;
    assert.equal(job('producers').sample_limit, sj.sample_limit);
    assert.equal(job('producers').body_size_limit, sj.body_size_limit);
    assert.equal(job('pushgateway').honor_labels, true);
    assert.deepEqual(
      doc.rule_files,
      src.rule_files.map((f) => join(p.prometheusDir, f)),
    );
  });

  it('uses the chosen interval; the timeout never exceeds it', () => {
    assert.equal(doc.global.scrape_interval, '2s');
    assert.equal(doc.global.scrape_timeout, '2s');
    assert.equal(d.scrapeTimeoutMs, 2000);
    const slow = derivePrometheusConfig(source, { ...opts, scrapeIntervalMs: 15_000 });
    assert.equal(slow.scrapeTimeoutMs, 10_000, 'the compose 10 s timeout kept at 15 s');
    assert.equal(slow.producerScrapeTimeoutMs, 10_000);
  });

  it('producer scrape overrides (sample_limit, body_size_limit, timeout)', () => {
    const o = derivePrometheusConfig(source, {
      ...opts,
      scrapeIntervalMs: 15_000,
      producerScrape: { sampleLimit: 500, bodySizeLimit: '100KB', scrapeTimeoutMs: 5000 },
    });
    const pj = (parse(o.yaml) as { scrape_configs: Job[] }).scrape_configs.find(
      (j) => j.job_name === 'producers',
    )!;
    assert.equal(pj.sample_limit, 500);
    assert.equal(pj.body_size_limit, '100KB');
    assert.equal(pj.scrape_timeout, '5s');
    assert.equal(o.producerScrapeTimeoutMs, 5000);
  });

  it('a reused stack (#25): instance = the pod, so a restarted pod keeps its series; --pull off still drops all', () => {
    const producers = (ps: object) =>
      (
        parse(derivePrometheusConfig(source, { ...opts, producerScrape: ps }).yaml) as {
          scrape_configs: (Job & { relabel_configs?: unknown })[];
        }
      ).scrape_configs.find((j) => j.job_name === 'producers')!;
    const cases: [object, unknown][] = [
      [{}, undefined],
      [{ stableInstance: true }, [{ source_labels: ['pod'], target_label: 'instance' }]],
      [
        { stableInstance: true, off: true },
        [{ source_labels: ['__address__'], regex: '.*', action: 'drop' }],
      ],
    ];
    for (const [ps, want] of cases) assert.deepEqual(producers(ps).relabel_configs, want, JSON.stringify(ps));
  });

  it('node-exporter off keeps the job without targets', () => {
    const o = derivePrometheusConfig(source, {
      ...opts,
      jobAddresses: { ...opts.jobAddresses, 'node-exporter': null },
    });
    const nj = (parse(o.yaml) as { scrape_configs: Job[] }).scrape_configs.find(
      (j) => j.job_name === 'node-exporter',
    )!;
    assert.deepEqual(nj.static_configs, [{ targets: [] }]);
  });

  it('promtool check config accepts the derived file (with the real rule files)', () => {
    for (const [name, cfg] of [
      ['derived-2s.yml', d.yaml],
      ['derived-15s.yml', derivePrometheusConfig(source, { ...opts, scrapeIntervalMs: 15_000 }).yaml],
      [
        'derived-stable-instance.yml',
        derivePrometheusConfig(source, { ...opts, producerScrape: { stableInstance: true } }).yaml,
      ],
      [
        'derived-no-node.yml',
        derivePrometheusConfig(source, {
          ...opts,
          jobAddresses: { ...opts.jobAddresses, 'node-exporter': null },
        }).yaml,
      ],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, cfg);
      const r = spawnSync('promtool', ['check', 'config', file], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout + r.stderr, /SUCCESS/);
    }
  });

  it('a job with static targets but no local address is an error naming it', () => {
    const extra = `${source}\n  - job_name: mystery\n    static_configs:\n      - targets: ['x:1']\n`;
    assert.throws(
      () => derivePrometheusConfig(extra, opts),
      (e) => isLabError(e, 'LAB_ERR_CONFIG') && /job "mystery"/.test(e.message),
    );
    assert.throws(
      () => derivePrometheusConfig('global: [', opts),
      (e) => isLabError(e, 'LAB_ERR_CONFIG'),
    );
  });

  it('durations', () => {
    assert.equal(promDuration(2000), '2s');
    assert.equal(promDuration(1500), '1500ms');
    assert.equal(promDuration(120_000), '2m');
    assert.equal(parsePromDuration('1m30s'), 90_000);
    assert.throws(() => parsePromDuration('15 s'));
  });
});
