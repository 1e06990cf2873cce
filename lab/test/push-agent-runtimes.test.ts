// #27 on the engine runtimes, the pure parts: push's budget split between the central collector and the agents,
// an agent container's command, one agent per producer node on swarm (which agents a fleet keeps, removes and
// adds), the agent service's spec and its place in run.json's nodes, the central collector's half on swarm, the
// agents' CPU counted in push's pipeline, each host's agent read once, where a docker host's network lives, and
// the docker fleet starting each agent before its producer, in whose namespace the producer then runs (a fake
// engine: createContainer recorded, /healthz answered by a real loopback server).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type Docker from 'dockerode';
import fc from 'fast-check';
import { perPid } from '../src/analysis/resources.ts';
import { PushAgentWatch } from '../src/burst/push-agents.ts';
import { repoRoot } from '../src/core/paths.ts';
import { readCompose } from '../src/runtime/docker/compose.ts';
import { scaleFleet } from '../src/runtime/docker/fleet.ts';
import { netOwnerOf } from '../src/runtime/docker/push-agents.ts';
import { type DockerStack, emptyStack, type Tracked } from '../src/runtime/docker/state.ts';
import { pushAgentContainerArgs, pushBudgets } from '../src/runtime/push-agent-args.ts';
import {
  checkAgentPlacement,
  planSwarmAgents,
  swarmAgentSpec,
  withAgentTasks,
} from '../src/runtime/swarm/push-agents.ts';
import { observerSpecs } from '../src/runtime/swarm/specs.ts';
import type { ProducerMember, ProducerOptions } from '../src/runtime/types.ts';
import { fleetOptions, okServer } from './ok-server.ts';
import { GiB, limitsOf, plan, specContext } from './swarm-fixtures.ts';

const ctx = specContext('20261208T030000Z-abcd');

describe('pushBudgets: the central collector half of push’s budget, the agents the other half', () => {
  const cases = [
    { agents: 1, budget: { cpus: 0.25, cpuset: '1', memoryBytes: 2 * GiB }, central: 0.125, agent: 0.125 },
    { agents: 2, budget: { cpus: 0.25, cpuset: '1', memoryBytes: 2 * GiB }, central: 0.125, agent: 0.063 },
    { agents: 4, budget: { cpus: 1, cpuset: null, memoryBytes: 4 * GiB }, central: 0.5, agent: 0.125 },
    { agents: 3, budget: { cpus: null, cpuset: null, memoryBytes: null }, central: null, agent: null },
  ];
  for (const c of cases)
    it(`${c.agents} agent(s) on ${c.budget.cpus ?? 'no'} cores`, () => {
      const b = pushBudgets(c.budget, c.agents);
      assert.equal(b.central.cpus, c.central);
      assert.equal(b.agent.cpus, c.agent);
      assert.equal(b.agent.cpuset, c.budget.cpuset, 'the cpuset is push’s');
      if (c.budget.cpus !== null)
        assert.ok(
          b.central.cpus! + c.agents * b.agent.cpus! <= c.budget.cpus + 0.001 * c.agents,
          'together no more than push’s budget',
        );
      if (c.budget.memoryBytes !== null)
        assert.ok(b.central.memoryBytes! + c.agents * b.agent.memoryBytes! <= c.budget.memoryBytes);
    });
});

describe('an agent container’s command', () => {
  it('StatsD over UDP where asked, no TCP or OTLP listener, agent mode forwarding to the central receiver', () => {
    const args = pushAgentContainerArgs('127.0.0.1:8125', ['--max-series', '1200']);
    const flag = (f: string) => args[args.indexOf(f) + 1];
    assert.equal(flag('--statsd-udp'), '127.0.0.1:8125');
    assert.equal(flag('--statsd-tcp'), 'off');
    assert.equal(flag('--otlp-http'), 'off');
    assert.equal(flag('--http'), '0.0.0.0:9102');
    assert.equal(flag('--mode'), 'agent');
    assert.equal(flag('--forward-otlp'), 'http://collector:4318/v1/metrics');
    assert.equal(flag('--forward-tally'), 'orders');
    assert.deepEqual(args.slice(-2), ['--max-series', '1200'], 'the lab’s collector limits last');
  });
});

describe('swarm: one agent per producer node', () => {
  const cases: {
    name: string;
    running: Record<string, string>;
    nodes: string[];
    keep: string[];
    remove: string[];
    add: string[];
  }[] = [
    {
      name: 'first fleet',
      running: {},
      nodes: ['n1', 'n1', 'n2'],
      keep: [],
      remove: [],
      add: ['agent-0@n1', 'agent-1@n2'],
    },
    {
      name: 'a node more',
      running: { 'agent-0': 'n1' },
      nodes: ['n1', 'n2'],
      keep: ['agent-0@n1'],
      remove: [],
      add: ['agent-1@n2'],
    },
    {
      name: 'a node less',
      running: { 'agent-0': 'n1', 'agent-1': 'n2' },
      nodes: ['n2', 'n2'],
      keep: ['agent-1@n2'],
      remove: ['agent-0@n1'],
      add: [],
    },
    {
      name: 'the lowest free name',
      running: { 'agent-1': 'n2' },
      nodes: ['n1', 'n2'],
      keep: ['agent-1@n2'],
      remove: [],
      add: ['agent-0@n1'],
    },
    {
      name: 'scale to 0',
      running: { 'agent-0': 'n1' },
      nodes: [],
      keep: [],
      remove: ['agent-0@n1'],
      add: [],
    },
    {
      name: 'two on one node: one goes',
      running: { 'agent-0': 'n1', 'agent-1': 'n1' },
      nodes: ['n1'],
      keep: ['agent-0@n1'],
      remove: ['agent-1@n1'],
      add: [],
    },
  ];
  const show = (xs: { name: string; nodeId: string }[]) => xs.map((a) => `${a.name}@${a.nodeId}`);
  for (const c of cases)
    it(c.name, () => {
      const p = planSwarmAgents(c.running, c.nodes);
      assert.deepEqual(
        { keep: show(p.keep), remove: show(p.remove), add: show(p.add) },
        { keep: c.keep, remove: c.remove, add: c.add },
      );
    });

  it('any fleet: every producer node has exactly one agent, names distinct, nothing kept off a producer node', () =>
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.integer({ min: 0, max: 9 }).map((k) => `agent-${k}`),
          fc.constantFrom('n1', 'n2', 'n3', 'n4'),
        ),
        fc.array(fc.constantFrom('n1', 'n2', 'n3', 'n4'), { maxLength: 8 }),
        (running, nodes) => {
          const p = planSwarmAgents(running, nodes);
          const after = [...p.keep, ...p.add];
          assert.deepEqual(after.map((a) => a.nodeId).sort(), [...new Set(nodes)].sort());
          assert.equal(new Set(after.map((a) => a.name)).size, after.length);
          assert.equal(p.keep.length + p.remove.length, Object.keys(running).length);
        },
      ),
    ));

  it('refuses producers that may move off their node’s agent, with the policy in the message', () => {
    const popts = { pushTopology: 'agent' } as ProducerOptions;
    assert.throws(() => checkAgentPlacement({ ...popts, restartPolicy: 'any' }), /restart policy "any"/);
    assert.doesNotThrow(() => checkAgentPlacement({ ...popts, restartPolicy: 'none' }));
    assert.doesNotThrow(() =>
      checkAgentPlacement({ ...popts, pushTopology: 'central', restartPolicy: 'any' }),
    );
  });
});

describe('swarm: the agent’s service and push’s budget', () => {
  const spec = swarmAgentSpec(ctx, { name: 'agent-0', nodeId: 'n1' }, 2, ['--max-series', '1200']);
  const task = spec.TaskTemplate as {
    ContainerSpec: { Image: string; Args: string[]; Labels: Record<string, string> };
    Placement: { Constraints: string[] };
    Networks: { Target: string; Aliases: string[] }[];
    RestartPolicy: { Condition: string };
  };

  it('the collector image in agent mode on the overlay, pinned to its node, reached by its alias', () => {
    assert.equal(task.ContainerSpec.Image, ctx.compose.collector!.image);
    assert.ok(task.ContainerSpec.Args.includes('--mode'));
    assert.equal(
      task.ContainerSpec.Args[task.ContainerSpec.Args.indexOf('--statsd-udp') + 1],
      '0.0.0.0:8125',
    );
    assert.deepEqual(task.Placement.Constraints, ['node.id==n1']);
    assert.deepEqual(task.Networks, [{ Target: 'net1', Aliases: ['agent-0'] }]);
    assert.equal(task.RestartPolicy.Condition, 'none');
    assert.equal(spec.Labels?.['pushpull.lab'], ctx.runId);
    assert.equal(spec.Labels?.['pushpull.component'], 'agent-0');
  });

  it('its limits: one of 2 shares of the agents’ half of the collector’s budget', () => {
    const want = pushBudgets(plan.collector, 2).agent;
    assert.deepEqual(limitsOf(spec), {
      NanoCPUs: Math.round(want.cpus! * 1e9),
      MemoryBytes: want.memoryBytes!,
    });
    const none = swarmAgentSpec({ ...ctx, resources: null }, { name: 'agent-0', nodeId: 'n1' }, 2);
    assert.equal(limitsOf(none), undefined, 'no plan, no limits');
  });

  it('the central collector gets the other half with agents, the whole budget without', () => {
    const collector = (t?: 'agent') =>
      observerSpecs(ctx, [], { withNodeExporter: false, ...(t ? { pushTopology: t } : {}) }).find((s) =>
        String(s.Name).endsWith('-collector'),
      )!;
    assert.equal(limitsOf(collector())?.NanoCPUs, Math.round(plan.collector.cpus! * 1e9));
    assert.equal(
      limitsOf(collector('agent'))?.NanoCPUs,
      Math.round(pushBudgets(plan.collector, 1).central.cpus! * 1e9),
    );
  });

  it('run.json’s nodes list each agent on its node, its limits in the node’s budget', () => {
    const nodes = withAgentTasks(
      [
        { id: 'n1', name: 'a', cores: 2, memoryBytes: 24 * GiB, clockOffsetMs: 0 },
        { id: 'n2', name: 'b', cores: 2, memoryBytes: 24 * GiB, clockOffsetMs: 0 },
      ] as Parameters<typeof withAgentTasks>[0],
      ctx,
      { 'agent-0': 'n1', 'agent-1': 'n2' },
    );
    assert.deepEqual(
      nodes.map((n) => n.tasks),
      [['agent-0'], ['agent-1']],
    );
    assert.equal(nodes[0]!.budget?.cpus, pushBudgets(plan.collector, 2).agent.cpus);
  });
});

describe('the agents count in push’s pipeline', () => {
  const cases: { rec: Record<string, number>; collector: number | null; prometheus: number | null }[] = [
    { rec: { collector: 1, 'agent-0': 2, 'agent-1': 3 }, collector: 6, prometheus: null },
    { rec: { collector: 1, prometheus: 4, 'prometheus-agent-0': 5 }, collector: 1, prometheus: 9 },
    { rec: { 'agent-0': 2 }, collector: 2, prometheus: null },
    { rec: { collector: 1, 'agent-x': 7, producers: 8 }, collector: 1, prometheus: null },
  ];
  for (const c of cases)
    it(JSON.stringify(c.rec), () => {
      assert.equal(perPid(c.rec, 'collector'), c.collector);
      assert.equal(perPid(c.rec, 'prometheus'), c.prometheus);
    });
});

describe('each host’s agent is read once', () => {
  const m = (name: string, agent?: string, url?: string): ProducerMember => ({
    name,
    baseUrl: '',
    podIds: [],
    handle: name,
    ...(url ? { pushAgentUrl: url } : {}),
    ...(agent ? { pushAgentName: agent } : {}),
  });
  const cases: { name: string; members: ProducerMember[]; want: string[] }[] = [
    {
      name: 'process/docker: agent-<i> beside producer-<i>',
      members: [m('producer-0', undefined, 'u0'), m('producer-1', undefined, 'u1')],
      want: ['agent-0', 'agent-1'],
    },
    {
      name: 'swarm: a node’s producers share its agent',
      members: [
        m('producer-0', 'agent-0', 'u'),
        m('producer-1', 'agent-0', 'u'),
        m('producer-2', 'agent-1', 'v'),
      ],
      want: ['agent-0', 'agent-1'],
    },
    { name: 'central: none', members: [m('producer-0')], want: [] },
  ];
  for (const c of cases)
    it(c.name, () => {
      const w = new PushAgentWatch(() => c.members, 1000);
      assert.deepEqual(
        w.readings(new Set()).map((r) => r.name),
        c.want,
      );
    });
});

describe('docker: whose network namespace a host is', () => {
  const own = { id: 'producer' } as Docker.Container;
  const agent = { id: 'agent' } as Docker.Container;
  const s = { base: new Map([['agent-0', agent]]) } as unknown as DockerStack;
  const t = (member: Partial<ProducerMember>): Tracked => ({
    member: { name: 'producer-0', baseUrl: '', podIds: [], handle: 'x', ...member },
    container: own,
  });
  it('its agent’s with the agent tier, its own without', () => {
    assert.equal(netOwnerOf(s, t({ pushAgentUrl: 'http://127.0.0.1:1' })).id, 'agent');
    assert.equal(netOwnerOf(s, t({})).id, 'producer');
    assert.equal(
      netOwnerOf({ base: new Map() } as unknown as DockerStack, t({ pushAgentUrl: 'u' })).id,
      'producer',
    );
  });
});

describe('docker: each producer container joins its agent’s network namespace (fleet.ts, fake engine)', () => {
  interface Created {
    name: string;
    Cmd: string[];
    ExposedPorts: Record<string, object>;
    HostConfig: Docker.HostConfig;
    NetworkingConfig?: unknown;
  }
  const ok = okServer();
  const dirs = ok.dirs;

  /** A fake engine: every container publishes each port on the one real /healthz server's port. */
  function fakeStack(created: Created[], removed: string[]): DockerStack {
    const ports = {
      '9100/tcp': [{ HostPort: String(ok.port()) }],
      '9102/tcp': [{ HostPort: String(ok.port()) }],
    };
    const docker = {
      createContainer: async (o: Created) => {
        created.push(o);
        return {
          id: `id-${o.name}`,
          start: async () => undefined,
          update: async () => undefined,
          remove: async () => void removed.push(o.name),
          inspect: async () => ({ NetworkSettings: { Ports: ports }, State: { Running: true } }),
        };
      },
    } as unknown as Docker;
    const s = emptyStack(docker, readCompose(repoRoot()), repoRoot());
    s.runId = 'r1';
    s.networkName = 'pushpull-r1';
    s.workDir = mkdtempSync(join(tmpdir(), 'pp-push-agents-'));
    s.resources = plan;
    dirs.push(s.workDir);
    return s;
  }
  const popts = fleetOptions({ podsPerProducer: 3, pushTopology: 'agent' });

  it('agent first, the producer in its namespace sending to 127.0.0.1:8125; the agent publishes both ports', async () => {
    const created: Created[] = [];
    const s = fakeStack(created, []);
    await scaleFleet(s, 2, popts);
    assert.deepEqual(
      created.map((c) => c.name.replace('pushpull-r1-', '')),
      ['agent-0', 'producer-0', 'agent-1', 'producer-1'],
    );
    const [agent, producer] = created;
    assert.equal(producer!.HostConfig.NetworkMode, `container:id-${agent!.name}`);
    assert.deepEqual(producer!.ExposedPorts, {}, 'nothing published by the producer itself');
    assert.equal(producer!.NetworkingConfig, undefined);
    assert.ok(producer!.Cmd.includes('udp://127.0.0.1:8125'), producer!.Cmd.join(' '));
    assert.equal(agent!.HostConfig.NetworkMode, 'pushpull-r1');
    assert.deepEqual(Object.keys(agent!.HostConfig.PortBindings ?? {}).sort(), ['9100/tcp', '9102/tcp']);
    for (const b of Object.values(agent!.HostConfig.PortBindings ?? {}))
      assert.equal((b as { HostIp: string }[])[0]!.HostIp, '127.0.0.1');
    assert.equal(agent!.Cmd[agent!.Cmd.indexOf('--statsd-udp') + 1], '127.0.0.1:8125');
    assert.equal(agent!.HostConfig.NanoCpus, Math.round(pushBudgets(plan.collector, 2).agent.cpus! * 1e9));
    assert.deepEqual([...s.base.keys()], ['agent-0', 'agent-1'], 'the agents are components of the stack');
    assert.ok(s.producers.every((p) => p.member.pushAgentUrl === `http://127.0.0.1:${ok.port()}`));
  });

  it('scale down removes the host’s agent with its producer; central starts none', async () => {
    const removed: string[] = [];
    const s = fakeStack([], removed);
    await scaleFleet(s, 2, popts);
    await scaleFleet(s, 1, popts);
    assert.deepEqual(
      removed.map((n) => n.replace('pushpull-r1-', '')),
      ['producer-1', 'agent-1'],
    );
    assert.deepEqual([...s.base.keys()], ['agent-0']);
    const created: Created[] = [];
    const c = fakeStack(created, []);
    await scaleFleet(c, 1, { ...popts, pushTopology: 'central' });
    assert.deepEqual(
      created.map((x) => x.name.replace('pushpull-r1-', '')),
      ['producer-0'],
    );
    assert.ok(created[0]!.Cmd.includes('udp://collector:8125'));
  });
});
