// Integration: `capacity` on the process runtime — real bursts (Prometheus, collector, producers on
// 127.0.0.1) as trials of the pull and push paths, the real Pushgateway under the rate-driven pusher — with
// a small fleet cap and short trials so it ends in ~3 minutes; capacity.json checked for consistency.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { CapacityResult } from '../src/capacity/result.ts';
import type { RunRecord } from '../src/core/record.ts';
import { assertBuilt, runCliProcess, scratchTmp, workDirs } from './cli-helpers.ts';

const { base, tmp } = scratchTmp('pushpull-lab-capacity-int-');
const out = join(base, 'out');

describe('capacity --runtime process, small budget (integration)', { timeout: 330_000 }, () => {
  let code: number | null = null;
  let stdout = '';
  let stderr = '';
  let r: CapacityResult;
  const read = <T>(rel: string) => JSON.parse(readFileSync(join(out, rel), 'utf8')) as T;

  before(async () => {
    assertBuilt();
    ({ code, stdout, stderr } = await runCliProcess(
      [
        'capacity',
        '--runtime',
        'process',
        '--paths',
        'pull,push,pushgateway',
        // 4 then 8 pods (the cap): at least two real trials per burst path, more if one fails; one replicate
        // per level keeps it short (the replicate statistics are unit-tested with fake trials)
        '--replicates',
        '1',
        '--start-pods',
        '4',
        '--max-pods',
        '8',
        '--pods-per-producer',
        '4',
        '--trial-duration',
        '10s',
        '--scrape-interval',
        '2s',
        '--pgw-start-rate',
        '10',
        '--pgw-max-rate',
        '40',
        '--pgw-step',
        '3s',
        '--pgw-groups',
        '50',
        '--budget',
        '5m',
        '--out',
        out,
      ],
      { TMPDIR: tmp },
      320_000,
    ));
    if (existsSync(join(out, 'capacity.json'))) r = read<CapacityResult>('capacity.json');
  });

  it('exits 0, shows progress with an ETA and the terminal table', () => {
    assert.equal(code, 0, `stdout:\n${stdout}\nstderr:\n${stderr}`);
    assert.match(stdout, /trial 1 of ~\d+ · pull at 4 pods · ETA \d+m\d\ds/);
    assert.match(
      stdout,
      /path\s+largest held\s+smallest failed\s+failed \/ held\s+pass ½ at\s+failed on\s+limited by\s+trials/,
    );
  });

  it('capacity.json: every path asked for, consistent answers, at least two real trials each', () => {
    assert.equal(r.schema, 'pushpull-lab/capacity@1');
    for (const path of ['pull', 'push', 'pushgateway'] as const) {
      const p = r.paths[path]!;
      assert.ok(p, path);
      assert.ok(['path', 'machine', 'budget', 'config'].includes(p.limitedBy), `${path}: ${p.limitedBy}`);
      if (p.maxHeld !== null && p.minFailed !== null) assert.ok(p.maxHeld < p.minFailed, path);
      if (p.limitedBy === 'config') assert.equal(p.maxHeld, path === 'pushgateway' ? 40 : 8);
      const finished = p.trials.filter((t) => !t.aborted);
      assert.ok(finished.length >= 2, `${path}: ${finished.length} finished trials`);
      assert.ok(p.answer.length > 0);
      // per level: the counted trials and their pass fraction add up to the trials themselves
      const counted = p.levels.reduce((n, l) => n + l.trials, 0);
      assert.equal(counted, finished.length, `${path}: levels count ${counted} of ${finished.length}`);
      for (const l of p.levels) assert.equal(l.passFraction, l.trials > 0 ? l.passes / l.trials : 0);
      if (path !== 'pushgateway')
        for (const t of finished) assert.ok((t.metrics.overheadS ?? -1) >= 0, `${path} ${t.load}: overheadS`);
      for (const t of p.trials) {
        if (t.held) assert.ok(p.maxHeld !== null && t.load <= p.maxHeld, `${path}: held ${t.load} > maxHeld`);
        if (t.record) assert.ok(existsSync(join(out, t.record)), t.record);
      }
    }
    assert.ok(r.pushgatewayClaim);
  });

  it('each burst trial is a real run of that path alone (push: pods not scraped; pull: push off)', () => {
    const push = r.paths.push!.trials.find((t) => t.record)!;
    const pr = read<RunRecord>(push.record!);
    assert.equal(pr.config.pull, false);
    assert.equal(pr.config.pushMode, 'per-event');
    assert.equal(pr.config.pods, push.load);
    assert.equal(pr.paths.pull.lossPct, null); // not measured, not 100 % lost
    assert.ok(pr.paths.push.emitted > 0);
    assert.match(pr.verdict, /pull was not measured/);
    const pull = r.paths.pull!.trials.find((t) => t.record)!;
    const lr = read<RunRecord>(pull.record!);
    assert.equal(lr.config.pushMode, 'off');
    assert.ok(lr.paths.pull.emitted > 0);
    assert.equal(typeof pull.metrics.scrapeP99S, 'number');
  });

  it('the extrapolation to 1,400 pods is labelled, with its basis, for both burst paths', () => {
    for (const p of ['pull', 'push'] as const) {
      const e = r.extrapolation[p]!;
      assert.equal(e.label, 'EXTRAPOLATION (not measured)');
      assert.equal(e.fleetPods, 1400);
      assert.match(e.basis, /trial\(s\) at/);
      assert.ok(
        e.components.some((c) => typeof c.cores === 'number' && c.cores > 0),
        p,
      );
    }
  });

  it('writes capacity.md and capacity.html and leaves no work dir behind', () => {
    assert.match(readFileSync(join(out, 'capacity.md'), 'utf8'), /^# Capacity/);
    assert.match(readFileSync(join(out, 'capacity.html'), 'utf8'), /<svg/);
    assert.deepEqual(workDirs(tmp), []);
  });
});

describe('capacity: the budget is a hard stop (integration)', { timeout: 120_000 }, () => {
  it('aborts the running trial at the deadline, keeps its record, writes capacity.json within 60 s', async () => {
    const out2 = join(base, 'out-budget');
    const started = Date.now();
    const res = await runCliProcess(
      [
        'capacity',
        '--runtime',
        'process',
        '--paths',
        'push',
        '--budget',
        '30s',
        '--start-pods',
        '4',
        '--pods-per-producer',
        '4',
        '--trial-duration',
        '60s', // longer than the budget: only the deadline can end it
        '--scrape-interval',
        '2s',
        '--out',
        out2,
      ],
      { TMPDIR: tmp },
      110_000,
    );
    assert.equal(res.code, 0, `stdout:\n${res.stdout}\nstderr:\n${res.stderr}`);
    const c = JSON.parse(readFileSync(join(out2, 'capacity.json'), 'utf8')) as CapacityResult;
    const written = Date.parse(c.finishedAt);
    assert.ok(
      written - (started + 30_000) < 60_000,
      `written ${(written - started) / 1000} s after the start`,
    );
    assert.equal(c.budgetEnded, true);
    const p = c.paths.push!;
    assert.equal(p.limitedBy, 'budget');
    assert.match(p.answer, /the budget, not the path, ended the search/);
    assert.equal(p.trials[0]!.aborted, true);
    assert.ok(existsSync(join(out2, p.trials[0]!.record!)), 'the aborted trial keeps its run.json');
    assert.deepEqual(workDirs(tmp), []);
  });
});
