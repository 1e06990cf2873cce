// The swarm runtime's pure parts against the Engine API's real response shapes (captured from this
// machine's Docker Engine 20.10 / API 1.41 as a one-node swarm: fixtures/swarm/*.json), and multi-node
// swarms built from the same shapes — a multi-node swarm is not available here.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import { parse } from 'yaml';
import { type RuntimeCandidate, selectRuntime } from '../src/runtime/select.ts';
import { pickSubnet, taskAddress } from '../src/runtime/swarm/engine.ts';
import { isLeftover, LAB_LABEL, OWNER_LABEL } from '../src/runtime/swarm/labels.ts';
import {
  type ApiInfo,
  type ApiNode,
  clockOffsets,
  environmentNodes,
  parseNodes,
  placedOn,
  requireManager,
} from '../src/runtime/swarm/nodes.ts';
import { nodeNeeds, place } from '../src/runtime/swarm/placement.ts';
import { formatPlan } from '../src/runtime/swarm/plan.ts';
import { clockSamples, imageGaps } from '../src/runtime/swarm/preflight.ts';
import { PROXY_SCRIPT } from '../src/runtime/swarm/scripts.ts';
import {
  composeServices,
  observerSpecs,
  producerSpec,
  swarmPrometheusConfig,
} from '../src/runtime/swarm/specs.ts';
import type { ApiTask } from '../src/runtime/swarm/tasks.ts';
import type { RuntimeFactory } from '../src/runtime/types.ts';

const root = join(import.meta.dirname, '..', '..');
const fx = (f: string) => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/swarm', f), 'utf8'));
const realNodes = fx('nodes.json') as ApiNode[];
const realInfo = fx('info.json') as ApiInfo;
const realTasks = fx('tasks.json') as ApiTask[];

/** A node like the real one, renamed and resized (the shape is the engine's). */
function nodeLike(id: string, name: string, cores: number, gib: number, role?: string): ApiNode {
  const n = structuredClone(realNodes[0]!);
  n.ID = id;
  n.Description!.Hostname = name;
  n.Description!.Resources = { NanoCPUs: cores * 1e9, MemoryBytes: gib * 2 ** 30 };
  n.Spec = { ...n.Spec, Role: 'worker', Labels: role ? { 'pushpull.role': role } : {} };
  delete n.ManagerStatus;
  return n;
}

describe('swarm nodes (GET /nodes, GET /info)', () => {
  it('reads the real one-node swarm: name, cores, memory, usable manager', () => {
    const [n] = parseNodes(realNodes);
    assert.deepEqual(n, {
      id: 'ioioroe0u1cbw7oatesk87ma5',
      name: 'vm',
      role: 'manager',
      usable: true,
      cores: 2,
      memoryBytes: 25275953152,
      labRole: null,
    });
    assert.deepEqual(requireManager(realInfo), { nodeId: 'ioioroe0u1cbw7oatesk87ma5' });
  });
  it('refuses an engine outside a swarm and a worker, with LAB_ERR_SWARM', () => {
    assert.throws(
      () => requireManager({ ...realInfo, Swarm: { LocalNodeState: 'inactive' } }),
      (e) => isLabError(e, 'LAB_ERR_SWARM') && /swarm init --advertise-addr 127.0.0.1/.test(e.message),
    );
    assert.throws(
      () => requireManager({ ...realInfo, Swarm: { ...realInfo.Swarm, ControlAvailable: false } }),
      (e) => isLabError(e, 'LAB_ERR_SWARM') && /worker/.test(e.message),
    );
  });
  it('a drained or down node is not usable', () => {
    const d = nodeLike('d1', 'drained', 4, 8);
    d.Spec!.Availability = 'drain';
    const x = nodeLike('x1', 'down', 4, 8);
    x.Status = { State: 'down' };
    assert.deepEqual(
      parseNodes([d, x]).map((n) => [n.name, n.usable]),
      [
        ['down', false],
        ['drained', false],
      ],
    );
  });
});

describe('clock offsets from the manager', () => {
  it('takes the exchange with the smallest round trip, node − manager', () => {
    const m = clockOffsets([
      { node: 'a', sentMs: 1000, receivedMs: 1040, managerMs: 900 }, // rtt 40: offset +120
      { node: 'a', sentMs: 2000, receivedMs: 2004, managerMs: 1922 }, // rtt 4: offset +80
      { node: 'b', sentMs: 5000, receivedMs: 5002, managerMs: 5001 },
    ]);
    assert.deepEqual(m.get('a'), { offsetMs: 80, rttMs: 4 });
    assert.deepEqual(m.get('b'), { offsetMs: 0, rttMs: 2 });
  });
  it('records each node and warns above 50 ms (and when a node was not measured)', () => {
    const nodes = parseNodes([
      nodeLike('a1', 'a', 8, 32),
      nodeLike('b1', 'b', 8, 32),
      nodeLike('c1', 'c', 8, 32),
    ]);
    const env = environmentNodes(
      nodes,
      new Map([
        ['a', { offsetMs: 12.34, rttMs: 1 }],
        ['b', { offsetMs: -73, rttMs: 2 }],
      ]),
    );
    assert.deepEqual(
      env.nodes.map((n) => [n.name, n.id, n.clockOffsetMs]),
      [
        ['a', 'a1', 12.3],
        ['b', 'b1', -73],
        ['c', 'c1', null],
      ],
    );
    assert.equal(env.warnings.length, 2);
    assert.match(env.warnings[0]!, /node b: clock -73 ms off/);
    assert.match(env.warnings[1]!, /node c: clock offset not measured/);
  });
  it('tells nodes with the same hostname apart by id (nodes made on one machine), and counts what is placed on each', () => {
    const nodes = parseNodes([
      nodeLike('m1', 'vm', 2, 24),
      nodeLike('w1', 'vm', 2, 24),
      nodeLike('w2', 'vm', 2, 24),
    ]);
    const env = environmentNodes(
      nodes,
      new Map([
        ['m1', { offsetMs: 0.4, rttMs: 1 }],
        ['w1', { offsetMs: 80, rttMs: 1 }],
        ['vm', { offsetMs: 999, rttMs: 1 }], // a hostname key is ambiguous here: never used
      ]),
    );
    assert.deepEqual(
      env.nodes.map((n) => [n.id, n.clockOffsetMs]),
      [
        ['m1', 0.4],
        ['w1', 80],
        ['w2', null],
      ],
    );
    assert.deepEqual(
      env.warnings.map((w) => w.split(':')[0]),
      ['node vm (w1)', 'node vm (w2)'],
    );
    const member = (n: number) => ({ name: `pr${n}`, podIds: Array.from({ length: n }, (_, i) => `p${i}`) });
    const placed = placedOn(env.nodes, [
      { nodeId: 'w1', member: member(5) },
      { nodeId: 'w1', member: member(3) },
      { nodeId: 'w2', member: member(5) },
    ]);
    assert.deepEqual(
      placed.map((n) => [n.id, n.producers, n.pods]),
      [
        ['m1', 0, 0],
        ['w1', 2, 8],
        ['w2', 1, 5],
      ],
    );
  });
  it('reads the clock probe lines out of framed service logs', () => {
    const line = (o: object) =>
      Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 60]), Buffer.from(`${JSON.stringify(o)}\n`)]);
    const raw = Buffer.concat([
      line({ clock: 1, node: 'a', sentMs: 1, receivedMs: 3, managerMs: 2 }),
      line({ other: true }),
      line({ clock: 1, node: 'b', sentMs: 'x' }),
    ]).toString('latin1');
    assert.deepEqual(clockSamples(raw), [{ clock: 1, node: 'a', sentMs: 1, receivedMs: 3, managerMs: 2 }]);
  });
});

describe('images per node (preflight probe tasks, GET /tasks)', () => {
  const [n] = parseNodes(realNodes);
  it('a task rejected with "No such image" names the node and the image (real task shape)', () => {
    const rejected = realTasks.filter((t) => t.Status?.Err);
    assert.deepEqual(
      imageGaps({ image: 'pushpull/nope:0', nodes: [n!], constraints: [], clock: false }, rejected),
      [{ node: 'vm', image: 'pushpull/nope:0', why: 'No such image: pushpull/nope:0' }],
    );
    const ran = realTasks.filter((t) => !t.Status?.Err);
    assert.deepEqual(
      imageGaps({ image: 'pushpull/producer:0.1.0', nodes: [n!], constraints: [], clock: false }, ran),
      [],
    );
  });
  it('on a multi-node swarm only the node without the image is named; a node with no task too', () => {
    const nodes = parseNodes([
      nodeLike('a1', 'a', 8, 32),
      nodeLike('b1', 'b', 8, 32),
      nodeLike('c1', 'c', 8, 32),
    ]);
    const ok = structuredClone(realTasks.find((t) => !t.Status?.Err)!);
    const bad = structuredClone(realTasks.find((t) => t.Status?.Err)!);
    const tasks = [
      { ...ok, NodeID: 'a1' },
      { ...bad, NodeID: 'b1' },
    ];
    const gaps = imageGaps({ image: 'img:1', nodes, constraints: [], clock: false }, tasks);
    assert.deepEqual(
      gaps.map((g) => [g.node, g.why]),
      [
        ['b', 'No such image: pushpull/nope:0'],
        ['c', 'no task was scheduled there'],
      ],
    );
  });
});

describe('placement', () => {
  it('one node: everything on it, no constraints', () => {
    const p = place({ nodes: parseNodes(realNodes), podsPerProducer: [50, 50, 20] });
    assert.deepEqual(p.observerConstraints, []);
    assert.deepEqual(new Set(p.producers.map((s) => s.node)), new Set(['vm']));
  });
  it('several nodes: observers on the labelled node only, producers spread by cores off it', () => {
    const nodes = parseNodes([
      nodeLike('o1', 'obs', 16, 64, 'observer'),
      nodeLike('p1', 'big', 16, 32),
      nodeLike('p2', 'small', 8, 32),
    ]);
    const p = place({ nodes, podsPerProducer: Array(28).fill(50) });
    assert.deepEqual(p.observerConstraints, ['node.labels.pushpull.role==observer']);
    assert.deepEqual(
      p.observerNodes.map((n) => n.name),
      ['obs'],
    );
    assert.ok(
      p.producers.every((s) => s.node !== 'obs'),
      'no producer on the observer node',
    );
    const pods = (n: string) => p.producers.filter((s) => s.node === n).reduce((a, s) => a + s.pods, 0);
    assert.equal(pods('big') + pods('small'), 1400);
    assert.ok(
      Math.abs(pods('big') - 2 * pods('small')) <= 50,
      `spread by cores: ${pods('big')} vs ${pods('small')}`,
    );
    const needs = nodeNeeds(p, { producer: 'prod:1', observer: ['prom:1', 'prod:1'] }, 1400);
    assert.deepEqual(needs.find((n) => n.node === 'obs')?.images, ['prom:1', 'prod:1']);
    assert.deepEqual(needs.find((n) => n.node === 'big')?.images, ['prod:1']);
  });
  it('several nodes without an observer label (or only observers): LAB_ERR_SWARM saying how to label', () => {
    assert.throws(
      () =>
        place({
          nodes: parseNodes([nodeLike('a1', 'a', 4, 8), nodeLike('b1', 'b', 4, 8)]),
          podsPerProducer: [1],
        }),
      (e) =>
        isLabError(e, 'LAB_ERR_SWARM') &&
        /docker node update --label-add pushpull.role=observer/.test(e.message),
    );
    assert.throws(
      () =>
        place({
          nodes: parseNodes([nodeLike('a1', 'a', 4, 8, 'observer'), nodeLike('b1', 'b', 4, 8, 'observer')]),
          podsPerProducer: [1],
        }),
      (e) => isLabError(e, 'LAB_ERR_SWARM'),
    );
  });
  it('swarm-plan prints each node with its producers, pods and images', () => {
    const nodes = parseNodes([
      nodeLike('o1', 'obs', 16, 64, 'observer'),
      nodeLike('p1', 'w1', 8, 32),
      nodeLike('p2', 'w2', 8, 32),
    ]);
    const text = formatPlan(nodes, 1400, 50, { producer: 'prod:1', observer: ['prom:1'] });
    assert.match(text, /1400 pods in 28 producers/);
    assert.match(text, /^w1\s+producers\s+8\s+32\.0 GiB\s+14\s+700\s/m);
    assert.match(text, /^obs\s+observer\s+16\s+64\.0 GiB\s+0\s+0\s+14\.8 GiB\s+prom:1/m);
  });
});

describe('service specs', () => {
  const ctx = {
    runId: '20261201T000000Z-abcd',
    networkId: 'net1',
    compose: composeServices(root),
    observerConstraints: ['c==1'],
  };
  it('every service: dnsrr, restart none, the run labels, an alias on the run network, the constraints', () => {
    const specs = [
      ...observerSpecs(ctx, [], { withNodeExporter: false }),
      producerSpec(ctx, 'producer-3', ['serve'], ['node.id==x']),
    ];
    assert.deepEqual(
      specs.map((s) => s.Name),
      [
        'pp-20261201t000000z-abcd-collector',
        'pp-20261201t000000z-abcd-pushgateway',
        'pp-20261201t000000z-abcd-sd',
        'pp-20261201t000000z-abcd-prometheus',
        'pp-20261201t000000z-abcd-producer-3',
      ],
    );
    for (const s of specs) {
      assert.equal(s.EndpointSpec?.Mode, 'dnsrr');
      assert.equal(s.Labels?.[LAB_LABEL], ctx.runId);
      assert.equal(s.Labels?.[OWNER_LABEL], String(process.pid));
      const t = s.TaskTemplate as { RestartPolicy: { Condition: string }; Networks: { Target: string }[] };
      assert.equal(t.RestartPolicy.Condition, 'none');
      assert.equal(t.Networks[0]!.Target, 'net1');
      assert.equal(s.EndpointSpec?.Ports, undefined, 'swarm publishes nothing');
    }
    assert.deepEqual(
      (specs[4]!.TaskTemplate as { Placement: { Constraints: string[] } }).Placement.Constraints,
      ['node.id==x'],
    );
  });
  it('Prometheus discovers the producers over http_sd from the sd service; no node-exporter target', () => {
    const doc = parse(
      swarmPrometheusConfig(readFileSync(join(root, 'prometheus/prometheus.yml'), 'utf8'), {
        scrapeIntervalMs: 2000,
      }),
    ) as { scrape_configs: Record<string, unknown>[] };
    const job = (n: string) => doc.scrape_configs.find((j) => j.job_name === n)!;
    assert.deepEqual(job('producers').http_sd_configs, [
      { url: 'http://sd:8080/targets', refresh_interval: '5s' },
    ]);
    assert.equal(job('producers').file_sd_configs, undefined);
    assert.deepEqual(job('node-exporter').static_configs, [{ targets: [] }]);
    assert.deepEqual(job('collector').static_configs, [{ targets: ['collector:9102'] }]);
  });
});

describe('run labels, leftovers, subnets', () => {
  it('a run is a leftover only when its owner (on this host) is gone and it is not kept', () => {
    const l = (owner: string, host?: string) => ({
      [LAB_LABEL]: 'r1',
      [OWNER_LABEL]: owner,
      ...(host ? { 'pushpull.lab.host': host } : {}),
    });
    const dead = () => false;
    const alive = () => true;
    assert.equal(isLeftover(l('123', 'me'), [], dead, 'me'), true);
    assert.equal(isLeftover(l('123', 'me'), [], alive, 'me'), false);
    assert.equal(isLeftover(l('123', 'me'), ['r1'], dead, 'me'), false);
    assert.equal(isLeftover(l('123', 'other'), [], dead, 'me'), false, 'another host owns it');
    assert.equal(isLeftover({ [LAB_LABEL]: 'r1' }, [], alive, 'me'), true, 'no owner at all');
  });
  it('the run network takes the first free /24 of the pool; a bad pool or a full one is an error', () => {
    assert.equal(pickSubnet('10.231.0.0/16', ['10.231.0.0/24', '172.17.0.0/16']), '10.231.1.0/24');
    assert.throws(
      () => pickSubnet('10.231.0.0/8', []),
      (e) => isLabError(e, 'LAB_ERR_CONFIG'),
    );
    const all = Array.from({ length: 256 }, (_, c) => `10.9.${c}.0/24`);
    assert.throws(
      () => pickSubnet('10.9.0.0/16', all),
      (e) => isLabError(e, 'LAB_ERR_SWARM'),
    );
    assert.equal(
      taskAddress(
        {
          NetworksAttachments: [
            { Network: { ID: 'x' }, Addresses: ['10.0.0.2/24'] },
            { Network: { ID: 'n' }, Addresses: ['10.231.0.5/24'] },
          ],
        },
        'n',
      ),
      '10.231.0.5',
    );
  });
  it('auto never picks swarm; --runtime swarm does', async () => {
    const fake = (kind: 'docker' | 'swarm', ok: boolean, explicitOnly = false): RuntimeCandidate => ({
      kind,
      explicitOnly,
      load: async () =>
        ({ kind, available: async () => ({ ok, reason: kind }) }) as unknown as RuntimeFactory,
    });
    const chain = [fake('docker', false), fake('swarm', true, true)];
    await assert.rejects(selectRuntime('auto', chain), (e) => isLabError(e, 'LAB_ERR_NO_RUNTIME'));
    assert.equal((await selectRuntime('swarm', chain)).factory.kind, 'swarm');
  });
});

describe('the proxy (real process, real sockets)', () => {
  let upstream: ReturnType<typeof createServer>;
  let child: ReturnType<typeof spawn>;
  let base = '';
  before(async () => {
    upstream = createServer((req, res) => res.end(`upstream saw ${req.method} ${req.url}`));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as AddressInfo).port;
    child = spawn(process.execPath, ['-e', PROXY_SCRIPT], {
      env: {
        PROXY_ROUTES: JSON.stringify({ localhost: port }),
        PROXY_SUBNET: '127.0.0.0/8',
        PROXY_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Port 0: the proxy prints the port it was given.
    const line = await new Promise<string>((r) => child.stdout!.once('data', (d: Buffer) => r(d.toString())));
    base = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
    (globalThis as { upstreamPort?: number }).upstreamPort = port;
  });
  after(() => {
    child.kill();
    upstream.close();
  });
  it('forwards /<alias>/path and /task/<ip>:<port>/path inside the subnet, refuses everything else', async () => {
    const port = (globalThis as { upstreamPort?: number }).upstreamPort;
    assert.equal(
      await (await fetch(`${base}/localhost/api/v1/query?x=1`)).text(),
      'upstream saw GET /api/v1/query?x=1',
    );
    assert.equal(
      await (await fetch(`${base}/task/127.0.0.1:${port}/healthz`, { method: 'POST', body: 'x' })).text(),
      'upstream saw POST /healthz',
    );
    assert.equal((await fetch(`${base}/task/10.1.2.3:${port}/healthz`)).status, 404, 'outside the subnet');
    assert.equal((await fetch(`${base}/nope/x`)).status, 404);
    const clock = Number(await (await fetch(`${base}/clock`)).text());
    assert.ok(Math.abs(clock - Date.now()) < 1000);
  });
});
