// #29, the drill's agents column, pure parts: the scenarios of its three modes (validation, the column),
// when each signal first showed, the orders lost by cause (summing to the loss exactly), the cells' words,
// the grid and drill.html, and which runtimes run the modes.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isLabError } from '@pushpull/common';
import type { AgentSelf } from '../src/core/record-agents.ts';
import { AGENT_MODES, agentParams, agentScenarios } from '../src/drill/agents-scenario.ts';
import { type DrillRecord, GRID_COLUMNS, gridRows } from '../src/drill/grid.ts';
import {
  deadAgentCauses,
  deadAgentCell,
  type OutageFacts,
  outageCauses,
  outageCell,
  type PodAtCutoff,
} from '../src/drill/modes/agent-cells.ts';
import {
  detectedAfter,
  firstSignals,
  remoteWriteDelta,
  type Tick,
} from '../src/drill/modes/agent-signals.ts';
import { limitsOf } from '../src/drill/modes/pull-agents.ts';
import { metricWords, renderDrillHtml, seriesWords } from '../src/drill/report.ts';
import { loadScenarios, MODES, stackExtra } from '../src/drill/run.ts';
import { parseScenario } from '../src/drill/scenario.ts';
import { emptyAgentSelf } from '../src/probe/agents.ts';

const scenarioDir = join(dirname(fileURLToPath(import.meta.url)), '../scenarios');

const base = (mode: string, params: string, extra = '') => `
name: t
title: T
mode: ${mode}
description: d
fleet: { pods: 4, podsPerProducer: 2 }
observe: 50s
push: { mode: off }
variants:
  - { name: agents, column: agents }
params: ${params}
expect:
  - { column: agents, detectedWithin: 15s }
${extra}`;

describe('agents column: scenarios', () => {
  it('the shipped scenarios: one per agent mode, column agents, their defaults (40 s outage, at the peak)', () => {
    const all = loadScenarios(scenarioDir).filter((s) => AGENT_MODES.includes(s.mode));
    assert.deepEqual(
      all.map((s) => s.mode),
      [...AGENT_MODES],
    );
    for (const s of all) {
      assert.deepEqual(
        s.variants.map((v) => v.column),
        ['agents'],
      );
      assert.equal(s.profile, 'market-open');
      assert.ok(s.expect.length > 0);
    }
    const [down, dies, cut] = all.map(agentParams);
    assert.deepEqual(down, { atMs: 2000, outageMs: 40_000, catchUpMs: 60_000, agent: null });
    assert.deepEqual(dies, { atMs: 2000, outageMs: null, catchUpMs: 60_000, agent: 1 });
    assert.deepEqual(cut, { atMs: 2000, outageMs: 40_000, catchUpMs: 60_000, agent: 1 });
  });

  it('a shorter outage through the scenario’s own parameters', () => {
    const s = parseScenario(base('central-store-down', '{ outage: 12s, at: 1s }'), 'x.yml');
    assert.deepEqual(agentParams(s), { atMs: 1000, outageMs: 12_000, catchUpMs: 60_000, agent: null });
  });

  const bad: [string, string, RegExp][] = [
    [
      'the agents column on another mode',
      base('target-dies', '{}').replace('push: { mode: off }', 'push: { mode: off }'),
      /variants\[0\]\.column: column agents belongs to the agent modes/,
    ],
    [
      'an agent mode in another column',
      base('pull-agent-dies', '{ agent: 0 }').replace('column: agents }', 'column: pull }'),
      /variants\[0\]\.column: mode pull-agent-dies measures pull through per-host agents/,
    ],
    [
      'an agent that is not a host',
      base('pull-agent-dies', '{ agent: 2 }'),
      /params\.agent: 2 is not a producer host \(the fleet has 2: 0\.\.1\)/,
    ],
    [
      'an outage past the window',
      base('pull-agent-partition', '{ agent: 0, outage: 49s }'),
      /observe: 50s must outlast the fault \(at 2s \+ outage 49s\)/,
    ],
    [
      'an outage out of range',
      base('central-store-down', '{ outage: 0s }'),
      /params\.outage: "0s" is out of range/,
    ],
    ['a knob of another mode', base('pull-agent-dies', '{ outage: 10s }'), /params\.outage: unknown key/],
    [
      'a producer fault schedule',
      base('central-store-down', '{}', 'faults:\n  - { at: 0s, action: kill, producer: 1 }\n'),
      /faults: mode central-store-down takes its fault from params/,
    ],
  ];
  for (const [what, text, re] of bad)
    it(`rejects ${what}, naming the field`, () =>
      assert.throws(
        () => parseScenario(text, 'x.yml'),
        (e) => isLabError(e, 'LAB_ERR_SCENARIO') && re.test(e.message),
      ));

  it('the modes ask for pull through agents; only the partition for the agents’ relays', () => {
    const s = (mode: string, p: string) => parseScenario(base(mode, p), 'x.yml');
    assert.deepEqual(stackExtra(MODES['central-store-down'], s('central-store-down', '{}')), {
      pullTopology: 'agent',
    });
    assert.deepEqual(stackExtra(MODES['pull-agent-dies'], s('pull-agent-dies', '{}')), {
      pullTopology: 'agent',
    });
    assert.deepEqual(stackExtra(MODES['pull-agent-partition'], s('pull-agent-partition', '{}')), {
      pullTopology: 'agent',
      agentRelays: true,
    });
  });

  it('drill leaves them out (with a note) where the runtime cannot fail pull’s tier; scenario refuses', () => {
    const list = [
      { name: 'target-dies', mode: 'target-dies' as const },
      { name: 'central-store-down', mode: 'central-store-down' as const },
    ];
    const notes: string[] = [];
    assert.deepEqual(
      agentScenarios('drill', list, 'process', (n) => notes.push(n)),
      list,
    );
    assert.deepEqual(
      agentScenarios('drill', list, 'docker', (n) => notes.push(n)).map((s) => s.name),
      ['target-dies'],
    );
    assert.match(
      notes.join(''),
      /central-store-down left out: the docker runtime cannot stop the central store/,
    );
    assert.throws(
      () => agentScenarios('scenario', [list[1]!], 'swarm', () => {}),
      (e) => isLabError(e, 'LAB_ERR_FAULT_UNSUPPORTED') && /use --runtime process/.test(e.message),
    );
  });
});

const self = (o: Partial<AgentSelf>): AgentSelf => ({ ...emptyAgentSelf(), ...o });
const host = (o: Partial<{ up: number; present: number; ageS: number | null; alerts: number }> = {}) => ({
  up: 2,
  present: 2,
  ageS: 1,
  alerts: 0,
  ...o,
});

describe('agents column: signals', () => {
  const scope = {
    agents: ['prometheus-agent-1'],
    hosts: ['producer-1'],
    before: { 'prometheus-agent-1': self({ samplesRetried: 5, highestTs: 100, highestSentTs: 100 }) },
    behindLimitS: 10,
    staleLimitS: 6,
    centralFault: true,
  };
  const tick = (tS: number, a: Partial<AgentSelf> | null, central: Tick['central']): Tick => ({
    tS,
    selves: { 'prometheus-agent-1': a === null ? null : self(a), 'prometheus-agent-0': self({}) },
    central,
  });
  it('a cut agent: retried first, then behind; the other agent and ticks before the fault do not count', () => {
    const ticks = [
      tick(-1, { samplesRetried: 50, highestTs: 99, highestSentTs: 50 }, { 'producer-1': host() }),
      tick(0.5, { samplesRetried: 5, highestTs: 101, highestSentTs: 100 }, { 'producer-1': host() }),
      tick(
        2.04,
        { samplesRetried: 9, highestTs: 103, highestSentTs: 100 },
        { 'producer-1': host({ ageS: 3 }) },
      ),
      tick(
        11.5,
        { samplesRetried: 40, highestTs: 112, highestSentTs: 100 },
        { 'producer-1': host({ ageS: 12 }) },
      ),
    ];
    const s = firstSignals(ticks, scope);
    assert.equal(s.retriedS, 2);
    assert.equal(s.behindS, 11.5);
    assert.equal(s.staleUpS, 11.5);
    assert.equal(s.maxLagS, 12);
    assert.equal(s.centralUnansweredS, null);
    assert.deepEqual(detectedAfter(s), {
      afterS: 2,
      by: 'an agent retried samples (prometheus_remote_storage_samples_retried_total)',
    });
  });
  it('the central store stopped: it does not answer; a dead agent: its /metrics silent, stale up is no detection', () => {
    const down = firstSignals([tick(1, {}, { 'producer-1': host() }), tick(2, {}, null)], scope);
    assert.equal(down.centralUnansweredS, 2);
    assert.equal(detectedAfter(down)?.by, 'the central store stopped answering queries');
    const slow = firstSignals([tick(2, {}, null)], { ...scope, centralFault: false });
    assert.equal(slow.centralUnansweredS, null, 'a slow store is no signal of a fault elsewhere');
    const dead = firstSignals(
      [
        tick(1, null, { 'producer-1': host({ ageS: 2 }) }),
        tick(9, null, { 'producer-1': host({ ageS: 10 }) }),
      ],
      scope,
    );
    assert.equal(dead.agentSilentS, 1);
    assert.equal(dead.staleUpS, 9);
    assert.equal(detectedAfter(dead), null, 'nothing in the stack detects it');
  });
  it('up vanished or InstanceDown at the central store are detection', () => {
    const gone = firstSignals([tick(3, {}, { 'producer-1': host({ present: 0 }) })], scope);
    assert.equal(detectedAfter(gone)?.afterS, 3);
    const alert = firstSignals([tick(4, {}, { 'producer-1': host({ alerts: 1 }) })], scope);
    assert.equal(detectedAfter(alert)?.by, 'InstanceDown fired at the central store');
  });
  it('remote-write counters over the cell, summed over the watched agents', () => {
    const d = remoteWriteDelta(
      ['a', 'b', 'c'],
      { a: self({ samplesRetried: 10, samplesFailed: 1 }), b: null },
      {
        a: self({ samplesRetried: 30, samplesFailed: 1, samplesPending: 7, walCorruptions: 1 }),
        b: self({ samplesDropped: 4 }),
        c: null,
      },
    );
    assert.deepEqual(d, { retried: 20, failed: 0, dropped: 4, pendingAtEnd: 7, walProblems: 1, unread: 1 });
  });
  it('thresholds follow the scrape interval (the burst’s remote-write-behind: 2 intervals, at least 10 s)', () => {
    assert.deepEqual(limitsOf(2000), { behindS: 10, caughtUpS: 6, staleS: 6 });
    assert.deepEqual(limitsOf(15_000), { behindS: 30, caughtUpS: 30, staleS: 45 });
  });
});

const pod = (o: Partial<PodAtCutoff>): PodAtCutoff => ({
  pod: 'producer-1-p0',
  host: 'producer-1',
  agent: 'prometheus-agent-1',
  emitted: 1000,
  stored: 1000,
  scrapedAfter: true,
  scrapedByAgent: true,
  ...o,
});
const sum = (cs: readonly { orders: number }[]) => cs.reduce((a, c) => a + c.orders, 0);

describe('agents column: orders lost by cause (summing exactly)', () => {
  it('a killed agent: before the kill (unsent) and after it (unscraped), per pod, from two ledger readings', () => {
    const pods = [
      pod({ emitted: 5000, atKill: 1200, stored: 1000 }),
      pod({ pod: 'producer-1-p1', emitted: 4000, atKill: 900, stored: 900 }),
    ];
    const causes = deadAgentCauses(pods);
    const by = Object.fromEntries(causes.map((c) => [c.cause, c.orders]));
    assert.deepEqual(by, { 'agent-killed-unsent': 200, 'agent-dead-unscraped': 6900, unexplained: 0 });
    assert.equal(sum(causes), 7100);
  });
  it('a pod the central store did not answer for is unverified, whole', () => {
    const causes = deadAgentCauses([
      pod({ emitted: 300, atKill: 100, stored: null }),
      pod({ emitted: 50, atKill: 50, stored: 40 }),
    ]);
    assert.deepEqual(
      causes.map((c) => [c.cause, c.orders]),
      [
        ['unverified', 300],
        ['agent-killed-unsent', 10],
        ['unexplained', 0],
      ],
    );
  });
  it('an outage: the agent’s counters at the end explain what its pods lack (the burst’s agent accounting)', () => {
    const pods = [
      pod({ emitted: 1000, stored: 400 }),
      pod({ pod: 'producer-0-p0', agent: 'prometheus-agent-0', emitted: 10, stored: 10 }),
    ];
    const causes = outageCauses(pods, {
      'prometheus-agent-1': self({ samplesPending: 30, highestTs: 50, highestSentTs: 20 }),
    });
    assert.equal(causes[0]!.cause, 'remote-write-pending');
    assert.equal(sum(causes), 600);
    assert.deepEqual(outageCauses([pod({})], {}), [], 'caught up: nothing lost, no causes');
  });
});

const signals = (o: Partial<ReturnType<typeof firstSignals>> = {}) => ({
  ...firstSignals([], {
    agents: [],
    hosts: [],
    before: {},
    behindLimitS: 10,
    staleLimitS: 6,
    centralFault: true,
  }),
  ...o,
});
const facts = (o: Partial<OutageFacts> = {}): OutageFacts => ({
  what: 'central-down',
  outageS: 40,
  signals: signals({ centralUnansweredS: 1.2, behindS: 10.5, maxLagS: 41 }),
  rw: { retried: 1200, failed: 0, dropped: 0, pendingAtEnd: 0, walProblems: 0, unread: 0 },
  caughtUpAfterS: 3.4,
  catchUpBoundS: 60,
  outageStoredPct: 100,
  pods: [pod({})],
  causes: [],
  ...o,
});

describe('agents column: cells and words', () => {
  it('central store down, caught up: detected by the store not answering, buffered then caught up', () => {
    const c = outageCell('agents', facts());
    assert.equal(c.column, 'agents');
    assert.equal(c.detectedAfterS, 1.2);
    assert.equal(c.lostCount, 0);
    assert.match(
      c.signal,
      /^the central store stopped answering queries; buffered in the WAL, caught up 3\.4 s after the store was back \(1,200 samples retried, 0 failed, 0 dropped, 0 pending at the end; 100% of the outage's scrapes in the central store\)$/,
    );
    assert.match(c.detail, /central store stopped \(SIGSTOP\) for 40 s; queue up to 41 s behind its WAL/);
  });
  it('a partition that dropped: the words say dropped, with the counters', () => {
    const c = outageCell(
      'agents',
      facts({
        what: 'partition',
        signals: signals({ retriedS: 0.9 }),
        rw: { retried: 10, failed: 7, dropped: 3, pendingAtEnd: 2, walProblems: 0, unread: 0 },
        caughtUpAfterS: null,
      }),
    );
    assert.match(c.signal, /; dropped 10 samples \(10 samples retried, 7 failed, 3 dropped, 2 pending/);
    assert.match(c.detail, /one agent's remote write cut for 40 s \(its scrapes intact\)/);
  });
  it('a dead agent nothing detected: says so plainly, with what the lab alone saw', () => {
    const pods = [pod({ emitted: 5000, atKill: 1200, stored: 1000 })];
    const c = deadAgentCell('agents', {
      agent: 'prometheus-agent-1',
      watchS: 28,
      signals: signals({ agentSilentS: 0.3, staleUpS: 7 }),
      upAgeAtEndS: 29,
      staleLimitS: 6,
      pods,
      causes: deadAgentCauses(pods),
    });
    assert.equal(c.detectedAfterS, null);
    assert.equal(c.lostCount, 4000);
    assert.match(
      c.signal,
      /^nothing detected it in 28 s: at the central store its pods' up stayed 1 \(InstanceDown cannot fire\)/,
    );
    assert.match(
      c.signal,
      /newest 29 s old at the end; their newest up was over 6\.0 s old from 7\.0 s \(a staleness rule could fire; none ships\)/,
    );
    assert.match(c.signal, /only the lab saw prometheus-agent-1's \/metrics gone/);
  });

  it('the grid has an agents column; a cell shows its causes; drill.html names the column and the causes', () => {
    assert.equal(GRID_COLUMNS.at(-1), 'agents');
    const pods = [pod({ emitted: 5000, atKill: 1200, stored: 1000 })];
    const cell = deadAgentCell('agents', {
      agent: 'prometheus-agent-1',
      watchS: 28,
      signals: signals(),
      upAgeAtEndS: null,
      staleLimitS: 6,
      pods,
      causes: deadAgentCauses(pods),
    });
    const record: DrillRecord = {
      startedAt: '2026-12-08T03:00:00Z',
      runtime: 'process',
      scenarios: [
        {
          name: 'pull-agent-dies',
          title: 'Pull agent dies',
          mode: 'pull-agent-dies',
          runtime: 'process',
          startedAt: '',
          durationS: 40,
          cells: [cell],
          metrics: { lostAfterKill: 3800, 'agents.staleUpAfterS': 7 },
          series: {
            remoteWriteLagS: [
              [0, 1],
              [1, 2],
            ],
          },
          notes: [],
          expectations: [],
          error: null,
        },
      ],
    };
    const row = gridRows(record)[0]!;
    assert.equal(row.cells.length, GRID_COLUMNS.length);
    assert.match(
      row.cells.at(-1)!,
      /^agents: never detected; lost 4,000 \(80\.0%\) \(by cause: agent-killed-unsent 200, agent-dead-unscraped 3,800\); nothing detected it/,
    );
    const html = renderDrillHtml(record);
    assert.match(html, /<th>pull through per-host agents \(remote_write\)<\/th>/);
    assert.match(html, /by cause: agent-killed-unsent 200, agent-dead-unscraped 3,800/);
    assert.match(
      html,
      /3,800 orders \(95\.0%\): generated after its host&#39;s agent was killed: nothing scraped its pods/,
    );
    assert.equal(metricWords('lostAfterKill'), 'orders generated after the kill (nothing scraped them)');
    assert.match(
      metricWords('agents.staleUpAfterS'),
      /^seconds until the newest up of the host's pods was 3 scrape intervals old/,
    );
    assert.match(seriesWords('remoteWriteLagS').title, /remote-write queue trails their WAL/);
  });
});
