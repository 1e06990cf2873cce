// The swarm runtime's parts behind `up`/`status`/`scale`/`down`, auxiliary tasks and faults, against the
// Engine API's real response shapes (fixtures/swarm/*.json, captured from this machine's Docker Engine 20.10 /
// API 1.41 as a one-node swarm). The engine itself is exercised by swarm.docker.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import type Docker from 'dockerode';
import { environmentTable } from '../src/report/tables.ts';
import { readState, writeState } from '../src/runtime/stack-state.ts';
import { AUX_ADDRESSES, auxSpec, jobExit, stdoutOf } from '../src/runtime/swarm/aux.ts';
import { injectFault } from '../src/runtime/swarm/faults.ts';
import { keptProducers } from '../src/runtime/swarm/fleet.ts';
import { describeStack, restoreStack } from '../src/runtime/swarm/snapshot.ts';
import { composeServices } from '../src/runtime/swarm/specs.ts';
import { emptyStack, type SwarmStack } from '../src/runtime/swarm/state.ts';
import type { ApiTask } from '../src/runtime/swarm/tasks.ts';
import { record2 } from './report-fixtures.ts';

const root = join(import.meta.dirname, '..', '..');
const fx = (f: string) => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/swarm', f), 'utf8'));
const realTasks = fx('tasks.json') as ApiTask[];
/** Real one-shot tasks (restart none) of the producer image: `--help` (complete, exit 0), `job --no-such-flag` (failed, exit 2). */
const jobTasks = fx('tasks-job.json') as ApiTask[];

/** A stack as up() leaves it (ids in the engine's formats). */
function upStack(docker = {} as Docker): SwarmStack {
  const s = emptyStack(docker, root, composeServices(root));
  Object.assign(s, {
    runId: 'mabc123-x1',
    workDir: '/tmp/pushpull-lab-mabc123-x1',
    localNodeId: 'ioioroe0u1cbw7oatesk87ma5',
    networkId: 'q1w2e3r4t5y6u7i8o9p0a1s2d',
    networkName: 'pp-mabc123-x1-net',
    subnet: '10.231.0.0/24',
    proxyContainerId: 'c0ffee',
    proxyUrl: 'http://127.0.0.1:49153',
    scrapeIntervalMs: 2000,
    startedAtMs: 1_764_600_000_000,
    observerConstraints: [],
    endpoints: {
      prometheusUrl: 'http://127.0.0.1:49153/prometheus',
      pushgatewayUrl: 'http://127.0.0.1:49153/pushgateway',
      collectorHttpUrl: 'http://127.0.0.1:49153/collector',
      nodeExporterUrl: null,
    },
    environment: {
      nodes: [{ name: 'vm', cores: 2, memoryBytes: 25275953152, clockOffsetMs: -0.5 }],
      notes: ['node w1: clock 80 ms off'],
    },
  });
  s.base.set('prometheus', 'svcprom').set('collector', 'svccoll');
  s.producers.push({
    member: {
      name: 'producer-0',
      baseUrl: 'http://127.0.0.1:49153/task/10.231.0.9:9100',
      podIds: ['producer-0-p0', 'producer-0-p1'],
      handle: realTasks[0]!.ServiceID,
    },
    serviceId: realTasks[0]!.ServiceID,
    nodeId: 'ioioroe0u1cbw7oatesk87ma5',
  });
  s.producerOptions = {
    podsPerProducer: 50,
    totalPods: 2,
    seed: 42,
    pushMode: 'per-event',
    jitter: true,
    transport: 'udp',
    heartbeatMs: 5000,
    flushIntervalMs: 10_000,
    fleetPods: 1400,
  };
  return s;
}

describe('images from docker-compose.yml', () => {
  it("compose's substitution: the defaults, or PUSHPULL_*_IMAGE (the docker runtime's images)", () => {
    const img = (env: NodeJS.ProcessEnv) =>
      Object.fromEntries(Object.entries(composeServices(root, env)).map(([n, svc]) => [n, svc.image]));
    assert.equal(img({}).producer, 'pushpull/producer:0.1.0');
    assert.equal(img({}).prometheus, 'pushpull-airgap/prometheus:2.42.0-debian');
    assert.equal(img({ PUSHPULL_PRODUCER_IMAGE: 'reg.local/producer:9' }).producer, 'reg.local/producer:9');
  });
});

describe('stack state (.lab/state.json) on swarm', () => {
  it('describe → state.json → restore gives back the same stack (services, proxy, network, nodes)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarm-state-'));
    try {
      const a = upStack();
      writeState(dir, describeStack(a), ['swarm: selected']);
      const read = readState(dir);
      assert.equal(read?.stack.kind, 'swarm');
      const b = emptyStack({} as Docker, root, composeServices(root));
      restoreStack(b, read!.stack);
      const pick = (s: SwarmStack) => ({
        ...s,
        docker: null,
        log: null,
        base: [...s.base],
        producers: s.producers.map((p) => ({ ...p })),
      });
      assert.deepEqual(pick(b), pick(a));
      assert.deepEqual(describeStack(b), describeStack(a));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('describe before up is an error, not an empty record', () => {
    assert.throws(
      () => describeStack(emptyStack({} as Docker, root, composeServices(root))),
      (e) => isLabError(e, 'LAB_ERR_CONFIG'),
    );
  });
});

describe('scale: which producers stay', () => {
  for (const [running, wanted, kept, why] of [
    [[6], [9], 0, '6 → 9 pods on one producer: it is replaced with 9'],
    [[6], [50, 10], 0, '6 → 60 pods: the 6-pod producer must hold 50, replaced'],
    [[50, 50, 10], [50, 50, 40], 2, 'only the last one changes'],
    [[50, 50, 10], [50, 20], 1, 'shrink: the third goes, the second is resized'],
    [[50, 50], [50, 50, 50], 2, 'grow: both stay'],
    [[], [50], 0, 'empty fleet'],
  ] as const)
    it(why, () => assert.equal(keptProducers(running, wanted), kept));
});

describe('auxiliary tasks (runAux)', () => {
  it('a job: its own alias, the compose addresses, restart none, the run labels', () => {
    const s = upStack();
    const spec = auxSpec(s, 'batch-job', ['job', '--pushgateway', AUX_ADDRESSES.pushgatewayUrl]);
    assert.equal(spec.Name, 'pp-mabc123-x1-aux-batch-job');
    assert.equal(spec.Labels?.['pushpull.lab'], 'mabc123-x1');
    assert.equal(spec.Labels?.['pushpull.aux'], 'batch-job');
    assert.deepEqual(spec.TaskTemplate?.RestartPolicy, { Condition: 'none' });
    assert.deepEqual(spec.TaskTemplate?.Networks, [
      { Target: 'q1w2e3r4t5y6u7i8o9p0a1s2d', Aliases: ['aux-batch-job'] },
    ]);
    assert.deepEqual((spec.TaskTemplate as Docker.ContainerTaskSpec).ContainerSpec?.Args, [
      'job',
      '--pushgateway',
      'http://pushgateway:9091',
    ]);
  });
  it('a served pod carries the producer alias, so the sd service discovers it', () => {
    const spec = auxSpec(upStack(), 'job-served', ['serve', '--name', 'job-served']);
    assert.deepEqual(spec.TaskTemplate?.Networks?.[0]?.Aliases, ['producer']);
  });
  it('a name swarm cannot carry is refused before anything is created', () => {
    for (const bad of ['Batch', 'job_1', 'x'.repeat(25), '-job'])
      assert.throws(
        () => auxSpec(upStack(), bad, ['job']),
        (e) => isLabError(e, 'LAB_ERR_CONFIG'),
        bad,
      );
  });
  it('how a job ended, read from real task shapes', () => {
    assert.equal(jobExit(realTasks[0]), null, 'running: not ended');
    const [done, failed] = jobTasks;
    assert.deepEqual(jobExit(done), { exitCode: 0, why: 'complete' });
    assert.equal(jobExit(failed)?.exitCode, 2);
    assert.match(jobExit(failed)!.why, /^failed/);
    const rejected = jobExit(realTasks[1]);
    assert.equal(rejected?.exitCode, null, 'a rejected task never ran: no exit code');
    assert.match(rejected!.why, /rejected: No such image/);
  });
  it("stdout out of the engine's log frames (stderr dropped); unframed text as is", () => {
    const frame = (stream: number, text: string) => {
      const body = Buffer.from(text);
      const head = Buffer.alloc(8);
      head[0] = stream;
      head.writeUInt32BE(body.length, 4);
      return Buffer.concat([head, body]);
    };
    const raw = Buffer.concat([frame(1, '{"msg":"job '), frame(2, 'warn\n'), frame(1, 'done"}\n')]);
    assert.equal(stdoutOf(raw), '{"msg":"job done"}\n');
    assert.equal(stdoutOf(Buffer.from('plain\n')), 'plain\n');
  });
});

describe('faults on swarm', () => {
  /** An engine that answers GET /tasks with the real running task, moved to `nodeId`. */
  const engine = (nodeId: string) =>
    ({
      listTasks: async () => [{ ...realTasks[0]!, NodeID: nodeId }],
      getContainer: () => {
        throw new Error('must not touch a container on another node');
      },
      getNetwork: () => ({}),
    }) as unknown as Docker;
  it('kill/pause/partition of a task on another node: LAB_ERR_FAULT_UNSUPPORTED naming the node', async () => {
    const s = upStack(engine('w2node'));
    s.nodes = [
      {
        id: 'w2node',
        name: 'worker-2',
        role: 'worker',
        usable: true,
        cores: 8,
        memoryBytes: 1,
        labRole: null,
      },
    ];
    for (const kind of ['kill', 'pause', 'partition', 'heal'] as const)
      await assert.rejects(
        injectFault(s, kind, s.producers[0]!.member),
        (e) =>
          isLabError(e, 'LAB_ERR_FAULT_UNSUPPORTED') &&
          /worker-2/.test(e.message) &&
          e.message.includes(kind),
      );
  });
});

describe('report: swarm nodes in the environment table', () => {
  it('one row per node with cores, memory and its clock offset; none on other runtimes', () => {
    const r = record2();
    r.environment.nodes = [
      { name: 'vm', cores: 2, memoryBytes: 25275953152, clockOffsetMs: -0.5 },
      { name: 'w1', cores: 8, memoryBytes: 2 ** 34, clockOffsetMs: null },
    ];
    const rows = environmentTable(r).rows.filter((x) => x[0]!.startsWith('swarm node'));
    assert.deepEqual(rows, [
      ['swarm node vm', "2 cores, 23.5 GiB, clock -0.5 ms off the manager's"],
      ['swarm node w1', '8 cores, 16.0 GiB, clock not measured'],
    ]);
    delete r.environment.nodes;
    assert.equal(environmentTable(r).rows.filter((x) => x[0]!.startsWith('swarm node')).length, 0);
  });
});
