// #27 integration, the drill's push-agent column on the process runtime (real Prometheus, central collector,
// producers and one collector agent per producer host): the three cells on ONE stack, each on its own host —
// a partition of host 0's agent from the central collector, host 1's agent killed, then the central collector
// stopped and restarted (last: it restarts empty). Short outages through the scenarios' own params, and a
// small forward queue and retry budget for the agents, so a 6 s outage shows the drops a 40 s one would.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Cell, cellText } from '../src/drill/grid.ts';
import { withStack } from '../src/drill/harness.ts';
import { agentDiesMode, agentPartitionMode, centralDownMode } from '../src/drill/modes/push-agent.ts';
import type { ModeOutcome } from '../src/drill/modes/types.ts';
import { parseScenario, type Scenario } from '../src/drill/scenario.ts';
import { processRuntimeFactory } from '../src/runtime/process/runtime.ts';
import { assertBuilt, ROOT, scratchTmp } from './cli-helpers.ts';

const { tmp } = scratchTmp('pushpull-lab-drill-agent-int-');

const scenario = (mode: string, params: string, observe = '30s'): Scenario =>
  parseScenario(
    `
name: ${mode}-int
title: ${mode}
mode: ${mode}
description: d
fleet: { pods: 30, podsPerProducer: 10 }
scrapeInterval: 1s
warmup: 2s
observe: ${observe}
push: { mode: per-event, transport: udp, heartbeat: 2s }
variants:
  - { name: agent, column: push-agent }
params: { ${params} }
`,
    `${mode}-int.yml`,
  );

// The stack's agents get the central-down scenario's forward knobs (collectorFlags: every agent).
const KNOBS = 'forwardQueuePoints: 400, forwardMaxElapsed: 2s';
const partition = scenario('agent-partition', `host: 0, outage: 6s, ${KNOBS}`);
const dies = scenario('agent-dies', 'host: 1', '3s');
const central = scenario('central-down', `host: 2, outage: 6s, ${KNOBS}`);

const causeSum = (c: Cell) => (c.causes ?? []).reduce((a, x) => a + x.orders, 0);
const causeOf = (c: Cell, name: string) => c.causes?.find((x) => x.cause === name)?.orders ?? 0;
const show = (o: ModeOutcome) => JSON.stringify({ cell: o.cells[0], metrics: o.metrics });

describe('drill push-agent column on one process stack (integration)', { timeout: 180_000 }, () => {
  const out: Record<string, ModeOutcome> = {};
  let wallS = 0;
  before(async () => {
    assertBuilt();
    process.env.TMPDIR = tmp;
    const t0 = Date.now();
    const ctl = new AbortController();
    const deps = { root: ROOT, factory: processRuntimeFactory(ROOT), log: () => {}, signal: ctl.signal };
    const flags = centralDownMode.collectorFlags!(central);
    await withStack(deps, central, central.variants[0]!, { collectorFlags: flags }, async (st) => {
      out.partition = await agentPartitionMode.run({ ...st, scenario: partition });
      out.dies = await agentDiesMode.run({ ...st, scenario: dies });
      out.central = await centralDownMode.run({ ...st, scenario: central });
    });
    wallS = (Date.now() - t0) / 1000;
  });
  after(() => {
    console.log(`drill push-agent cells: ${wallS.toFixed(1)} s for one stack and three cells`);
    for (const [k, o] of Object.entries(out))
      console.log(`  ${k}: ${o.cells.map(cellText).join(' | ')}\n    ${JSON.stringify(o.metrics)}`);
    assert.deepEqual(
      readdirSync(tmp).filter((d) => d.startsWith('pushpull-lab-')),
      [],
      'no work dir left',
    );
  });

  it('partition agent ↔ central: the agent saw it, queued, dropped after its retries, caught up; causes sum', () => {
    const o = out.partition!;
    const c = o.cells[0]!;
    assert.equal(c.column, 'push-agent', show(o));
    assert.equal(c.notApplied, undefined, show(o));
    assert.ok(c.detectedAfterS !== null && c.detectedAfterS <= 4, show(o));
    assert.ok(o.metrics.agentQueuePeakPoints! > 0, show(o));
    assert.ok(o.metrics.caughtUpAfterS! >= 0, `caught up after the heal: ${show(o)}`);
    assert.ok(c.lostCount! > 0, show(o));
    assert.ok(causeOf(c, 'agent-forward-failed') > 0, show(o));
    assert.equal(causeSum(c), c.lostCount, show(o));
    assert.equal(causeOf(c, 'unexplained'), 0, show(o));
  });

  it('agent dies: the lab saw it within 3 s; what its last reading held is agent-died; causes sum', () => {
    const o = out.dies!;
    const c = o.cells[0]!;
    assert.ok(c.detectedAfterS !== null && c.detectedAfterS <= 3, show(o));
    assert.ok(o.metrics.agentHeldAtKill! > 0, show(o));
    assert.ok(c.lostCount! > 0, show(o));
    assert.equal(causeOf(c, 'agent-died'), Math.min(o.metrics.agentHeldAtKill!, c.lostCount!), show(o));
    assert.equal(causeSum(c), c.lostCount, show(o));
  });

  it('central down and restarted: read before the stop, the agent queued then dropped, counted; causes sum', () => {
    const o = out.central!;
    const c = o.cells[0]!;
    assert.ok(c.detectedAfterS !== null && c.detectedAfterS <= 4, show(o));
    assert.ok(o.metrics.centralCountedBeforeStop! > 0, show(o));
    assert.ok(o.metrics.agentQueuePeakPoints! > 0, show(o));
    const drops = causeOf(c, 'agent-queue-full') + causeOf(c, 'agent-forward-failed');
    assert.ok(drops > 0, show(o));
    assert.equal(causeSum(c), c.lostCount, show(o));
    assert.equal(causeOf(c, 'unexplained'), 0, show(o));
    assert.ok(o.metrics.caughtUpAfterS! >= 0, show(o));
  });
});
