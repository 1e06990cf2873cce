// Integration (#28): the Prometheus pair on the process runtime — two real Prometheus servers scraping the same
// pods, identical apart from their `replica` label. A small burst with `--prometheus-replicas 2`, replica 2
// SIGKILLed at the peak: the run goes on, the record reports delivered per replica and merged, and the merged
// view lost nothing the surviving replica stored.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunRecord } from '../src/core/record.ts';
import { alive, assertBuilt, smallProcessBurst, startCli, waitFor, workDirs } from './cli-helpers.ts';

const base = mkdtempSync(join(tmpdir(), 'pushpull-lab-pair-int-'));
const tmp = join(base, 'tmp');
const out = join(base, 'out');
mkdirSync(tmp);
after(() => rmSync(base, { recursive: true, force: true }));

function labPids(): Record<string, number> {
  const dirs = workDirs(tmp);
  if (dirs.length !== 1) return {};
  try {
    return (
      JSON.parse(readFileSync(join(tmp, dirs[0]!, 'lab.json'), 'utf8')) as { pids: Record<string, number> }
    ).pids;
  } catch {
    return {};
  }
}

describe('burst --prometheus-replicas 2, replica 2 killed at the peak (integration)', {
  timeout: 120_000,
}, () => {
  let code: number | null = null;
  let stdout = '';
  let stderr = '';
  let r: RunRecord;
  let killedPid = 0;

  before(async () => {
    assertBuilt();
    const run = startCli(
      smallProcessBurst(
        6,
        3,
        '--duration',
        '15',
        '--scrape-interval',
        '1s',
        '--prometheus-replicas',
        '2',
        '--out',
        out,
      ),
      { TMPDIR: tmp },
    );
    const killer = setTimeout(() => run.child.kill('SIGKILL'), 110_000);
    try {
      await waitFor('the peak', () => /\] peak/.test(run.stdout()), 90_000, 50);
      killedPid = labPids()['prometheus-2'] ?? 0;
      assert.ok(killedPid > 0, `replica 2's pid in lab.json: ${JSON.stringify(labPids())}`);
      process.kill(killedPid, 'SIGKILL');
      ({ code } = await run.exited);
    } finally {
      clearTimeout(killer);
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
    stdout = run.stdout();
    stderr = run.stderr();
    if (existsSync(join(out, 'run.json')))
      r = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as RunRecord;
  });

  it('the run survives the replica: exit 0, a complete record, the pair in the loss table', () => {
    assert.equal(code, 0, `stdout:\n${stdout}\nstderr:\n${stderr}`);
    assert.equal(r.error, null);
    assert.equal(r.config.prometheusReplicas, 2);
    assert.match(stdout, /pull \(Prometheus ×2\)\s+[\d,]+\s+[\d,]+/);
    assert.match(stdout, /replica 2 \(prometheus-2, died\)/);
    assert.match(stdout, /merged \(max across replicas\)/);
    assert.equal(alive(killedPid), false);
  });

  it('reports delivered per replica and merged; the merged view is pull’s delivered', () => {
    const p = r.pullReplicas!;
    assert.equal(p.replicas, 2);
    assert.equal(p.perReplica?.length, 2);
    const [r1, r2] = p.perReplica!;
    assert.equal(r1!.component, 'prometheus');
    assert.equal(r2!.component, 'prometheus-2');
    assert.equal(r2!.died, true, 'replica 2 recorded as died');
    assert.ok(r.firstFailures.some((f) => f.signal === 'died:prometheus-2' && f.path === 'pull'));
    const orders = r.ledgers.reduce((a, l) => a + l.total.orders, 0);
    assert.ok(orders > 1000, `a burst happened (${orders} orders)`);
    assert.equal(p.merged!.delivered, r.paths.pull.delivered);
    assert.equal(r.paths.pull.emitted, orders);
    for (const a of [r1!, r2!, { ...p.merged!, component: 'merged' }]) {
      assert.equal(a.delivered + a.lost, orders, `${a.component}: emitted == delivered + lost`);
      assert.equal(
        a.causes.reduce((s, c) => s + c.orders, 0),
        a.lost,
        `${a.component}: causes sum exactly to the loss`,
      );
    }
    assert.equal(
      Object.values(r1!.podsStored).reduce<number>((a, v) => a + (v ?? 0), 0),
      r1!.delivered,
      "replica 1's pods add up to its delivered",
    );
    assert.equal(Object.keys(r1!.podsStored).length, 6);
  });

  it('the merged view lost nothing the surviving replica stored', () => {
    const p = r.pullReplicas!;
    const [r1, r2] = p.perReplica!;
    // What replica 1 stored is all in the merged view; replica 2's gap (it died) is covered by replica 1.
    assert.ok(p.merged!.delivered >= r1!.delivered, `${p.merged!.delivered} >= ${r1!.delivered}`);
    assert.ok(p.merged!.lost <= r1!.lost);
    assert.equal(r2!.coveredByOther.orders, r2!.lost - p.merged!.lost);
    assert.match(p.gaps ?? '', /replica 2 \(prometheus-2, died\)/);
    assert.equal(
      r.paths.pull.lost,
      0,
      `the survivor stored every order: ${JSON.stringify(r.paths.pull.causes)}`,
    );
  });

  it('measures how far apart the two replicas scrape one pod', () => {
    const o = r.pullReplicas!.scrapeOffset!;
    assert.equal(o.targets, 6, 'every pod scraped by both after warm-up');
    assert.equal(o.intervalMs, 1000);
    assert.ok(o.minMs! >= 0 && o.maxMs! <= 500, JSON.stringify(o));
    assert.ok(r.pullReplicas!.atOpen!.scrape.length === 2);
  });
});
