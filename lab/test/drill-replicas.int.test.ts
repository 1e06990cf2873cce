// Integration (#28): the drill's `2 replicas` column on the process runtime — two real Prometheus replicas scraping
// the same pods and each other (`prometheus-peer`). Both cells, CI-sized and side by side (each cell's accounting
// quiesces its producers, so they cannot share one stack): replica 2 SIGKILLed at the peak (the survivor pages
// PrometheusPeerDown), and replica 2 SIGSTOPped for 10 s — shorter than the alert's `for`, so the survivor sees
// its peer's `up` go to 0 and nothing pages. Each: the merged view lost nothing the survivor stored, the faulted
// replica's gap is counted, every view's causes sum exactly to its loss.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Cell, ScenarioResult, ViewAccount } from '../src/drill/grid.ts';
import { findScenario, runScenario } from '../src/drill/run.ts';
import { processRuntimeFactory } from '../src/runtime/process/runtime.ts';
import { assertBuilt, drillPidsUnder, ROOT, scratchTmp } from './cli-helpers.ts';

const { base, tmp } = scratchTmp('pushpull-lab-drill-pair-int-');
const scenarios = join(base, 'scenarios');
mkdirSync(scenarios);

const common = `
fleet: { pods: 4, podsPerProducer: 2 }
scrapeInterval: 2s
profile: market-open
warmup: 4s
push: { mode: off, heartbeat: off }
variants:
  - { name: pair, column: pull-pair }
`;
writeFileSync(
  join(scenarios, 'dies.yml'),
  `name: dies\ntitle: dies\nmode: replica-dies\ndescription: d\nobserve: 48s\n${common}faults:\n  - { at: 1s, action: kill, replica: 2 }\nexpect:\n  - { column: pull-pair, detectedWithin: 45s, lostPctAtMost: 0 }\n`,
);
writeFileSync(
  join(scenarios, 'paused.yml'),
  `name: paused\ntitle: paused\nmode: replica-paused\ndescription: d\nobserve: 20s\n${common}faults:\n  - { at: 1s, action: pause, replica: 2 }\n  - { at: 11s, action: resume, replica: 2 }\nexpect:\n  - { column: pull-pair, never: true, lostPctAtMost: 0 }\n`,
);

const drillPids = () => drillPidsUnder(tmp);

const measure = (name: string): Promise<ScenarioResult> =>
  runScenario(
    { root: ROOT, factory: processRuntimeFactory(ROOT), log: () => {}, signal: new AbortController().signal },
    findScenario(scenarios, name),
    'process',
  );

const theCell = (r: ScenarioResult): Cell => {
  assert.equal(r.error, null, `scenario ${r.name} ran: ${r.error}`);
  const c = r.cells.find((x) => x.column === 'pull-pair' && x.variant === 'pair');
  assert.ok(c, `the pull-pair cell of ${r.name}: ${JSON.stringify(r.cells)}`);
  return c;
};

const view = (c: Cell, prefix: string): ViewAccount => {
  const a = c.accounts?.find((x) => x.view.startsWith(prefix));
  assert.ok(a, `${prefix} account: ${JSON.stringify(c.accounts)}`);
  return a;
};

/** Every view against the same ledgers; causes sum exactly; the merged view holds all the survivor stored. */
function assertAccounts(c: Cell): { merged: ViewAccount; survivor: ViewAccount; victim: ViewAccount } {
  const merged = view(c, 'merged');
  const survivor = view(c, 'replica 1 (survivor)');
  const victim = view(c, 'replica 2');
  assert.ok(merged.emitted > 500, `a burst happened (${merged.emitted} orders)`);
  for (const a of [merged, survivor, victim]) {
    assert.equal(a.emitted, merged.emitted, `${a.view}: the same ledgers`);
    assert.equal(a.stored + a.lost, a.emitted, `${a.view}: stored + lost = generated`);
    assert.equal(
      a.causes.reduce((s, k) => s + k.orders, 0),
      a.lost,
      `${a.view}: causes sum exactly to the loss (${JSON.stringify(a.causes)})`,
    );
  }
  assert.ok(merged.stored >= survivor.stored, `merged ${merged.stored} >= survivor ${survivor.stored}`);
  assert.equal(survivor.lost, 0, `the survivor stored every order: ${JSON.stringify(survivor.causes)}`);
  assert.equal(merged.lost, 0, 'so the merged view lost nothing');
  assert.equal(c.lostCount, merged.lost, "the cell's loss is the merged view's");
  return { merged, survivor, victim };
}

describe('the drill’s 2 replicas column on the process runtime (integration)', { timeout: 170_000 }, () => {
  let dies: ScenarioResult;
  let paused: ScenarioResult;
  let wallS = 0;

  before(async () => {
    assertBuilt();
    process.env.TMPDIR = tmp; // work dirs land here, so the test can see they are removed
    const t0 = Date.now();
    [dies, paused] = await Promise.all([measure('dies'), measure('paused')]);
    wallS = (Date.now() - t0) / 1000;
  });
  after(() => {
    assert.deepEqual(drillPids(), [], 'no drill child left running (a paused replica included)');
    assert.deepEqual(
      readdirSync(tmp).filter((d) => d.startsWith('pushpull-lab-')),
      [],
      'no work dir left',
    );
  });

  it('dies: the survivor pages PrometheusPeerDown after its peer’s up went to 0; the dead replica’s gap is counted', () => {
    const c = theCell(dies);
    assert.ok(c.detectedAfterS !== null && c.detectedAfterS <= 45, `paged: ${c.signal}`);
    const upZero = dies.metrics.peerUpZeroAfterS!;
    assert.ok(upZero >= 0 && upZero < c.detectedAfterS, `up 0 after ${upZero} s, before the page`);
    assert.match(
      c.signal,
      /^PrometheusPeerDown fired on replica 1 \(up\{job="prometheus-peer"\} == 0 on replica 1 after/,
    );
    assert.ok(
      dies.metrics.faultAfterOpenS! >= 1.8,
      `killed in the peak, ${dies.metrics.faultAfterOpenS} s after the open`,
    );
    const { victim, merged } = assertAccounts(c);
    assert.ok(victim.lost > 0, 'the dead replica lost what came after its last scrape');
    assert.ok(victim.stored > 0 && victim.stored < merged.stored, 'it had stored some, not all');
    assert.ok(
      victim.causes.some((k) => k.cause === 'replica-died:after' && k.orders > 0),
      JSON.stringify(victim.causes),
    );
    assert.equal(victim.causes.find((k) => k.cause === 'unexplained')?.orders ?? 0, 0);
    assert.equal(dies.metrics.faultedReplicaLost, victim.lost);
    assert.ok(
      dies.expectations.every((e) => e.ok),
      JSON.stringify(dies.expectations),
    );
  });

  it('paused 10 s: up 0 on the survivor, no page (shorter than for: 30s); the scrapes it missed and the late orders are counted', () => {
    const c = theCell(paused);
    assert.equal(c.detectedAfterS, null, `nothing paged: ${c.signal}`);
    assert.match(
      c.signal,
      /up\{job="prometheus-peer"\} == 0 on replica 1 after [\d.]+ s; no PrometheusPeerDown in the 20 s window: nothing paged$/,
    );
    assert.ok(paused.metrics.peerUpZeroAfterS! >= 0 && paused.metrics.peerUpZeroAfterS! <= 8);
    assert.ok(paused.metrics.peerBackUpAfterResumeS! >= 0, 'the survivor saw it up again after the resume');
    const pauseS = paused.metrics.pauseS!;
    assert.ok(pauseS >= 9.5 && pauseS < 14, `paused ${pauseS} s`);
    // 4 pods every 2 s: ~20 scrapes over 10 s; the paused replica made at most the one in flight per pod.
    assert.ok(paused.metrics.missedScrapes! >= 12, `missed ${paused.metrics.missedScrapes} scrapes`);
    assert.ok(paused.metrics.ordersInGap! > 0, 'orders were generated while it was paused');
    const { victim } = assertAccounts(c);
    // Counters are cumulative: after the resume its totals caught up with the survivor's.
    assert.equal(victim.lost, 0, `the resumed replica caught up: ${JSON.stringify(victim.causes)}`);
    assert.ok(
      paused.expectations.every((e) => e.ok),
      JSON.stringify(paused.expectations),
    );
    console.log(`drill-replicas: both cells in ${wallS.toFixed(1)} s wall`);
  });
});
