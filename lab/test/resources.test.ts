import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import {
  checkPlan,
  defaultPlan,
  parseCpuList,
  parseMemory,
  RESOURCE_COMPONENTS,
  resolvePlan,
} from '../src/core/resources.ts';

const GiB = 2 ** 30;
const host2 = { cores: 2, memoryBytes: 24 * GiB };

describe('resource plan', () => {
  it('the default plan on 2 cores: producers + lab on core 0, the receivers on core 1, equal paths', () => {
    const p = defaultPlan(host2);
    assert.deepEqual(
      [p.producers.cpuset, p.lab.cpuset, p.prometheus.cpuset, p.collector.cpuset],
      ['0', '0', '1', '1'],
    );
    // #24: push's pipeline is the collector and its own store; together they get what pull's Prometheus gets.
    const push = (k: 'cpus' | 'memoryBytes') => (p.collector[k] ?? 0) + (p['prometheus-push'][k] ?? 0);
    assert.equal(Math.round(push('cpus') * 100) / 100, p.prometheus.cpus, 'each path gets the same CPU');
    assert.equal(push('memoryBytes'), p.prometheus.memoryBytes, 'and the same memory');
    assert.equal(p.producers.cpus, 0.8);
    assert.equal(p.collector.cpus, 0.25);
    assert.equal(defaultPlan(host2, 'shared').collector.cpus, 0.45, 'shared store: the plan before #24');
  });

  const hosts = [
    { cores: 1, memoryBytes: 4 * GiB },
    { cores: 2, memoryBytes: 24 * GiB },
    { cores: 3, memoryBytes: 8 * GiB },
    { cores: 8, memoryBytes: 64 * GiB },
  ];
  for (const h of hosts)
    it(`the default plan fits the machine it was made for (${h.cores} cores, ${h.memoryBytes / GiB} GiB)`, () => {
      const p = defaultPlan(h);
      assert.doesNotThrow(() => checkPlan(p, h));
      for (const c of RESOURCE_COMPONENTS) assert.ok((p[c].cpus ?? 0) > 0, `${c} has a quota`);
    });

  it('overrides only what the flags name; off drops a dimension', () => {
    const p = resolvePlan({ cpus: 'collector=0.2', memory: 'off' }, host2);
    assert.equal(p.collector.cpus, 0.2);
    assert.equal(p.prometheus.cpus, 0.45);
    for (const c of RESOURCE_COMPONENTS) assert.equal(p[c].memoryBytes, null);
    const q = resolvePlan({ cpus: 'off', cpuset: 'off' }, host2);
    for (const c of RESOURCE_COMPONENTS) assert.deepEqual([q[c].cpus, q[c].cpuset], [null, null]);
  });

  const usage: [string, Parameters<typeof resolvePlan>[0], RegExp][] = [
    ['unknown component', { cpus: 'grafana=1' }, /unknown component "grafana"/],
    ['malformed pair', { cpus: 'collector' }, /"collector" is not COMPONENT=VALUE/],
    ['malformed cores', { cpus: 'collector=half' }, /"half" is not a number of cores/],
    [
      'more cores than the machine',
      { cpus: 'collector=3' },
      /3 cores oversubscribes this machine \(2 cores\)/,
    ],
    ['a core that does not exist', { cpuset: 'collector=2' }, /core 2 does not exist/],
    ['malformed cpuset', { cpuset: 'collector=a-b' }, /"a-b" is not a core list/],
    ['malformed memory', { memory: 'lab=lots' }, /"lots" is not a size/],
    [
      'a cpuset oversubscribed',
      { cpus: 'collector=0.9' },
      /prometheus 0\.45 \+ prometheus-push 0\.2 \+ collector 0\.9 .* oversubscribes cpuset 1/,
    ],
    ['a quota over its cpuset', { cpus: 'producers=1.5' }, /producers=1\.5 is more than its cpuset 0 holds/],
    [
      'the machine oversubscribed',
      { cpus: 'producers=1,lab=1', cpuset: 'off' },
      /the quotas add up to 3 cores, more than this machine.s 2/,
    ],
    [
      'memory oversubscribed',
      { memory: 'producers=30GiB' },
      /memory limits add up to .* more than this machine's 24GiB/,
    ],
  ];
  for (const [what, flags, re] of usage)
    it(`usage error (LAB_ERR_FLAG_VALUE): ${what}`, () => {
      assert.throws(
        () => resolvePlan(flags, host2),
        (e: unknown) => isLabError(e, 'LAB_ERR_FLAG_VALUE') && re.test((e as Error).message),
      );
    });

  const lists: [string, number[] | null][] = [
    ['0', [0]],
    ['0-2', [0, 1, 2]],
    ['0,2-3', [0, 2, 3]],
    ['3-1', null],
    ['x', null],
  ];
  for (const [text, want] of lists)
    it(`cpu list "${text}"`, () => assert.deepEqual(parseCpuList(text), want));

  const sizes: [string, number | null][] = [
    ['512MiB', 512 * 2 ** 20],
    ['2g', 2 * GiB],
    ['1.5GiB', 1.5 * GiB],
    ['65536', 65536],
    ['0', null],
    ['big', null],
  ];
  for (const [text, want] of sizes) it(`size "${text}"`, () => assert.equal(parseMemory(text), want));
});

describe('report: CPU budgets as reference lines', () => {
  it('one line per distinct budget, naming the components on it; none without a plan', async () => {
    const { budgetLines } = await import('../src/report/charts.ts');
    const plan = defaultPlan(host2, 'shared');
    const lines = budgetLines({ config: { resources: plan } } as unknown as Parameters<
      typeof budgetLines
    >[0]);
    assert.deepEqual(
      lines.find((l) => l.y === 0.45),
      { y: 0.45, label: 'budget: prometheus, collector 0.45' },
    );
    assert.ok(lines.some((l) => l.y === 0.8 && /producers/.test(l.label)));
    assert.deepEqual(budgetLines({ config: {} } as unknown as Parameters<typeof budgetLines>[0]), []);
  });
});
