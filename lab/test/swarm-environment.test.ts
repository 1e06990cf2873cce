// environment.nodes per node: the tasks placed there, the images they need, their declared limits summed
// (observers at deploy, producers as placed), built from the real service specs; and `swarm-plan`'s sizing
// from a capacity result (paths.<path>.podsPerCore when present, else the largest fleet held per budget core).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultPlan } from '../src/core/resources.ts';
import type { EnvironmentNode } from '../src/runtime/swarm/nodes.ts';
import { placedOn, withObservers } from '../src/runtime/swarm/nodes.ts';
import type { NodeNeeds } from '../src/runtime/swarm/placement.ts';
import { asCapacity, podsPerCore, sizingLines } from '../src/runtime/swarm/sizing.ts';
import { composeServices, nodeTaskOf, observerSpecs, producerSpec } from '../src/runtime/swarm/specs.ts';

const root = join(import.meta.dirname, '..', '..');
const node = (id: string, role: string | null): EnvironmentNode => ({
  name: 'vm',
  id,
  role,
  cores: 2,
  memoryBytes: 2 ** 33,
  clockOffsetMs: 0,
});

describe('environment.nodes: tasks, images, budget', () => {
  const plan = defaultPlan({ cores: 2, memoryBytes: 24 * 2 ** 30 });
  const ctx = {
    runId: '20261207T000000Z-abcd',
    networkId: 'net1',
    compose: composeServices(root),
    observerConstraints: ['node.labels.pushpull.role==observer'],
    resources: plan,
  };
  const observers = observerSpecs(ctx, [], { withNodeExporter: false }).map((s) =>
    nodeTaskOf(s.Labels?.['pushpull.component'] ?? '', s),
  );
  const producer = (name: string) => nodeTaskOf(name, producerSpec(ctx, name, [], []));
  const nodes = withObservers(
    [node('m', 'observer'), node('w1', 'producer'), node('w2', 'producer')],
    ['m'],
    observers,
  );
  const member = (name: string, pods: number) => ({
    name,
    podIds: Array.from({ length: pods }, (_, i) => `${name}-p${i}`),
  });
  const placed = placedOn(
    nodes,
    [
      { nodeId: 'w1', member: member('producer-0', 5) },
      { nodeId: 'w2', member: member('producer-1', 5) },
      { nodeId: 'w1', member: member('producer-2', 3) },
    ],
    producer,
  );
  const [m, w1, w2] = placed;

  it('the observer node lists the observers and their images; sd (no budget) is named unlimited', () => {
    assert.deepEqual(m!.tasks, ['collector', 'pushgateway', 'sd', 'prometheus']);
    assert.deepEqual(m!.images, [...new Set(observers.map((o) => o.image))].sort());
    assert.deepEqual(m!.budget?.unlimited, ['sd']);
    const cpus = ['collector', 'pushgateway', 'prometheus'].reduce(
      (a, c) => a + (plan[c as 'collector'].cpus ?? 0),
      0,
    );
    assert.ok(cpus > 0);
    assert.equal(m!.budget?.cpus, Math.round(cpus * 1000) / 1000);
    assert.equal(m!.producers, 0);
  });
  it('each producer node lists its producers, the producer image, and their limits summed', () => {
    assert.deepEqual(w1!.tasks, ['producer-0', 'producer-2']);
    assert.deepEqual(w2!.tasks, ['producer-1']);
    assert.deepEqual([w1!.producers, w1!.pods, w2!.producers, w2!.pods], [2, 8, 1, 5]);
    const one = producer('producer-0');
    assert.deepEqual(w1!.images, [one.image]);
    assert.equal(
      w1!.budget?.cpus,
      one.limits.NanoCPUs ? Math.round((2 * one.limits.NanoCPUs) / 1e6) / 1000 : null,
    );
    assert.equal(w1!.budget?.memoryBytes, one.limits.MemoryBytes ? 2 * one.limits.MemoryBytes : null);
  });
  it('placing again does not add twice (environment() is called more than once)', () => {
    const again = placedOn(nodes, [{ nodeId: 'w2', member: member('producer-1', 5) }], producer);
    assert.deepEqual(again[2]!.tasks, ['producer-1']);
  });
});

describe('swarm-plan sizing from a capacity result', () => {
  const resources = { prometheus: { cpus: 0.5 }, collector: { cpus: 0.5 }, producers: { cpus: 1 } };
  const cap = (paths: object) =>
    asCapacity(
      { schema: 'pushpull-lab/capacity@1', finishedAt: '2026-12-07T20:00:00Z', config: { resources }, paths },
      'c.json',
    );
  const cases: [string, object, string, number | null, RegExp][] = [
    [
      'podsPerCore (capacity --scaling) wins',
      { pull: { podsPerCore: { receiver: 'prometheus', value: 300 }, maxHeld: 80 } },
      'pull',
      300,
      /paths\.pull\.podsPerCore measured \(prometheus\)/,
    ],
    ['a bare number, too', { pull: { podsPerCore: 250 } }, 'pull', 250, /podsPerCore measured$/],
    [
      'a podsPerCore whose value is null (not converged): maxHeld over the budget',
      { pull: { podsPerCore: { value: null }, maxHeld: 80 } },
      'pull',
      160,
      /80 pods held/,
    ],
    [
      'else maxHeld over the budget',
      { pull: { maxHeld: 80 } },
      'pull',
      160,
      /80 pods held on prometheus's 0.5-core budget/,
    ],
    ['nothing held', { push: { maxHeld: null } }, 'push', null, /no push result held/],
    [
      'a podsPerCore that is not a positive number is ignored',
      { push: { podsPerCore: 'x', maxHeld: 40 } },
      'push',
      80,
      /40 pods held/,
    ],
  ];
  for (const [name, paths, path, want, basis] of cases)
    it(name, () => {
      const r = podsPerCore(cap(paths), path, path === 'pull' ? 'prometheus' : 'collector');
      assert.equal(r.value, want);
      assert.match(r.basis, basis);
    });

  const needs = (obsCores: number, workers: number[]): NodeNeeds[] => [
    {
      node: 'obs',
      role: 'observer',
      cores: obsCores,
      memoryBytes: 0,
      producers: 0,
      pods: 0,
      components: [],
      images: [],
      estimatedBytes: 0,
    },
    ...workers.map((c, i) => ({
      node: `w${i}`,
      role: 'producers',
      cores: c,
      memoryBytes: 0,
      producers: 1,
      pods: 1,
      components: [],
      images: [],
      estimatedBytes: 0,
    })),
  ];
  it('1,400 pods: observers need pods/ppc(pull) + pods/ppc(push) cores; short nodes are flagged with how many of that size', () => {
    const c = cap({ pull: { podsPerCore: 200 }, push: { maxHeld: 60 } });
    const lines = sizingLines(c, 'c.json', 1400, needs(8, [4, 4]));
    assert.match(lines[0]!, /^sizing from c\.json \(measured 2026-12-07T20:00:00Z\)/);
    assert.match(lines[1]!, /pull: 200 pods per core .* prometheus needs 7 cores for 1400 pods/);
    assert.match(lines[2]!, /push: 120 pods per core .* collector needs 11\.7 cores/);
    assert.match(
      lines[3]!,
      /producers: 60 pods per core \(60 pods held on the producers' 1-core budget \(at least\)\) → 23\.4 cores/,
    );
    assert.match(
      lines[4]!,
      /observer node\(s\): need 18\.7 cores, have 8: ! short by 10\.7 \(3 node\(s\) of 8 cores\)/,
    );
    assert.match(
      lines[5]!,
      /producer node\(s\): need 23\.4 cores, have 8: ! short by 15\.4 \(6 node\(s\) of 4 cores\)/,
    );
  });
  it('enough cores: said so', () => {
    const c = cap({ pull: { podsPerCore: 1000 }, push: { podsPerCore: 1000 } });
    const lines = sizingLines(c, 'c.json', 100, needs(2, [2]));
    assert.match(lines.join('\n'), /observer node\(s\): need 0\.2 cores, have 2: enough/);
  });
  it('a file that is not a capacity record is refused, naming it', () => {
    assert.throws(
      () => asCapacity({ schema: 'pushpull-lab/run@3' }, 'run.json'),
      /--capacity run\.json: not a capacity record \(schema "pushpull-lab\/run@3"/,
    );
  });
});
