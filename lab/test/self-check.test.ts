// The record's self-check (#20): a limit asked for but not in force, or a count above its own limit, is an
// error of the lab — reported above the verdict, never as a finding about a path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  collectorConfigMismatches,
  prometheusConfigMismatches,
  storedOverLimit,
} from '../src/analysis/self-check.ts';
import { expectedCollectorConfig } from '../src/burst/phases/self-check.ts';
import type { PathBudget, RunRecord } from '../src/core/record.ts';
import { renderMarkdown, renderTerminalSummary } from '../src/report/render.ts';
import { record2 } from './report-fixtures.ts';

const budget = (seriesStored: number | null, seriesLimit: number | null): PathBudget => ({
  seriesStored,
  seriesLimit,
  setBy: 'user',
  failsBy: '',
});

describe('self-check: stored against limit', () => {
  const cases: { name: string; push: PathBudget; pull: PathBudget; errors: number }[] = [
    { name: 'within limits', push: budget(1200, 1200), pull: budget(800, 1200), errors: 0 },
    { name: 'no limits', push: budget(44237, null), pull: budget(9e5, null), errors: 0 },
    // The swarm run of 2026-12-07: budgets.push said seriesLimit 1200 next to seriesStored 44237.
    { name: 'push stored above its limit', push: budget(44237, 1200), pull: budget(0, 1200), errors: 1 },
    { name: 'both above', push: budget(2000, 1200), pull: budget(1300, 1200), errors: 2 },
    { name: 'unknown count', push: budget(null, 1200), pull: budget(null, 1200), errors: 0 },
  ];
  for (const c of cases)
    it(c.name, () => {
      const found = storedOverLimit({ pull: c.pull, push: c.push });
      assert.equal(found.length, c.errors, JSON.stringify(found));
      for (const f of found) assert.match(f.what, /series stored within the series limit/);
    });
  it('names the path, the limit and the count', () => {
    const [f] = storedOverLimit({ push: budget(44237, 1200) });
    assert.deepEqual(f, {
      what: 'push: series stored within the series limit',
      expected: '≤ 1200',
      found: '44237',
    });
  });
});

describe('self-check: the collector configuration read back', () => {
  const asked = ['--max-series', '1200', '--max-series-bytes', '1MiB'];
  const expected = expectedCollectorConfig(asked);
  it('equal (listen addresses aside): nothing found', () => {
    const found = { ...expected, http: '0.0.0.0:9102', statsdUdp: '0.0.0.0:8125' };
    assert.deepEqual(collectorConfigMismatches(expected, found), []);
  });
  it('a collector that kept its default cap is caught', () => {
    const found = { ...expectedCollectorConfig([]) };
    const m = collectorConfigMismatches(expected, found);
    assert.deepEqual(
      m.map((x) => [x.what, x.expected, x.found]),
      [
        ['collector: maxSeries', '1200', '100000'],
        ['collector: maxSeriesBytes', String(2 ** 20), String(expectedCollectorConfig([]).maxSeriesBytes)],
      ],
    );
  });
  it('an unreadable or missing reading is a finding, not a pass', () => {
    assert.equal(collectorConfigMismatches(expected, null).length, 1);
    assert.ok(collectorConfigMismatches(expected, { unreadable: 'ECONNREFUSED' }).length > 5);
  });
});

describe('self-check: Prometheus configuration read back', () => {
  const yaml = (interval: string, limit: number | null) => `global:
  scrape_interval: ${interval}
scrape_configs:
- job_name: collector
  scrape_interval: ${interval}
- job_name: producers
  scrape_interval: ${interval}
${limit === null ? '' : `  sample_limit: ${limit}\n`}`;
  const cases: { name: string; yaml: string; plan: [number, number | null, boolean]; what: string[] }[] = [
    { name: 'as planned', yaml: yaml('2s', 60), plan: [2000, 60, false], what: [] },
    {
      name: 'no limit planned, none in force',
      yaml: yaml('15s', null),
      plan: [15000, null, false],
      what: [],
    },
    {
      name: 'sample_limit missing',
      yaml: yaml('2s', null),
      plan: [2000, 60, false],
      what: ['prometheus: producers sample_limit'],
    },
    {
      name: 'interval differs',
      yaml: yaml('15s', 60),
      plan: [2000, 60, false],
      what: ['prometheus: global scrape_interval', 'prometheus: producers scrape_interval'],
    },
    { name: '--pull off ignores the limit', yaml: yaml('2s', null), plan: [2000, 60, true], what: [] },
    {
      name: 'not YAML',
      yaml: '{: nope',
      plan: [2000, null, false],
      what: ['prometheus: configuration read back'],
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const [scrapeIntervalMs, sampleLimit, pullOff] = c.plan;
      const found = prometheusConfigMismatches({ scrapeIntervalMs, sampleLimit, pullOff }, c.yaml);
      assert.deepEqual(
        found.map((f) => f.what),
        c.what,
      );
    });
});

describe('self-check in the report', () => {
  it('shown above the verdict in the terminal and the markdown report', () => {
    const r: RunRecord = {
      ...record2(),
      verdict: 'NO VERDICT: the lab’s own check failed',
      selfCheck: [{ what: 'collector: maxSeries', expected: '1200', found: '100000' }],
    };
    const term = renderTerminalSummary(r);
    assert.ok(term.indexOf('SELF-CHECK FAILED') < term.indexOf('verdict:'), term);
    assert.match(term, /collector: maxSeries: expected 1200, found 100000/);
    const md = renderMarkdown(r);
    assert.ok(
      md.indexOf('SELF-CHECK FAILED') >= 0 && md.indexOf('SELF-CHECK FAILED') < md.indexOf('**Verdict:**'),
    );
  });
  it('absent when the check passed', () => {
    assert.doesNotMatch(renderTerminalSummary({ ...record2(), selfCheck: [] }), /SELF-CHECK/);
  });
});
