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
import { producerImage } from '../src/nodes/cli.ts';
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
    const up = await runCliProcess(['nodes', 'up', '2', '--dir', dir], {}, 180_000);
    assert.equal(up.code, 0, up.stderr);
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
    const { r } = await runSmallBurst({
      runtime: 'swarm',
      out: join(dir, 'burst'),
      more: ['--pods-per-producer', '5'], // 4 producers: one per worker is not a spread
      env: {},
      timeoutMs: 300_000,
    });
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
      if (n.role === 'observer') assert.equal(n.producers, 0, 'no producer on the observer node');
      else assert.ok((n.producers ?? 0) > 0, `producers spread over the workers: ${JSON.stringify(n)}`);
    }
    assert.equal(
      [...byId.values()].reduce((a, n) => a + (n.pods ?? 0), 0),
      20,
    );
    const again = await runCliProcess(['nodes', 'up', '1', '--dir', dir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /nodes from an earlier `nodes up` exist/);
    const down = await runCliProcess(['nodes', 'down', '--dir', dir], {}, 120_000);
    assert.equal(down.code, 0, down.stderr);
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
