import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import Docker from 'dockerode';
import {
  describeStack as describeDocker,
  restoreStack as restoreDocker,
} from '../src/runtime/docker/snapshot.ts';
import { emptyStack as emptyDocker } from '../src/runtime/docker/state.ts';
import { waitHttp, withTimeout } from '../src/runtime/engine.ts';
import { beginRun, forgetRun, startOrTearDown } from '../src/runtime/engine-stack.ts';
import {
  describeStack as describeSwarm,
  restoreStack as restoreSwarm,
} from '../src/runtime/swarm/snapshot.ts';
import { emptyStack as emptySwarm } from '../src/runtime/swarm/state.ts';
import type { ProducerMember, StackEndpoints, StackOptions } from '../src/runtime/types.ts';

// The parts the docker and swarm runtimes share: their stack state into `.lab/state.json` and back, the
// start-or-tear-down of up(), and the bounded HTTP wait. No engine is contacted (dockerode connects lazily).

const endpoints: StackEndpoints = {
  prometheusUrl: 'http://127.0.0.1:1/',
  pushgatewayUrl: 'http://127.0.0.1:2/',
  collectorHttpUrl: 'http://127.0.0.1:3/',
  nodeExporterUrl: null,
};
const member: ProducerMember = {
  name: 'producer-1',
  baseUrl: 'http://127.0.0.1:4',
  podIds: ['p1'],
  handle: 'h1',
};
const opts: StackOptions = {
  runId: 'r7',
  workDir: '/tmp/r7',
  scrapeIntervalMs: 1500,
  withNodeExporter: false,
  log: () => {},
};

describe('engine runtimes: shared stack state', () => {
  it('a swarm stack survives describe → restore → describe unchanged', () => {
    const s = emptySwarm(new Docker(), '/repo', {});
    beginRun(s, opts);
    Object.assign(s, {
      localNodeId: 'n1',
      networkId: 'net',
      networkName: 'pushpull-r7',
      subnet: '10.231.3.0/24',
    });
    s.base.set('prometheus', 'svc-prom');
    s.producers.push({ member, serviceId: 'svc-p1', nodeId: 'n2' });
    s.endpoints = endpoints;
    const state = describeSwarm(s);
    assert.equal(state.kind, 'swarm');
    assert.deepEqual(state.components, { prometheus: 'svc-prom' });
    assert.equal(state.scrapeIntervalMs, 1500);
    assert.deepEqual((state.private as { producerNodes: unknown }).producerNodes, { 'producer-1': 'n2' });
    const back = emptySwarm(new Docker(), '/repo', {});
    restoreSwarm(back, JSON.parse(JSON.stringify(state)));
    assert.equal(back.subnet, '10.231.3.0/24');
    assert.deepEqual(back.producers, [{ member, serviceId: 'h1', nodeId: 'n2' }]);
    assert.deepEqual(describeSwarm(back), state);
  });

  it('a docker stack survives describe → restore → describe, containers by id', () => {
    const docker = new Docker();
    const s = emptyDocker(docker, { services: {} } as never, '/repo');
    beginRun(s, opts);
    s.networkName = 'pushpull-r7';
    s.withNodeExporter = false;
    s.base.set('collector', docker.getContainer('c-coll'));
    s.producers.push({ member, container: docker.getContainer('h1') });
    s.endpoints = endpoints;
    const state = describeDocker(s);
    assert.equal(state.kind, 'docker');
    assert.deepEqual(state.components, { collector: 'c-coll' });
    const back = emptyDocker(docker, { services: {} } as never, '/repo');
    restoreDocker(back, JSON.parse(JSON.stringify({ ...state, private: {} })));
    assert.equal(back.networkName, 'pushpull-r7', 'an old state without the network: the run-id name');
    assert.equal(back.withNodeExporter, false, 'from the endpoints when not recorded');
    assert.equal(back.base.get('collector')?.id, 'c-coll');
    assert.equal(back.producers[0]?.container.id, 'h1');
  });

  it('describe before up is LAB_ERR_CONFIG', () => {
    assert.throws(
      () => describeSwarm(emptySwarm(new Docker(), '/repo', {})),
      (e) => isLabError(e) && e.code === 'LAB_ERR_CONFIG',
    );
  });

  it('a failed start tears down and rethrows; down forgets the run', async () => {
    const s = emptySwarm(new Docker(), '/repo', {});
    let downs = 0;
    await assert.rejects(
      startOrTearDown(
        s,
        () => Promise.reject(new Error('boom')),
        async () => {
          downs++;
        },
      ),
      /boom/,
    );
    assert.equal(downs, 1);
    assert.equal(s.endpoints, undefined);
    assert.deepEqual(
      await startOrTearDown(
        s,
        async () => endpoints,
        async () => {},
      ),
      endpoints,
    );
    s.base.set('x', 'y');
    forgetRun(s);
    assert.equal(s.endpoints, undefined);
    assert.equal(s.base.size, 0);
  });
});

describe('engine runtimes: bounded waits (real sockets)', () => {
  let url = '';
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    res.statusCode = req.url === '/ready' && hits > 2 ? 200 : 503;
    res.end();
  });
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('waitHttp polls until 2xx, with or without a cap per attempt', async () => {
    hits = 0;
    await waitHttp(`${url}/ready`, 5000, 'ready');
    assert.equal(hits, 3);
    hits = 0;
    await waitHttp(`${url}/ready`, 5000, 'ready', undefined, 3000);
    assert.equal(hits, 3);
  });

  it('waitHttp gives up with LAB_ERR_TIMEOUT naming the last answer', async () => {
    await assert.rejects(
      waitHttp(`${url}/never`, 600, 'never'),
      (e) =>
        isLabError(e) &&
        e.code === 'LAB_ERR_TIMEOUT' &&
        /never not ready within 600 ms \(last: HTTP 503\)/.test(e.message),
    );
  });

  it('withTimeout rejects a promise that does not settle in time', async () => {
    await assert.rejects(
      withTimeout(new Promise(() => {}), 50, 'docker ping'),
      (e) =>
        isLabError(e) &&
        e.code === 'LAB_ERR_TIMEOUT' &&
        /docker ping: no answer within 50 ms/.test(e.message),
    );
    assert.equal(await withTimeout(Promise.resolve(4), 50, 'x'), 4);
  });
});
