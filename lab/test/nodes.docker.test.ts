// `nodes up N` / `nodes down` for real (root, a Docker engine): worker dockerds in network namespaces join
// the host's dockerd as a swarm; `down` — also after a `kill -9` of `up` half-way — leaves no daemon,
// namespace, veth, bridge, FORWARD rule, swarm or directory behind (each checked). Skipped (loudly) when the
// host is already in a swarm: the test leaves the host swarm as it found it and `up` refuses an active
// swarm it cannot use. Runs the built CLI (`npm run build` first).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { producerImage } from '../src/commands/nodes/cli.ts';
import type { RunRecord } from '../src/core/record.ts';
import type { NodesState } from '../src/nodes/state.ts';
import {
  alive,
  assertBuilt,
  assertReconciled,
  runCliProcess,
  runSmallBurst,
  startCli,
  waitFor,
} from './cli-helpers.ts';

const sh = (cmd: string, args: string[]) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return '';
  }
};
const swarmState = () => sh('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}']).trim();
const hostInSwarm = swarmState() !== 'inactive';
const notRoot = process.getuid?.() !== 0;
const skip = notRoot ? 'needs root' : hostInSwarm ? 'the host dockerd is already in a swarm' : false;

const netsBefore = sh('docker', ['network', 'ls', '--format', '{{.Name}}']);
const dir = mkdtempSync(join(tmpdir(), 'pushpull-nodes-e2e-'));
const statePath = join(dir, 'nodes.json');
after(async () => {
  // Whatever a failed assertion left: the lab's own down, then the directory.
  if (existsSync(statePath)) await runCliProcess(['nodes', 'down', '--dir', dir], {}, 120_000);
  rmSync(dir, { recursive: true, force: true });
});

const SKEW_MS = 250;

/**
 * run.open of a burst whose producers on node `skewed` ran SKEW_MS ahead: their offset measured (±25 ms),
 * the others' about 0; compensated → told T0 + offset, spread < 50 ms, no warning; not → spread about
 * SKEW_MS and the warning. Labelled TEST ONLY in the notes.
 */
function assertOpen(r: RunRecord, skewed: string, compensated: boolean): void {
  const open = r.open;
  assert.ok(open, 'run.open recorded');
  assert.equal(open.compensation, compensated);
  const mine = open.producers.filter((p) => p.node === skewed);
  const others = open.producers.filter((p) => p.node !== skewed);
  assert.ok(mine.length > 0 && others.length > 0, JSON.stringify(open.producers));
  for (const p of mine) {
    assert.equal(p.testClockSkewMs, SKEW_MS);
    // Within the measurement's own error bound (half the best round trip through the proxy: tens of ms
    // on a loaded machine) plus the 10 ms tick.
    const bound = (p.errorMs ?? 0) + 10;
    assert.ok(Math.abs((p.clockOffsetMs ?? 0) - SKEW_MS) <= bound, `measured: ${JSON.stringify(p)}`);
    const told = p.startAtMs - open.scheduledAtMs;
    assert.ok(compensated ? Math.abs(told - SKEW_MS) <= bound : told === 0, `told: ${JSON.stringify(p)}`);
  }
  for (const p of others)
    assert.ok(Math.abs(p.clockOffsetMs ?? 999) <= (p.errorMs ?? 0) + 10, JSON.stringify(p));
  // The spread's own uncertainty: the worst before- and after-open error bounds.
  const slack = Math.max(...open.producers.map((p) => (p.errorMs ?? 0) + (p.errorAfterMs ?? 0)));
  assert.ok(open.spreadMs !== null && open.clockSpreadMs !== null, 'spread measured');
  const shown = `spread ${open.spreadMs} ms, clocks' part ${open.clockSpreadMs} ms, late ≤ ${open.maxLateMs} ms`;
  if (compensated) {
    // The clocks' part is the compensation's; a busy shared machine may still open a producer late (warned
    // as such, never as clocks).
    assert.ok(open.clockSpreadMs < Math.max(50, slack), `${shown}, slack ${slack} ms`);
    if (open.clockSpreadMs <= 50 && open.spreadMs > 50)
      assert.match(open.warning ?? '', /the clocks agree/, shown);
    if (open.spreadMs <= 50) assert.equal(open.warning, null, shown);
  } else {
    assert.ok(Math.abs(open.clockSpreadMs - SKEW_MS) <= Math.max(50, slack), `${shown}, slack ${slack} ms`);
    assert.ok(open.spreadMs > 50, shown);
    assert.match(open.warning ?? '', /clock compensation is off/, shown);
  }
  console.log(`open (${compensated ? 'compensated' : 'not compensated'}): ${shown}, slack ${slack} ms`);
  assert.ok(
    r.environment.notes.some((n) => /^TEST ONLY: \d+ producer\(s\) ran with an injected clock skew/.test(n)),
  );
}

/** Every kind of leftover `down` must remove, one sentence each (empty = nothing left). */
function leftovers(state: NodesState): string[] {
  const out: string[] = [];
  const { plan } = state;
  for (const pid of Object.values(state.pids)) if (alive(pid)) out.push(`dockerd pid ${pid} alive`);
  const ps = sh('ps', ['-eo', 'pid,args']);
  for (const w of plan.workers) if (ps.includes(w.execRoot)) out.push(`a process names ${w.execRoot}`);
  const netns = sh('ip', ['netns', 'list']);
  for (const w of plan.workers) {
    if (netns.includes(w.netns)) out.push(`namespace ${w.netns}`);
    if (sh('ip', ['link', 'show', w.vethHost])) out.push(`veth ${w.vethHost}`);
    if (existsSync(w.dataRoot) || existsSync(w.execRoot)) out.push(`directories of ${w.netns}`);
  }
  if (sh('ip', ['link', 'show', plan.bridge])) out.push(`bridge ${plan.bridge}`);
  if (sh('iptables', ['-S', 'FORWARD']).includes('pushpull-lab-nodes')) out.push('the FORWARD rule');
  if (swarmState() !== 'inactive') out.push(`the host swarm (${swarmState()})`);
  if (sh('docker', ['service', 'ls', '-q']).trim()) out.push('a service');
  const nets = sh('docker', ['network', 'ls', '--format', '{{.Name}}']);
  for (const n of ['docker_gwbridge', 'ingress'])
    if (!netsBefore.includes(n) && nets.includes(n)) out.push(`network ${n}`);
  // The lab's swarm networks are overlays (other engineers' docker-runtime runs make bridge networks).
  const overlays = ['network', 'ls', '-q', '--filter', 'label=pushpull.lab', '--filter', 'driver=overlay'];
  if (sh('docker', overlays).trim()) out.push('a lab overlay network');
  if (/\bpushpull-lab\/nodes\b/.test(readFileSync('/proc/self/mountinfo', 'utf8'))) out.push('a mount');
  if (existsSync(statePath)) out.push('the state file');
  return out;
}

describe('nodes up/down on this machine', { skip, timeout: 600_000 }, () => {
  it('refuses a subnet inside Docker’s pools before touching anything', async () => {
    assertBuilt();
    const r = await runCliProcess(['nodes', 'up', '1', '--dir', dir, '--subnet', '172.20.0.0/24']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /--subnet 172.20.0.0\/24 clashes: Docker's address pool or network 172.16.0.0\/12/,
    );
    assert.equal(existsSync(statePath), false);
    assert.equal(sh('ip', ['link', 'show', 'pplbr0']), '');
  });

  it('up 2: a 3-node swarm, workers labelled producer with the producer image loaded; a 20-pod burst across the nodes reconciles; down removes each piece', async () => {
    const began = Date.now();
    const step = (what: string) => console.log(`+${((Date.now() - began) / 1000).toFixed(1)} s ${what}`);
    const up = await runCliProcess(['nodes', 'up', '2', '--dir', dir], {}, 180_000);
    assert.equal(up.code, 0, up.stderr);
    step('nodes up 2');
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as NodesState;
    const nodes = sh('docker', ['node', 'ls', '--format', '{{.ID}} {{.Status}}']).trim().split('\n');
    assert.equal(nodes.length, 3, nodes.join('; '));
    assert.ok(
      nodes.every((n) => n.endsWith(' Ready')),
      nodes.join('; '),
    );
    for (const w of state.plan.workers) {
      const id = state.nodeIds[String(w.index)]!;
      const info = sh('docker', [
        'node',
        'inspect',
        id,
        '--format',
        '{{index .Spec.Labels "pushpull.role"}} {{.Status.Addr}}',
      ]);
      assert.equal(info.trim(), `producer ${w.address}`);
      assert.match(
        sh('docker', ['-H', `unix://${w.socket}`, 'images', '-q', producerImage(process.env)]),
        /\w/,
      );
    }
    assert.match(sh('docker', ['info', '--format', '{{.Swarm.NodeAddr}}']), /^198\.18\.231\.1\s*$/);
    // A 20-pod burst across the nodes: observers on the host, producers only on the workers; reconciled.
    // The first worker's producers run with their clock 250 ms ahead (TEST ONLY skew): measured and
    // compensated, the opens stay within 50 ms.
    const skewed = state.nodeIds['1']!;
    const { r } = await runSmallBurst({
      runtime: 'swarm',
      out: join(dir, 'burst'),
      more: ['--pods-per-producer', '5', '--test-clock-skew', `${skewed.slice(0, 12)}:${SKEW_MS}`],
      env: {},
      timeoutMs: 300_000,
    });
    step('20-pod burst');
    assertOpen(r, skewed, true);
    assertReconciled(r, 20);
    assert.ok(r.paths.pull.delivered > 0 && r.paths.push.delivered > 0, 'both paths crossed the overlay');
    const byId = new Map((r.environment.nodes ?? []).map((n) => [n.id, n]));
    assert.equal(byId.size, 3, JSON.stringify(r.environment.nodes));
    for (const n of byId.values()) {
      assert.ok(
        n.clockOffsetMs !== null && Math.abs(n.clockOffsetMs) < 50,
        `one kernel clock: ${JSON.stringify(n)}`,
      );
      assert.equal(n.role, n.id === state.observerLabelled ? 'observer' : 'producer');
      if (n.role === 'observer') {
        assert.equal(n.producers, 0, 'no producer on the observer node');
        // The observers (one Prometheus per path's store by default: prometheus and prometheus-push).
        const tasks = new Set(n.tasks ?? []);
        for (const t of ['collector', 'prometheus', 'pushgateway', 'sd'])
          assert.ok(tasks.has(t), `${t} listed`);
        assert.ok(
          [...tasks].every((t) => /^(collector|pushgateway|sd|prometheus(-push)?)$/.test(t)),
          [...tasks].join(),
        );
        assert.ok(
          (n.images ?? []).some((i) => i.includes('prometheus')),
          JSON.stringify(n.images),
        );
      } else {
        assert.ok((n.producers ?? 0) > 0, `producers spread over the workers: ${JSON.stringify(n)}`);
        assert.equal(n.tasks?.length, n.producers, JSON.stringify(n.tasks));
        assert.ok(
          n.tasks?.every((t) => /^producer-\d+$/.test(t)),
          JSON.stringify(n.tasks),
        );
        assert.deepEqual(n.images, [producerImage(process.env)]);
      }
      assert.ok(n.budget && 'cpus' in n.budget, `budget listed: ${JSON.stringify(n)}`);
    }
    assert.equal(
      [...byId.values()].reduce((a, n) => a + (n.pods ?? 0), 0),
      20,
    );
    // The same skew with compensation off: the skewed node opens 250 ms early and the lab warns.
    const off = await runCliProcess(
      [
        'burst',
        '--runtime',
        'swarm',
        '--pods',
        '4',
        '--pods-per-producer',
        '2', // 2 producers: one per worker, one of them skewed
        '--duration',
        '10s',
        '--scrape-interval',
        '2s',
        '--clock-compensation',
        'off',
        '--test-clock-skew',
        `${skewed}:${SKEW_MS}`,
        '--out',
        join(dir, 'off'),
      ],
      {},
      180_000,
    );
    assert.equal(off.code, 0, off.stderr);
    step('4-pod burst, compensation off');
    assertOpen(JSON.parse(readFileSync(join(dir, 'off', 'run.json'), 'utf8')) as RunRecord, skewed, false);
    assert.match(off.stdout + off.stderr, /warning: the open spread over \d+(\.\d)? ms across producers/);
    const again = await runCliProcess(['nodes', 'up', '1', '--dir', dir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /nodes from an earlier `nodes up` exist/);
    const down = await runCliProcess(['nodes', 'down', '--dir', dir], {}, 120_000);
    assert.equal(down.code, 0, down.stderr);
    step('nodes down');
    assert.deepEqual(leftovers(state), []);
    const twice = await runCliProcess(['nodes', 'down', '--dir', dir]);
    assert.equal(twice.code, 0);
    assert.match(twice.stdout, /nothing to remove/);
  });

  it('down after a kill -9 of `up` half-way leaves nothing behind', async () => {
    const up = startCli(['nodes', 'up', '2', '--dir', dir]);
    // Killed once the second daemon has started (its pid is recorded) but before the swarm is joined.
    await waitFor(
      'the second dockerd recorded',
      () => existsSync(statePath) && (JSON.parse(readFileSync(statePath, 'utf8')) as NodesState).pids['2'],
      90_000,
    );
    up.child.kill('SIGKILL');
    await up.exited;
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as NodesState;
    assert.ok(alive(state.pids['1']!), 'the first dockerd outlived the killed lab (detached)');
    const down = await runCliProcess(['nodes', 'down', '--dir', dir], {}, 120_000);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(leftovers(state), []);
  });
});
