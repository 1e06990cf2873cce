// The docker runtime's fleet logic (fleet.ts) against a fake engine (unit test: createContainer / remove /
// inspect are recorded; each "container" answers /healthz from a real loopback server). `scale` resizes the
// last producer when its share of a total changes, as the process runtime does, and refills a former last
// producer with a remainder when the fleet grows past it. producersToKeep is the rule both runtimes share.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type Docker from 'dockerode';
import { repoRoot } from '../src/core/paths.ts';
import { readCompose } from '../src/runtime/docker/compose.ts';
import { scaleFleet } from '../src/runtime/docker/fleet.ts';
import { emptyStack } from '../src/runtime/docker/state.ts';
import { producersToKeep } from '../src/runtime/producer-args.ts';
import type { ProducerOptions } from '../src/runtime/types.ts';
import { fleetOptions, okServer } from './ok-server.ts';

const opts = (totalPods: number | undefined, podsPerProducer = 4): ProducerOptions =>
  fleetOptions({ podsPerProducer, ...(totalPods === undefined ? {} : { totalPods }) });

describe('producersToKeep (the resize rule of every runtime)', () => {
  const cases: { name: string; running: number[]; producers: number; total?: number; keep: number }[] = [
    { name: 'same size: keep all', running: [4, 4, 2], producers: 3, total: 10, keep: 3 },
    { name: 'total shrinks inside the last: resize it', running: [4, 4, 2], producers: 3, total: 9, keep: 2 },
    { name: 'fewer producers, new last full', running: [4, 4, 2], producers: 2, total: 8, keep: 2 },
    { name: 'fewer producers, new last partial', running: [4, 4, 2], producers: 2, total: 7, keep: 1 },
    { name: 'grow past a partial last: refill it', running: [4, 2], producers: 3, total: 9, keep: 1 },
    { name: 'grow past a full last', running: [4, 4], producers: 3, total: 9, keep: 2 },
    { name: 'no total: every producer full', running: [4, 4], producers: 3, keep: 2 },
    { name: 'to zero', running: [4, 4], producers: 0, total: 0, keep: 0 },
    { name: 'from nothing', running: [], producers: 2, total: 6, keep: 0 },
  ];
  for (const c of cases)
    it(c.name, () => assert.equal(producersToKeep(c.running, c.producers, opts(c.total)), c.keep));
});

interface Call {
  op: 'create' | 'remove';
  name: string;
  pods?: string;
}

/** A fake engine: containers answer inspect with the loopback port of one real /healthz server. */
function fakeDocker(port: number, calls: Call[]): Docker {
  const container = (name: string, cmd: string[]) => ({
    id: name,
    start: async () => undefined,
    remove: async () => {
      calls.push({ op: 'remove', name });
    },
    inspect: async () => ({
      NetworkSettings: { Ports: { '9100/tcp': [{ HostPort: String(port) }] } },
      State: { Running: true },
      Config: { Cmd: cmd },
    }),
  });
  return {
    createContainer: async (o: { name: string; Cmd: string[] }) => {
      calls.push({ op: 'create', name: o.name, pods: o.Cmd[o.Cmd.indexOf('--pods') + 1] });
      return container(o.name, o.Cmd);
    },
  } as unknown as Docker;
}

describe('docker runtime: scale resizes the last producer (fleet.ts, fake engine)', () => {
  const ok = okServer();
  const dirs = ok.dirs;

  function stack(calls: Call[]) {
    const s = emptyStack(fakeDocker(ok.port(), calls), readCompose(repoRoot()), repoRoot());
    s.runId = 'r1';
    s.networkName = 'pushpull-r1';
    s.workDir = mkdtempSync(join(tmpdir(), 'pp-docker-fleet-'));
    dirs.push(s.workDir);
    return s;
  }
  const pods = (s: ReturnType<typeof stack>) => s.producers.map((p) => p.member.podIds.length);

  const steps: {
    name: string;
    from: [number, number];
    to: [number, number];
    want: number[];
    churn: Call[];
  }[] = [
    {
      name: '10 → 9 pods (4+4+2 → 4+4+1): the last producer is recreated with 1 pod',
      from: [3, 10],
      to: [3, 9],
      want: [4, 4, 1],
      churn: [
        { op: 'remove', name: 'pushpull-r1-producer-2' },
        { op: 'create', name: 'pushpull-r1-producer-2', pods: '1' },
      ],
    },
    {
      name: '6 → 9 pods (4+2 → 4+4+1): the former last is refilled, one more starts',
      from: [2, 6],
      to: [3, 9],
      want: [4, 4, 1],
      churn: [
        { op: 'remove', name: 'pushpull-r1-producer-1' },
        { op: 'create', name: 'pushpull-r1-producer-1', pods: '4' },
        { op: 'create', name: 'pushpull-r1-producer-2', pods: '1' },
      ],
    },
    {
      name: '10 → 10 pods: nothing restarts',
      from: [3, 10],
      to: [3, 10],
      want: [4, 4, 2],
      churn: [],
    },
  ];
  for (const st of steps)
    it(st.name, async () => {
      const calls: Call[] = [];
      const s = stack(calls);
      await scaleFleet(s, st.from[0], opts(st.from[1]));
      calls.length = 0;
      await scaleFleet(s, st.to[0], opts(st.to[1]));
      assert.deepEqual(pods(s), st.want);
      assert.deepEqual(calls, st.churn);
      assert.deepEqual(
        s.producers.map((p) => p.member.name),
        st.want.map((_, i) => `producer-${i}`),
      );
    });
});
