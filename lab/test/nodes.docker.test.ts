// `nodes up N` / `nodes down` for real (root, a Docker engine), lean (#26: within CI's 3 minutes): one
// `up 2` serves everything — a 20-pod burst across the worker nodes that reconciles, with a 250 ms TEST ONLY
// clock skew on one worker measured and compensated; a short node-partition drill detected by pull; the same
// skew uncompensated, warned, and that lab killed -9 mid-run with its stack deployed; then `down` leaves no
// daemon, namespace, veth, bridge, FORWARD rule, swarm, service, network, container of the killed lab,
// mount or directory behind (each checked). Skipped (loudly) when the host is already in a swarm: the test
// leaves the host swarm as it found it and `up` refuses an active swarm it cannot use. Runs the built CLI
// (`npm run build` first).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { producerImage } from '../src/commands/nodes/cli.ts';
import type { RunRecord } from '../src/core/record.ts';
import type { DrillRecord } from '../src/drill/grid.ts';
import type { NodesState } from '../src/nodes/state.ts';
import {
  alive,
  assertBuilt,
  assertReconciled,
  ROOT,
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
function leftovers(state: NodesState, killedLab = 0): string[] {
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
  // The killed lab's own containers (the swarm proxy is a plain container on the host's engine).
  if (killedLab && sh('docker', ['ps', '-aq', '--filter', `label=pushpull.lab.owner=${killedLab}`]).trim())
    out.push(`a container of the killed lab (pid ${killedLab})`);
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

  it('up 2: a 3-node swarm; a 20-pod burst across the nodes reconciles with a test skew measured and compensated; a node-partition drill detected by pull; the uncompensated burst warns, is killed -9 mid-run, and down removes each piece', async () => {
    const began = Date.now();
    const step = (what: string) => console.log(`+${((Date.now() - began) / 1000).toFixed(1)} s ${what}`);
    const up = await runCliProcess(['nodes', 'up', '2', '--dir', dir], {}, 180_000);
    assert.equal(up.code, 0, up.stderr);
    step('nodes up 2');
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as NodesState;
    assertSwarm(state);
    // A 20-pod burst across the nodes: observers on the host, producers only on the workers; reconciled.
    // The first worker's producers run with their clock 250 ms ahead (TEST ONLY skew): measured and
    // compensated, the opens stay within 50 ms.
    const skewed = state.nodeIds['1']!;
    // 30 s (the helper's): at 12 s a loaded machine's generator emitted 6,181 orders, under the 10,000 a
    // reconciled burst must show (2026-12-08 00:45 UTC).
    const { r } = await runSmallBurst({
      runtime: 'swarm',
      out: join(dir, 'burst'),
      more: ['--pods-per-producer', '5', '--test-clock-skew', `${skewed.slice(0, 12)}:${SKEW_MS}`],
      env: {},
      timeoutMs: 300_000,
    });
    step('20-pod burst');
    assert.equal(r.error, null);
    assertOpen(r, skewed, true);
    assertReconciled(r, 20);
    assert.ok(r.paths.pull.delivered > 0 && r.paths.push.delivered > 0, 'both paths crossed the overlay');
    assertNodes(r, state);
    await nodePartitionDrill();
    step('node-partition drill');
    // The same skew with compensation off: the skewed node opens 250 ms early and the lab warns, naming the
    // measured offsets — then the lab is killed -9 mid-run, its stack still deployed.
    const off = startCli([
      ...['burst', '--runtime', 'swarm', '--pods', '4', '--pods-per-producer', '2'], // one producer per worker
      ...['--duration', '30s', '--scrape-interval', '2s', '--clock-compensation', 'off'],
      ...['--test-clock-skew', `${skewed}:${SKEW_MS}`, '--out', join(dir, 'off')],
    ]);
    const warning = await waitFor(
      'the open warning',
      () =>
        /warning: the open spread over [\d.]+ ms across producers[^\n]*/.exec(
          off.stdout() + off.stderr(),
        )?.[0],
      180_000,
      200,
    );
    const services = sh('docker', ['service', 'ls', '-q', '--filter', 'label=pushpull.lab']).trim();
    off.child.kill('SIGKILL');
    await off.exited;
    step('4-pod burst, compensation off, killed -9');
    assert.ok(services.length > 0, 'the killed run had services deployed');
    const m =
      /clock offsets ([+-]?\d+(?:\.\d+)?|unmeasured) and ([+-]?\d+(?:\.\d+)?|unmeasured) ms\); the clocks' part is (\d+(?:\.\d+)?) ms and clock compensation is off/.exec(
        warning,
      );
    assert.ok(m, warning);
    // The skewed node's offset is measured (one of the two ends; the shared machine's error bound: ±100 ms).
    assert.ok(
      [m[1], m[2]].some((x) => Math.abs(Number(x) - SKEW_MS) <= 100),
      warning,
    );
    assert.ok(Math.abs(Number(m[3]) - SKEW_MS) <= 100, warning);
    const again = await runCliProcess(['nodes', 'up', '1', '--dir', dir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /nodes from an earlier `nodes up` exist/);
    const down = await runCliProcess(['nodes', 'down', '--dir', dir], {}, 120_000);
    assert.equal(down.code, 0, down.stderr);
    step('nodes down');
    assert.deepEqual(leftovers(state, off.child.pid ?? 0), []);
    const twice = await runCliProcess(['nodes', 'down', '--dir', dir]);
    assert.equal(twice.code, 0);
    assert.match(twice.stdout, /nothing to remove/);
  });
});

/** Three nodes, ready; workers labelled producer at their address with the producer image; the manager on the bridge. */
function assertSwarm(state: NodesState): void {
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
}

/** environment.nodes: each node's tasks, images, budget and clock offset; observers on the host only. */
function assertNodes(r: RunRecord, state: NodesState): void {
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
}

/**
 * A short node-partition (the shipped scenario's shape, shorter windows): the node of producer 0 cut off for
 * 14 s. Pull detects it (`up == 0` for every target of the node) within 10 s; the datagrams its pods sent into
 * the cut are lost; what swarm did (restart policy any) is recorded, the manager marking the node down or not.
 */
async function nodePartitionDrill(): Promise<void> {
  const scenarios = join(dir, 'scenarios');
  mkdirSync(scenarios, { recursive: true });
  writeFileSync(
    join(scenarios, 'node-partition.yml'),
    readFileSync(join(ROOT, 'lab', 'scenarios', 'node-partition.yml'), 'utf8')
      .replace(/^fleet: .*$/m, 'fleet: { pods: 4, podsPerProducer: 2 }')
      .replace(/^warmup: .*$/m, 'warmup: 2s')
      .replace(/^observe: .*$/m, 'observe: 16s')
      .replace(/at: 40s, action: heal/, 'at: 14s, action: heal')
      .replace(/detectedWithin: 20s/, 'detectedWithin: 10s'),
  );
  const out = join(dir, 'drill');
  const res = await runCliProcess(
    [
      'scenario',
      'node-partition',
      '--runtime',
      'swarm',
      '--scenarios',
      scenarios,
      '--nodes-dir',
      dir,
      '--out',
      out,
    ],
    {},
    180_000,
  );
  const rec = JSON.parse(readFileSync(join(out, 'drill.json'), 'utf8')) as DrillRecord;
  const sc = rec.scenarios[0]!;
  assert.equal(sc.error, null, `${res.stdout}\n${res.stderr}`);
  const pull = sc.cells.find((c) => c.column === 'pull')!;
  const push = sc.cells.find((c) => c.column === 'push-udp')!;
  console.log(`node-partition: pull ${pull.signal} | push ${push.signal} | ${sc.notes.join(' | ')}`);
  assert.ok(pull.detectedAfterS !== null && pull.detectedAfterS <= 10, pull.signal);
  assert.match(pull.signal, /^up == 0 after/);
  assert.ok((push.lostCount ?? 0) > 0, `datagrams sent into the cut are lost: ${push.detail}`);
  assert.ok(sc.metrics.victimProducers! >= 1 && sc.metrics.victimPods! >= 2, JSON.stringify(sc.metrics));
  assert.match(
    pull.detail,
    /swarm \(restart policy any\): the manager (marked the node down after|still saw the node ready)/,
  );
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  // The link is back: every node ready again (bounded).
  await waitFor(
    'the partitioned node ready again',
    () =>
      sh('docker', ['node', 'ls', '--format', '{{.Status}}'])
        .trim()
        .split('\n')
        .every((x) => x === 'Ready'),
    30_000,
    500,
  );
}
