// End to end on the swarm runtime, on a one-node swarm on this machine (initialised with
// `docker swarm init --advertise-addr 127.0.0.1` when none is active, and left again afterwards only if
// this test created it): a real burst reconciled on both paths, Ctrl-C mid-run leaving no service,
// network, config, container or volume of the run behind, `up`/`status`/`scale`/`down` across separate CLI
// invocations, and one failure-mode scenario (a producer SIGKILLed, both paths' alerts fire).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DrillRecord } from '../src/drill/grid.ts';
import {
  airgapImages,
  assertBuilt,
  assertReconciled,
  interruptDuringWarmup,
  ROOT,
  type RunScope,
  runCliProcess,
  runSmallBurst,
  scopeFilter,
  scratchTmp,
  workDirs,
} from './cli-helpers.ts';
import { docker, lines, oneNodeSwarm } from './one-node-swarm.ts';

const { base, tmp } = scratchTmp('pushpull-lab-swarm-e2e-');

/** Everything the swarm runtime could leave behind of its own runs (objects named pp-<run id>-…, labelled). */
function leftovers(scope: RunScope): string[] {
  const f = scopeFilter(scope);
  return [
    ...lines(docker('service', 'ls', '--filter', f, '--format', 'service {{.Name}}')),
    ...lines(docker('config', 'ls', '--filter', f, '--format', 'config {{.Name}}')),
    ...lines(
      docker('network', 'ls', '--filter', f, '--filter', 'driver=overlay', '--format', 'network {{.Name}}'),
    ),
    ...lines(docker('ps', '-a', '--filter', f, '--format', 'container {{.Names}}')).filter((c) =>
      c.startsWith('container pp-'),
    ),
    ...lines(docker('volume', 'ls', '--filter', f, '--format', 'volume {{.Name}}')),
  ];
}

const swarm = oneNodeSwarm();

describe('burst --runtime swarm (one-node swarm)', { timeout: 900_000 }, () => {
  before(async () => {
    assertBuilt();
    await airgapImages();
    swarm.join();
  });
  after(() => swarm.leave());

  it('runs a burst as swarm services and reconciles emitted == delivered + lost on both paths', async () => {
    const out = join(base, 'out');
    const { r } = await runSmallBurst({ runtime: 'swarm', out, env: { TMPDIR: tmp }, timeoutMs: 420_000 });
    const node = r.environment.nodes?.[0];
    assert.ok(node && node.cores > 0 && node.memoryBytes > 0, JSON.stringify(r.environment.nodes));
    assert.ok(
      node.clockOffsetMs !== null && Math.abs(node.clockOffsetMs) < 50,
      `one host, one clock: ${node.clockOffsetMs} ms`,
    );
    assertReconciled(r, 20);
    assert.ok(
      r.paths.pull.delivered > 0 && r.paths.push.delivered > 0,
      'both paths delivered through the overlay',
    );
    assert.deepEqual(leftovers({ runId: r.runId }), [], 'nothing of the run left');
  });

  // #20: the swarm runtime once built the collector from the compose command alone, so --series-budget reached
  // only Prometheus: pull lost everything to sample_limit while push "held" with 44,237 series under a
  // recorded limit of 1,200. The budget now reaches the collector on swarm as on every runtime.
  it('--series-budget 1200 reaches the collector: push loses to collector-refused:max_series; self-check clean', async () => {
    const out = join(base, 'budget');
    const { r } = await runSmallBurst({
      runtime: 'swarm',
      out,
      more: ['--series-budget', '1200', '--duration', '15s'],
      env: { TMPDIR: tmp },
      timeoutMs: 300_000,
    });
    assert.deepEqual(r.selfCheck, [], 'the collector and Prometheus run the budget the lab asked for');
    assert.equal(r.budgets?.push.seriesLimit, 1200);
    assert.ok(
      (r.budgets?.push.seriesStored ?? 0) <= 1200,
      `push stored ${r.budgets?.push.seriesStored} series under a limit of 1200`,
    );
    const push = r.paths.push;
    assert.ok(push.lost > 0, 'the budget refused lines on push');
    const top = [...(push.causes ?? [])].sort((a, b) => b.orders - a.orders)[0];
    assert.equal(top?.cause, 'collector-refused:max_series', JSON.stringify(push.causes));
    assert.equal(
      (push.causes ?? []).reduce((a, c) => a + c.orders, 0),
      push.lost,
      'causes sum exactly',
    );
    assert.deepEqual(leftovers({ runId: r.runId }), [], 'nothing of the run left');
  });

  it('Ctrl-C during warm-up removes every service, network, config, container and volume (exit 130)', async () => {
    const { code, stderr, pid } = await interruptDuringWarmup({
      runtime: 'swarm',
      out: join(base, 'out-int'),
      env: { TMPDIR: tmp },
      warmupWithinMs: 240_000,
      killAfterMs: 90_000,
      running: (owner) =>
        assert.ok(
          leftovers({ owner }).filter((x) => x.startsWith('service')).length >= 6,
          'services were running',
        ),
    });
    assert.equal(code, 130, stderr);
    assert.deepEqual(leftovers({ owner: pid }), [], 'nothing of the run left');
  });

  it('up --pods 6 (4 + 2) → status → scale 9 (4 + 4 + 1) → down, each its own CLI; nothing left', async () => {
    const stateDir = join(base, 'state');
    const env = { TMPDIR: tmp };
    const cli = (...a: string[]) => runCliProcess([...a, '--state-dir', stateDir], env, 300_000);
    const up = await cli(
      'up',
      '--runtime',
      'swarm',
      '--pods',
      '6',
      '--pods-per-producer',
      '4',
      '--scrape-interval',
      '2s',
    );
    assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
    const upState = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8'));
    assert.equal(upState.stack.kind, 'swarm');
    // up, scale and down are separate processes (owners): the run id is what they share.
    const own = { runId: String(upState.stack.runId) };
    try {
      // status re-attaches from state.json alone; Prometheus finds every pod through the sd service.
      const targets = async (want: number) => {
        let last = '';
        for (const deadline = Date.now() + 90_000; Date.now() < deadline; ) {
          const st = await cli('status');
          if (st.code === 0 && st.stdout.includes(`${want}/${want} pod targets up`)) return st;
          last = `${st.code}: ${st.stdout}${st.stderr}`;
          await new Promise((r) => setTimeout(r, 2000));
        }
        throw new Error(`not ${want} pod targets up within 90 s; last status ${last}`);
      };
      const st = await targets(6);
      assert.match(st.stdout, /swarm runtime/);
      assert.match(st.stdout, /producers {6}2\/2 running, 6 pods/);
      const sc = await cli('scale', '9');
      assert.equal(sc.code, 0, `${sc.stdout}\n${sc.stderr}`);
      assert.match(sc.stdout, /scaled to 9 pods on 3 producers/);
      // producer-1 (2 pods) was replaced by one of 4 and producer-2 added: 9 targets, no stale ones of the old.
      const st9 = await targets(9);
      assert.match(st9.stdout, /3\/3 running, 9 pods/);
    } finally {
      const down = await cli('down');
      assert.equal(down.code, 0, `${down.stdout}\n${down.stderr}`);
    }
    assert.equal(existsSync(join(stateDir, 'state.json')), false, 'state file removed');
    assert.deepEqual(workDirs(tmp), [], 'work dir removed');
    assert.deepEqual(leftovers(own), [], 'nothing of the run left');
  });

  it('scenario target-dies: a SIGKILLed task is detected by both paths (trimmed scenario)', async () => {
    // The shipped scenario with one variant (its expectations kept): the fault, the alerts and the
    // accounting are the same; the second variant only re-runs them with heartbeats off.
    const dir = join(base, 'scenarios');
    mkdirSync(dir, { recursive: true });
    const yml = readFileSync(join(ROOT, 'lab/scenarios/target-dies.yml'), 'utf8')
      .replace(/^ {2}- \{ name: heartbeat-off.*\n/m, '')
      .replace(/^ {2}#.*\n {2}- \{ column: push-udp, variant: heartbeat-off.*\n/m, '');
    assert.ok(!/heartbeat-off/.test(yml), yml);
    writeFileSync(join(dir, 'target-dies.yml'), yml);
    const out = join(base, 'drill');
    const res = await runCliProcess(
      ['scenario', 'target-dies', '--runtime', 'swarm', '--scenarios', dir, '--out', out],
      { TMPDIR: tmp },
      420_000,
    );
    assert.equal(res.code, 0, `stdout:\n${res.stdout}\nstderr:\n${res.stderr}`);
    const r = JSON.parse(readFileSync(join(out, 'drill.json'), 'utf8')) as DrillRecord;
    const sc = r.scenarios[0]!;
    assert.equal(sc.runtime, 'swarm');
    assert.equal(sc.error, null);
    const pull = sc.cells.find((c) => c.column === 'pull')!;
    const push = sc.cells.find((c) => c.column === 'push-udp')!;
    assert.ok(pull.detectedAfterS !== null && pull.detectedAfterS <= 45, JSON.stringify(pull));
    assert.ok(push.detectedAfterS !== null && push.detectedAfterS <= 60, JSON.stringify(push));
    assert.ok(sc.expectations.length >= 2 && sc.expectations.every((e) => e.ok));
    assert.deepEqual(leftovers({ owner: res.pid }), [], 'nothing of the run left');
  });
});
