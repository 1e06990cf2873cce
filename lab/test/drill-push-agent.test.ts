// #27, the drill's push-agent column, pure parts: scenario validation of the agent modes and the column, the
// agents' forward knobs, the cells (detection, loss by cause summing exactly), and the grid / drill.html words.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { emptyCounts, isLabError } from '@pushpull/common';
import type { PushAgentReading } from '../src/core/record-push-agents.ts';
import { type Cell, cellText, type DrillRecord, gridRows, terminalGrid } from '../src/drill/grid.ts';
import {
  type AgentMeasurement,
  agentCell,
  agentMetrics,
  detectedAfter,
  noDetection,
} from '../src/drill/modes/push-agent-cells.ts';
import {
  outageMsOf,
  pushAgentCollectorFlags,
  pushAgentScenariosOn,
} from '../src/drill/modes/push-agent-scenario.ts';
import { renderDrillHtml } from '../src/drill/report.ts';
import { loadScenarios } from '../src/drill/run.ts';
import { parseScenario } from '../src/drill/scenario.ts';
import { emptyPushReading } from '../src/probe/push-agents.ts';

const scenarioDir = join(dirname(fileURLToPath(import.meta.url)), '../scenarios');

const base = `
name: t
title: T
mode: central-down
description: d
fleet: { pods: 6, podsPerProducer: 2 }
observe: 30s
variants:
  - { name: agent, column: push-agent }
params: { host: 2, outage: 8s, forwardQueuePoints: 300, forwardMaxElapsed: 2s }
expect:
  - { column: push-agent, variant: agent, detectedWithin: 5s }
`;

describe('drill push-agent column: scenarios', () => {
  it('the shipped agent scenarios load with the issue defaults (40 s outage)', () => {
    const all = loadScenarios(scenarioDir).filter((s) => s.variants.some((v) => v.column === 'push-agent'));
    assert.deepEqual(
      all.map((s) => s.mode),
      ['agent-dies', 'central-down', 'agent-partition'],
    );
    for (const s of all) {
      assert.ok(s.variants.every((v) => v.push.transport === 'udp'));
      if (s.mode !== 'agent-dies') assert.equal(outageMsOf(s), 40_000);
    }
  });

  it('reads the knobs: host, outage and the agents’ forward flags', () => {
    const s = parseScenario(base, 'x.yml');
    assert.equal(s.params.host, 2);
    assert.equal(outageMsOf(s), 8000);
    assert.deepEqual(pushAgentCollectorFlags(s), [
      '--forward-queue-points',
      '300',
      '--forward-max-elapsed',
      '2000ms',
    ]);
    const plain = parseScenario(
      base.replace(', forwardQueuePoints: 300, forwardMaxElapsed: 2s', ''),
      'x.yml',
    );
    assert.deepEqual(pushAgentCollectorFlags(plain), []);
  });

  for (const [runtime, kept, noted] of [
    ['process', 3, false],
    ['docker', 0, true],
    ['swarm', 0, true],
  ] as const)
    it(`drill on ${runtime}: ${kept} agent scenarios kept${noted ? ', the rest left out with a note' : ''}`, () => {
      const all = loadScenarios(scenarioDir);
      const notes: string[] = [];
      const out = pushAgentScenariosOn(runtime, all, (m) => notes.push(m));
      assert.equal(out.filter((s) => s.variants[0]!.column === 'push-agent').length, kept);
      assert.equal(all.length - out.length, 3 - kept, 'only the agent scenarios are left out');
      assert.equal(notes.length > 0, noted);
      if (noted) assert.match(notes[0]!, /agent-dies, central-down, agent-partition left out/);
    });

  const bad: [string, string, RegExp][] = [
    [
      'a host outside the fleet',
      base.replace('host: 2', 'host: 3'),
      /params\.host: host 3 is not in the fleet/,
    ],
    ['an outage past the window', base.replace('outage: 8s', 'outage: 30s'), /params\.outage: the outage/],
    ['an unknown knob', base.replace('host: 2,', 'host: 2, bogus: 1,'), /params\.bogus: unknown key/],
    ['a bad duration', base.replace('outage: 8s', 'outage: soon'), /params\.outage/],
    [
      'another column in an agent mode',
      base.replace('column: push-agent }', 'column: push-udp }'),
      /variants\[0\]\.column: mode central-down measures the push agent tier/,
    ],
    [
      'the agent column in another mode',
      base
        .replace('mode: central-down', 'mode: target-dies')
        .replace(/params: .*\n/, 'faults:\n  - { at: 0s, action: kill, producer: 1 }\n'),
      /column push-agent belongs to the agent modes/,
    ],
    [
      'StatsD over TCP to an agent',
      base.replace('column: push-agent }', 'column: push-agent, push: { transport: tcp } }'),
      /the agent tier takes StatsD over UDP/,
    ],
    [
      'nothing pushed',
      base.replace('column: push-agent }', 'column: push-agent, push: { mode: off } }'),
      /the agent tier takes StatsD over UDP/,
    ],
  ];
  for (const [what, text, re] of bad)
    it(`rejects ${what}, naming file and field`, () =>
      assert.throws(
        () => parseScenario(text, 'x.yml'),
        (e) => isLabError(e, 'LAB_ERR_SCENARIO') && /^x\.yml/.test(e.message) && re.test(e.message),
      ));
});

const reading = (o: Partial<PushAgentReading['orders']>, extra: Partial<PushAgentReading> = {}) => {
  const r = emptyPushReading('agent-1');
  return { ...r, alive: true, ...extra, orders: { ...r.orders, ...o } };
};
const counts = (o: Partial<ReturnType<typeof emptyCounts>>) => ({ ...emptyCounts(), ...o });
const variant = parseScenario(base, 'x.yml').variants[0]!;

const measurement = (o: Partial<AgentMeasurement>): AgentMeasurement => ({
  mode: 'central-down',
  variant,
  agent: 'agent-1',
  host: 'producer-1',
  pods: 2,
  detection: noDetection(),
  windowS: 8,
  emitted: counts({ ordersPushed: 1000, pushEvents: 1000, datagrams: 1000 }),
  reading: reading({ received: 1000, forwarded: 1000 }),
  delivered: 1000,
  queuePeakPoints: 0,
  ...o,
});

const sum = (c: Cell) => (c.causes ?? []).reduce((a, x) => a + x.orders, 0);
const causeOf = (c: Cell, name: string) => c.causes?.find((x) => x.cause === name)?.orders ?? 0;

describe('drill push-agent column: cells', () => {
  const cases: {
    name: string;
    m: Partial<AgentMeasurement>;
    lost: number;
    causes: Record<string, number>;
  }[] = [
    {
      name: 'agent dies: what its last reading held is agent-died, the rest unexplained',
      m: {
        mode: 'agent-dies',
        reading: reading({ received: 990, forwarded: 950 }, { alive: false }),
        delivered: 950,
      },
      lost: 50,
      causes: { 'agent-died': 40, unexplained: 10 },
    },
    {
      name: 'central down: queue full and forwarding failed, from the books',
      m: {
        reading: reading({
          received: 1000,
          forwarded: 700,
          droppedQueueFull: 200,
          droppedForwardFailed: 100,
        }),
        delivered: 700,
        deliveredBeforeStop: 400,
        caughtUpS: 3.5,
      },
      lost: 300,
      causes: { 'agent-queue-full': 200, 'agent-forward-failed': 100 },
    },
    {
      name: 'partition that caught up: nothing lost, no causes',
      m: { mode: 'agent-partition', caughtUpS: 2 },
      lost: 0,
      causes: {},
    },
    {
      name: 'the kernel dropped datagrams on the agent socket: agent-rcvbuf first',
      m: {
        mode: 'agent-partition',
        reading: reading({ received: 990, forwarded: 990 }, { socketDrops: 10 }),
        delivered: 990,
      },
      lost: 10,
      causes: { 'agent-rcvbuf': 10 },
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const cell = agentCell(measurement(c.m));
      assert.equal(cell.column, 'push-agent');
      assert.equal(cell.lostCount, c.lost);
      assert.equal(sum(cell), c.lost, 'the causes sum exactly to the loss');
      for (const [k, v] of Object.entries(c.causes)) assert.equal(causeOf(cell, k), v, k);
      assert.equal((cell.causes ?? []).filter((x) => x.orders > 0).length, Object.keys(c.causes).length);
    });

  it('delivered more than pushed (a reset request sent twice): loss 0, said in the detail', () => {
    const cell = agentCell(measurement({ delivered: 1003 }));
    assert.equal(cell.lostCount, 0);
    assert.match(cell.detail, /counted 3 more than were pushed/);
  });

  const detect: [AgentMeasurement['mode'], Partial<ReturnType<typeof noDetection>>, number | null][] = [
    ['agent-dies', { deathSeenS: 0.9, pushAlertS: 41 }, 0.9],
    ['agent-dies', { agentSawS: 0.2 }, null], // the agent's books do not detect its own death
    ['central-down', { agentSawS: 1.1, centralAlertS: 33 }, 1.1],
    ['central-down', { pushAlertS: 0.5 }, null],
    ['agent-partition', { pushAlertS: 40, agentSawS: 2 }, 2],
  ];
  for (const [mode, d, want] of detect)
    it(`${mode}: detected after ${want} s from ${JSON.stringify(d)}`, () =>
      assert.equal(detectedAfter(mode, { ...noDetection(), ...d }), want));

  it('the signal names what was seen and what stayed silent; metrics use -1 for never', () => {
    const m = measurement({ detection: { ...noDetection(), agentSawS: 1.1 } });
    const cell = agentCell(m);
    assert.match(cell.signal, /agent-1's books counted failed forward requests after 1\.1 s/);
    assert.match(cell.signal, /no InstanceDown for the central collector in the 8 s window/);
    const mx = agentMetrics(m);
    assert.equal(mx.agentSawFailureAfterS, 1.1);
    assert.equal(mx.centralAlertAfterS, -1);
  });
});

describe('drill push-agent column: grid and drill.html', () => {
  const cell = agentCell(
    measurement({
      detection: { ...noDetection(), agentSawS: 1.1 },
      reading: reading({ received: 1000, forwarded: 700, droppedQueueFull: 300 }),
      delivered: 700,
    }),
  );
  const record: DrillRecord = {
    startedAt: '2026-12-08T03:00:00Z',
    runtime: 'process',
    scenarios: [
      {
        name: 'central-down',
        title: 'Central collector down (agents)',
        mode: 'central-down',
        runtime: 'process',
        startedAt: '2026-12-08T03:00:00Z',
        durationS: 30,
        cells: [cell],
        metrics: agentMetrics(measurement({})),
        series: {
          agentQueuePoints: [
            [0, 0],
            [1, 40],
            [2, 80],
          ],
        },
        notes: [],
        expectations: [],
        error: null,
      },
    ],
  };
  it('a fifth column, the cell with its causes', () => {
    const row = gridRows(record)[0]!;
    assert.deepEqual(row.cells.slice(0, 4), ['—', '—', '—', '—']);
    assert.equal(row.cells[4], cellText(cell));
    assert.match(
      row.cells[4]!,
      /^agent: detected 1\.1 s; lost 300 \(30\.0%\) \(by cause: agent-queue-full 300\); /,
    );
    assert.match(terminalGrid(record), /\n {2}push-agent agent: detected 1\.1 s/);
  });
  it('drill.html: the column, the causes and the series in words', () => {
    const html = renderDrillHtml(record);
    assert.match(html, /push through an agent per host \(StatsD → agent → OTLP\/HTTP\)/);
    assert.match(html, /by cause: agent-queue-full 300/);
    assert.match(html, /points waiting in the agent&#39;s forward queue/);
    assert.match(html, /seconds from the recovery until the agents caught up/);
  });
});
