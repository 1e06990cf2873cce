// Integration (#29): the drill's agents column on the process runtime — real Prometheus in agent mode per
// producer host remote-writing to the real central Prometheus, real producers. The three shipped scenarios,
// CI-sized through their own parameters and fields (12 s outages, 1 s scrapes, the steady profile: the open's
// bodies at 1 s scrapes outran the central store's ingest on the loaded 2-core machine, 2026-12-08 03:45 UTC,
// load average 25, and every later cell inherited the backlog), run one after the other on ONE stack
// (each mode on its own would bring up its own): the partition first (it heals), then the central store's
// outage (it comes back), then the kill (for good). Each cell's outcome is asserted, plus the scenario's own
// expectations where the shared stack does not change their meaning.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { type Cell, checkExpectations } from '../src/drill/grid.ts';
import { withStack } from '../src/drill/harness.ts';
import type { ModeOutcome } from '../src/drill/modes/types.ts';
import { MODES, stackExtra } from '../src/drill/run.ts';
import { parseScenario, type Scenario } from '../src/drill/scenario.ts';
import { processRuntimeFactory } from '../src/runtime/process/runtime.ts';
import { alive, assertBuilt, ROOT, scratchTmp } from './cli-helpers.ts';

const { tmp } = scratchTmp('pushpull-lab-drill-agents-int-');

/** A shipped scenario with CI-sized windows: its own params and fields changed, then validated as usual. */
function ciSized(name: string, params: Record<string, string>, fields: Record<string, unknown>): Scenario {
  const doc = parse(readFileSync(join(ROOT, 'lab', 'scenarios', `${name}.yml`), 'utf8')) as Record<
    string,
    unknown
  >;
  Object.assign(doc, { scrapeInterval: '1s', warmup: '3s', profile: 'steady', ...fields });
  doc.params = { ...(doc.params as object), ...params };
  return parseScenario(stringify(doc), `${name}.yml (CI-sized)`);
}

const partition = ciSized('pull-agent-partition', { outage: '12s', catchUp: '30s' }, { observe: '16s' });
const central = ciSized('central-store-down', { outage: '12s', catchUp: '30s' }, { observe: '16s' });
// On the shared stack its pods have run two cells before the kill, so the shipped "≥ 50% lost" (of a fresh
// stack's run, killed at the peak) does not apply; the loss is asserted below against the ledgers instead.
const dies = ciSized('pull-agent-dies', {}, { observe: '10s', expect: [{ column: 'agents', never: true }] });

/** This file's children: they carry its TMPDIR (their work dirs live there). */
function ourPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const env = readFileSync(`/proc/${d}/environ`, 'latin1').split('\0');
        return env.includes(`TMPDIR=${tmp}`) && env.some((e) => e.startsWith('PUSHPULL_LAB_RUN=drill-'));
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter(alive);
}

const sum = (cs: readonly { orders: number }[] | undefined) => (cs ?? []).reduce((a, c) => a + c.orders, 0);

function only(o: ModeOutcome | undefined): Cell {
  assert.ok(o, 'measured');
  assert.equal(o.cells.length, 1, JSON.stringify(o.cells));
  const c = o.cells[0]!;
  assert.equal(c.column, 'agents');
  assert.equal(c.notApplied, undefined, c.signal);
  // Causes sum to the loss exactly.
  if ((c.lostCount ?? 0) > 0) assert.equal(sum(c.causes), c.lostCount, JSON.stringify(c.causes));
  return c;
}

function held(s: Scenario, o: ModeOutcome | undefined): void {
  const checks = checkExpectations(s, o?.cells ?? [], o?.metrics ?? {});
  assert.ok(checks.length > 0);
  for (const e of checks) assert.ok(e.ok, `${s.name}: ${e.text}`);
}

describe("the drill's agents column (integration, one process stack)", { timeout: 180_000 }, () => {
  const out = new Map<string, ModeOutcome>();
  const log: string[] = [];
  let started = 0;

  before(async () => {
    assertBuilt();
    process.env.TMPDIR = tmp;
    started = Date.now();
    const ctl = new AbortController();
    const deps = {
      root: ROOT,
      factory: processRuntimeFactory(ROOT),
      log: (m: string) => log.push(`${((Date.now() - started) / 1000).toFixed(1)} ${m}`),
      signal: ctl.signal,
    };
    // The partition's stack: pull through agents, their remote write through the lab's relays.
    await withStack(
      deps,
      partition,
      partition.variants[0]!,
      stackExtra(MODES[partition.mode], partition),
      async (st) => {
        for (const s of [partition, central, dies])
          out.set(s.name, await MODES[s.mode].run({ ...st, scenario: s, variant: s.variants[0]! }));
      },
    );
    log.push(`wall ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
  after(() => {
    assert.deepEqual(ourPids(), [], 'no drill child left running');
    assert.deepEqual(
      readdirSync(tmp).filter((d) => d.startsWith('pushpull-lab-')),
      [],
      'no work dir left',
    );
  });

  it('partition: only the cut agent falls behind (its scrapes go on), it retries, then catches up: nothing lost', () => {
    const o = out.get(partition.name);
    const c = only(o);
    const m = o!.metrics;
    held(partition, o);
    assert.ok((m.samplesRetried ?? 0) > 0, `refused connections are retried: ${c.signal}`);
    assert.ok((m.maxRemoteWriteLagS ?? 0) >= 8, `the cut agent's queue fell behind: ${m.maxRemoteWriteLagS}`);
    assert.ok(
      (m.otherAgentsMaxLagS ?? 99) < (m.maxRemoteWriteLagS ?? 0) - 4,
      `the other agent kept writing (lag ${m.otherAgentsMaxLagS} s vs ${m.maxRemoteWriteLagS} s)`,
    );
    assert.ok((m.caughtUpAfterS ?? -1) >= 0, c.signal);
    assert.match(c.signal, /buffered in the WAL, caught up [\d.]+ s after the heal/);
    // The cut's scrapes happened (scrapes intact) and arrived late: the central store holds them.
    assert.ok((m.outageScrapesStoredPct ?? 0) >= 80, `outage scrapes stored: ${m.outageScrapesStoredPct}%`);
    assert.equal(c.lostCount, 0, c.detail);
  });

  it('central store down: the store stops answering at once, the agents buffer, then catch up: nothing lost', () => {
    const o = out.get(central.name);
    const c = only(o);
    const m = o!.metrics;
    held(central, o);
    assert.ok((m.centralUnansweredAfterS ?? -1) >= 0 && (m.centralUnansweredAfterS ?? 99) <= 3, c.signal);
    assert.ok((m.maxRemoteWriteLagS ?? 0) >= 8, `the queues fell behind: ${m.maxRemoteWriteLagS}`);
    assert.match(c.signal, /buffered in the WAL, caught up [\d.]+ s after the store was back/);
    assert.equal((m.samplesFailed ?? 0) + (m.samplesDropped ?? 0), 0, 'nothing failed or dropped');
    assert.ok((m.outageScrapesStoredPct ?? 0) >= 80, `outage scrapes stored: ${m.outageScrapesStoredPct}%`);
    assert.equal(c.lostCount, 0, c.detail);
  });

  it("agent dies: nothing detects it; its host's pods lose what came after the kill (and its unsent queue)", () => {
    const o = out.get(dies.name);
    const c = only(o);
    const m = o!.metrics;
    held(dies, o);
    assert.equal(c.detectedAfterS, null, c.signal);
    assert.match(c.signal, /^nothing detected it in 8\.0 s: at the central store its pods' up stayed 1/);
    assert.equal(m.instanceDownAfterS, -1);
    assert.equal(m.upGoneAfterS, -1, "the pods' up stays in the central store's instant queries");
    assert.ok((m.agentMetricsGoneAfterS ?? -1) >= 0, 'the lab saw the agent gone');
    assert.ok((m.staleUpAfterS ?? -1) >= 0, 'its pods’ newest up got older than 3 intervals');
    // Steady (2.9 orders/s per pod) for ~8 s on 2 pods: every order after the kill, nothing scraped them.
    assert.ok((m.lostAfterKill ?? 0) > 20, `lost after the kill: ${m.lostAfterKill}`);
    assert.equal((m.lostBeforeKill ?? 0) + (m.lostAfterKill ?? 0), c.lostCount);
  });

  it('took one stack for the three cells', () => {
    assert.ok(
      log.some((l) => /^wall /.test(l)),
      log.join('\n'),
    );
    console.log(`drill-pull-agents: ${log.at(-1)}`);
  });
});
