// Integration (process runtime, real Prometheus and collector): the verdict tells a configured limit from a
// failing path, and --repeat writes one summary beside each run's own record.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RepeatRecord } from '../src/analysis/repeat.ts';
import type { RunRecord } from '../src/core/record.ts';
import { assertBuilt, runCliProcess, workDirs } from './cli-helpers.ts';

const base = mkdtempSync(join(tmpdir(), 'pushpull-lab-verdict-int-'));
const tmp = join(base, 'tmp');
mkdirSync(tmp);
after(() => rmSync(base, { recursive: true, force: true }));
before(() => assertBuilt());

const small = ['--runtime', 'process', '--pods', '6', '--pods-per-producer', '3', '--scrape-interval', '1s'];

describe('--series-budget: both paths get the same budget; the loss is named as that limit', {
  timeout: 170_000,
}, () => {
  const out = join(base, 'budget');
  let code: number | null = null;
  let stdout = '';
  let r: RunRecord;
  before(async () => {
    const res = await runCliProcess(
      // #24: this stack-up also runs the shared store (one Prometheus for both paths).
      ['burst', ...small, '--duration', '15', '--series-budget', '1200', '--store', 'shared', '--out', out],
      { TMPDIR: tmp },
      165_000,
    );
    ({ code, stdout } = res);
    r = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as RunRecord;
    if (code !== 0) console.error(res.stdout, res.stderr);
  });

  it('applies N to the collector and ceil(N / pods) to Prometheus, set by the user', () => {
    assert.equal(code, 0);
    assert.equal(r.config.seriesBudget, 1200);
    assert.equal(r.budgets!.push.seriesLimit, 1200);
    assert.equal(r.budgets!.pull.seriesLimit, 200 * 6);
    assert.equal(r.budgets!.push.setBy, 'user');
    assert.match(r.budgets!.pull.failsBy, /discarded whole/);
    assert.match(r.budgets!.push.failsBy, /refused and counted/);
  });

  it('#24 --store shared: both paths read from the one Prometheus, coverage recorded', () => {
    assert.equal(r.config.store, 'shared');
    assert.ok(
      r.environment.notes?.some((n) => /--store shared: push's data lands in pull's Prometheus/.test(n)),
    );
    assert.equal(r.observer?.visibility?.pull.store, 'prometheus');
    assert.equal(r.observer?.visibility?.push.store, 'prometheus');
    assert.match(r.paths.push.visibility?.method ?? '', /pushpull:push_orders:stored in prometheus /);
    assert.ok(!r.series.some((x) => x.stores?.['prometheus-push']), 'no push store ran');
    assert.ok(
      r.series.some((x) => x.stores?.prometheus?.ruleIterations),
      'the shared store read',
    );
    const cov = r.observer?.coverage ?? {};
    assert.equal(cov['prometheus-push'], undefined);
    for (const src of ['prometheus', 'targets', 'prometheus-self', 'collector'])
      assert.ok(typeof cov[src] === 'number', `coverage.${src}: ${cov[src]}`);
  });

  it('push loss is mostly series-limit refusals, with its share; causes sum exactly', () => {
    const push = r.paths.push;
    assert.ok(push.lost > 0, 'the budget refused lines');
    const causes = push.causes!;
    assert.equal(
      causes.reduce((a, c) => a + c.orders, 0),
      push.lost,
    );
    const top = [...causes].sort((a, b) => b.orders - a.orders)[0]!;
    assert.equal(top.cause, 'collector-refused:max_series');
    assert.ok(top.share > 0.5, `share ${top.share}`);
  });

  it('pull loses what sample_limit discards, counted as scrape-over-limit', () => {
    const pull = r.paths.pull;
    assert.ok(pull.lost > 0);
    assert.ok((pull.causes ?? []).some((c) => c.cause === 'scrape-over-limit' && c.orders > 0));
  });

  it('the verdict calls it the configured budget, not the path failing', () => {
    assert.match(r.verdict, /series budget you set/);
    assert.match(stdout, /^verdict: .*series budget you set/m);
  });
});

describe('the self-check: a collector whose limit differs from the plan gets no verdict (#20)', {
  timeout: 120_000,
}, () => {
  const out = join(base, 'self-check');
  let code: number | null = null;
  let stdout = '';
  let stderr = '';
  let r: RunRecord;
  before(async () => {
    // The test-only hook appends flags after the lab's own: the collector runs --max-series 777 while the
    // plan (--series-budget 1200) says 1200 — what the swarm runtime did for real before #20.
    const res = await runCliProcess(
      ['burst', ...small, '--duration', '10', '--series-budget', '1200', '--out', out],
      { TMPDIR: tmp, PUSHPULL_TEST_COLLECTOR_EXTRA_ARGS: '--max-series 777' },
      110_000,
    );
    ({ code, stdout, stderr } = res);
    r = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as RunRecord;
  });

  it('exits 1 with LAB_ERR_SELF_CHECK, naming the limit, what was asked and what ran', () => {
    assert.equal(code, 1, stdout + stderr);
    assert.match(stderr, /LAB_ERR_SELF_CHECK/);
    assert.match(stderr + stdout, /collector: maxSeries: expected 1200, found 777/);
  });

  it('the record says so in selfCheck and carries no verdict about either path', () => {
    assert.deepEqual(r.selfCheck, [{ what: 'collector: maxSeries', expected: '1200', found: '777' }]);
    assert.doesNotMatch(r.verdict, /failed first|held/);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    assert.ok(md.indexOf('SELF-CHECK FAILED') < md.indexOf('**Verdict:**'), 'above the verdict');
  });
});

describe('--repeat 2: two runs, each with its record, one summary', { timeout: 230_000 }, () => {
  const out = join(base, 'repeat');
  let code: number | null = null;
  let stdout = '';
  before(async () => {
    const res = await runCliProcess(
      ['burst', ...small, '--duration', '10', '--repeat', '2', '--out', out],
      {
        TMPDIR: tmp,
      },
      225_000,
    );
    ({ code, stdout } = res);
    if (code !== 0) console.error(res.stdout, res.stderr);
  });

  it('keeps both runs and summarises them', () => {
    assert.equal(code, 0);
    for (const k of [1, 2]) assert.ok(existsSync(join(out, `run-${k}`, 'run.json')), `run-${k}`);
    const s = JSON.parse(readFileSync(join(out, 'repeat.json'), 'utf8')) as RepeatRecord;
    assert.equal(s.schema, 'pushpull-lab/repeat@1');
    assert.equal(s.runs.length, 2);
    assert.equal(
      Object.values(s.failedFirst).reduce((a, b) => a + b, 0),
      2,
    );
    assert.equal(s.paths.pull.lossPct.runs, 2);
    assert.match(s.summary, /failed first in \d of 2 runs|neither in/);
    assert.match(stdout, /summary: /);
    assert.ok(readFileSync(join(out, 'repeat.html'), 'utf8').includes(s.runs[0]!.runId));
    assert.deepEqual(workDirs(tmp), [], 'every stack torn down');
  });
});

describe('--out is checked before anything starts', { timeout: 30_000 }, () => {
  it('a file, or a directory that holds something, is a usage error naming the path (exit 2)', async () => {
    const file = join(base, 'a-file');
    writeFileSync(file, 'x');
    const full = join(base, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'run.json'), '{}');
    for (const bad of [file, full]) {
      const started = Date.now();
      const res = await runCliProcess(['burst', ...small, '--out', bad], { TMPDIR: tmp }, 25_000);
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, /LAB_ERR_FLAG_VALUE: --out: /);
      assert.ok(res.stderr.includes(bad));
      assert.ok(Date.now() - started < 20_000, 'before any stack started');
    }
    assert.deepEqual(workDirs(tmp), []);
  });
});
