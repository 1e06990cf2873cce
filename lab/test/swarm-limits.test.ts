// The resource plan on swarm: each service's Resources.Limits (swarm has no cpuset), the producers' budget split
// between their services, and the refusal of a budget no node can hold.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import { checkSwarmFit, engineEnforcement, podShareOf, swarmLimits } from '../src/runtime/resource-limits.ts';
import { observerSpecs, producerSpec } from '../src/runtime/swarm/specs.ts';
import { GiB, limitsOf, plan, specContext } from './swarm-fixtures.ts';

const ctx = specContext('20261207T000000Z-abcd', ['c==1']);

describe('swarm resource limits', () => {
  it('swarmLimits: cores → NanoCPUs, memory → MemoryBytes, no cpuset; nothing for no budget', () => {
    const cases: [Parameters<typeof swarmLimits>[0], ReturnType<typeof swarmLimits>][] = [
      [null, {}],
      [{ cpus: null, cpuset: null, memoryBytes: null }, {}],
      [
        { cpus: 0.45, cpuset: '1', memoryBytes: 4 * GiB },
        { NanoCPUs: 450_000_000, MemoryBytes: 4 * GiB },
      ],
      [{ cpus: 1.5, cpuset: null, memoryBytes: null }, { NanoCPUs: 1_500_000_000 }],
    ];
    for (const [r, want] of cases) assert.deepEqual(swarmLimits(r), want, JSON.stringify(r));
  });

  it('each observer service carries its own component budget', () => {
    const specs = observerSpecs(ctx, [], { withNodeExporter: false });
    const byName = new Map(specs.map((s) => [String(s.Name).split('-').pop(), limitsOf(s)]));
    assert.equal(byName.get('collector')?.NanoCPUs, Math.round(plan.collector.cpus! * 1e9));
    assert.equal(byName.get('prometheus')?.NanoCPUs, Math.round(plan.prometheus.cpus! * 1e9));
    assert.equal(byName.get('prometheus')?.MemoryBytes, plan.prometheus.memoryBytes);
    assert.equal(byName.get('sd'), undefined, 'the sd service has no budget of its own');
  });

  it('the producers share one budget: N producer services each get 1/N of it, together no more than it', () => {
    for (const n of [1, 2, 4, 7]) {
      const specs = Array.from({ length: n }, (_, i) =>
        producerSpec(ctx, `producer-${i}`, ['serve'], ['node.id==x'], n),
      );
      const cpus = specs.map((s) => limitsOf(s)?.NanoCPUs ?? 0);
      const total = cpus.reduce((a, b) => a + b, 0) / 1e9;
      assert.ok(total <= plan.producers.cpus! + 0.001 * n, `${n} producers: ${total} cores in all`);
      assert.ok(total >= plan.producers.cpus! - 0.001 * n, `${n} producers: ${total} cores in all`);
      for (const s of specs)
        assert.ok((limitsOf(s)?.MemoryBytes ?? 0) <= plan.producers.memoryBytes! / n + 1, 'memory split too');
    }
  });

  it('checkSwarmFit refuses a budget no usable node can hold, naming the component and the largest node', () => {
    const nodes = [
      { name: 'a', usable: true, cores: 2, memoryBytes: 8 * GiB },
      { name: 'b', usable: false, cores: 16, memoryBytes: 64 * GiB },
    ];
    checkSwarmFit(plan, nodes); // the default plan fits a 2-core node
    const big = { ...plan, collector: { ...plan.collector, cpus: 3 } };
    assert.throws(
      () => checkSwarmFit(big, nodes),
      (e) => isLabError(e) && /collector=3 cores.*largest: 2/.test(e.message),
    );
    const fat = { ...plan, prometheus: { ...plan.prometheus, memoryBytes: 12 * GiB } };
    assert.throws(
      () => checkSwarmFit(fat, nodes),
      (e) => isLabError(e) && /--memory: prometheus=.*no swarm node has that much/.test(e.message),
    );
    // The lab runs on the host, not as a task: its budget is never a swarm node's to hold.
    checkSwarmFit({ ...plan, lab: { ...plan.lab, cpus: 64 } }, nodes);
  });

  it('enforcement on swarm: cpuset unenforced, cores and memory by swarm; the lab by nobody', () => {
    const e = engineEnforcement('swarm', plan);
    assert.equal(e.collector.enforcedBy, 'swarm');
    assert.match(e.collector.note ?? '', /cpuset .* unenforced/);
    assert.equal(e.lab.enforcedBy, 'unenforced');
  });
});

describe('podShareOf: a producer container CPU in proportion to its pods (docker fleet)', () => {
  const budget = { cpus: 0.8, cpuset: '0', memoryBytes: 4 * GiB };
  const cases: [string, number[], number[]][] = [
    ['60 pods at 50 per producer (the default burst): 50 + 10', [50, 10], [0.666, 0.133]],
    ['even fleet', [50, 50], [0.4, 0.4]],
    ['one producer', [7], [0.8]],
  ];
  for (const [name, pods, cpus] of cases)
    it(name, () => {
      const shares = pods.map((_, i) => podShareOf(budget, pods, i));
      assert.deepEqual(
        shares.map((s) => s.cpus),
        cpus,
      );
      assert.ok(
        shares.reduce((a, s) => a + s.cpus!, 0) <= budget.cpus + 1e-9,
        'shares sum within the budget',
      );
      for (const s of shares) assert.equal(s.memoryBytes, Math.floor(budget.memoryBytes / pods.length));
    });
  it('no CPU budget: nothing to split', () =>
    assert.equal(podShareOf({ cpus: null, cpuset: null, memoryBytes: null }, [3, 1], 0).cpus, null));
});
