// #27 end to end on the engine runtimes: a small `burst --push-topology agent` (6 pods, 3 per producer, 15 s at
// 1 s scrapes). Docker: one agent container per producer container, in its network namespace. Swarm (a
// one-node swarm on this machine, initialised with `docker swarm init --advertise-addr 127.0.0.1` when none
// is active and left again afterwards only if this test created it): one agent per producer node — one for
// the two producers of the one node. On both: the path reconciles, its causes sum exactly to its loss, and the
// agents' CPU is push's: counted in the collector's group (docker) and limited to their share of push's budget.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunRecord } from '../src/core/record.ts';
import type { ResourceComponent, ResourcePlan } from '../src/core/resources.ts';
import { pushBudgets } from '../src/runtime/push-agent-args.ts';
import { airgapImages, assertBuilt, runCliProcess, scopeFilter, scratchTmp } from './cli-helpers.ts';
import { docker, lines, oneNodeSwarm } from './one-node-swarm.ts';

const { base, tmp } = scratchTmp('pushpull-lab-push-agent-e2e-');

/** A small agent-tier burst on `runtime`, run to completion: its record. */
async function agentBurst(runtime: 'docker' | 'swarm'): Promise<RunRecord> {
  const out = join(base, runtime);
  const res = await runCliProcess(
    [
      ...['burst', '--runtime', runtime, '--pods', '6', '--pods-per-producer', '3'],
      ...['--duration', '15', '--scrape-interval', '1s', '--push-topology', 'agent', '--out', out],
    ],
    { TMPDIR: tmp },
    240_000,
  );
  assert.equal(res.code, 0, `stdout:\n${res.stdout}\nstderr:\n${res.stderr}`);
  const r = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as RunRecord;
  assert.equal(r.environment.runtime, runtime);
  assert.equal(r.error, null);
  return r;
}

/** The push path reconciles and its causes sum exactly to its loss; the agents received and forwarded. */
function assertAgentPath(r: RunRecord): void {
  const push = r.paths.push;
  assert.equal(r.config.pushTopology, 'agent');
  assert.ok(push.emitted > 1000, `a burst was pushed (${push.emitted} orders)`);
  assert.equal(push.emitted, push.delivered + push.lost);
  assert.equal(
    (push.causes ?? []).reduce((a, c) => a + c.orders, 0),
    push.lost,
    `causes sum exactly: ${JSON.stringify(push.causes)}`,
  );
  for (const a of r.pushAgents!.readings) {
    assert.ok(a.alive && a.orders.received > 0, `${a.name} received orders: ${JSON.stringify(a.orders)}`);
    assert.ok(a.orders.forwarded > 0, `${a.name} forwarded`);
  }
  assert.ok(push.delivered > 0, 'the central collector counted what the agents forwarded');
}

/** Each agent's measured cores within its share of push's budget (CFS enforces it; 0.02 core of slack). */
function assertAgentsInBudget(r: RunRecord, agents: number): void {
  const plan = r.config.resources as ResourcePlan;
  const limit = pushBudgets(plan.collector, agents).agent.cpus!;
  for (const c of r.pushAgents!.cost) {
    assert.ok(c.cpuCores !== null && c.cpuCores > 0, `${c.name}'s CPU was measured: ${JSON.stringify(c)}`);
    assert.ok(c.cpuCores <= limit + 0.02, `${c.name} used ${c.cpuCores} cores, its limit ${limit}`);
  }
}

describe('burst --push-topology agent on the engine runtimes', { timeout: 600_000 }, () => {
  before(async () => {
    assertBuilt();
    await airgapImages();
  });

  it('docker: one agent container per producer container; causes sum; the agents are in push’s budget', async () => {
    const r = await agentBurst('docker');
    assertAgentPath(r);
    assert.equal(r.ledgers.length, 2, 'two producer containers');
    assert.deepEqual(
      r.pushAgents!.readings.map((a) => a.name),
      ['agent-0', 'agent-1'],
      'one agent per producer container',
    );
    assertAgentsInBudget(r, 2);
    // The agents' cgroups are summed in push's group (the collector's), not the generator's.
    const s = [...r.series].reverse().find((x) => x.resources?.collector && x.cpu?.['agent-1'] !== undefined);
    assert.ok(s, 'a sample with the collector group and the agents');
    const agents = s.cpu!['agent-0']! + s.cpu!['agent-1']!;
    const parts = (s.cpu!.collector ?? 0) + agents;
    assert.ok(agents > 0.1, `the agents used CPU (${agents} s)`);
    assert.ok(
      Math.abs(s.resources!.collector!.cpuSeconds! - parts) < 0.05,
      `collector group ${s.resources!.collector!.cpuSeconds} s = central + agents ${parts} s`,
    );
    for (const c of r.pushAgents!.cost) assert.ok((c.rssPeakBytes ?? 0) > 0, `${c.name}'s RSS was read`);
    assert.deepEqual(lines(docker('ps', '-a', '--filter', scopeFilter({ runId: r.runId }), '-q')), []);
  });

  describe('swarm (one node)', () => {
    const swarm = oneNodeSwarm();
    before(() => swarm.join());
    after(() => swarm.leave());

    it('one agent per producer node; causes sum; its limits are carved out of push’s budget', async () => {
      const r = await agentBurst('swarm');
      assertAgentPath(r);
      assert.equal(r.ledgers.length, 2, 'two producer services');
      const node = r.environment.nodes?.[0];
      assert.ok(node?.tasks, JSON.stringify(r.environment.nodes));
      assert.equal(node.producers, 2);
      assert.deepEqual(
        node.tasks.filter((t) => t.startsWith('agent-')),
        ['agent-0'],
        'one agent for the node’s two producers',
      );
      assert.deepEqual(
        r.pushAgents!.readings.map((a) => a.name),
        ['agent-0'],
      );
      assertAgentsInBudget(r, 1);
      // The node's declared limits add up to the plan: the agent's share comes out of push's, not on top.
      const plan = r.config.resources as ResourcePlan;
      const components = new Set<ResourceComponent>();
      for (const t of node.tasks)
        if (/^producer-\d+$/.test(t)) components.add('producers');
        else if (/^agent-\d+$/.test(t)) components.add('collector');
        else if (t in plan) components.add(t as ResourceComponent);
      const planned = [...components].reduce((a, c) => a + (plan[c].cpus ?? 0), 0);
      assert.ok(
        Math.abs((node.budget?.cpus ?? 0) - planned) < 0.01,
        `declared ${node.budget?.cpus} cores on the node, the plan ${planned}`,
      );
      assert.deepEqual(lines(docker('service', 'ls', '--filter', scopeFilter({ runId: r.runId }), '-q')), []);
    });
  });
});
