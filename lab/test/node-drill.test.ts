// The node drills' pure parts (#26): what swarm did from captured task lists (the timeline and its words),
// the grid cells per path, the record's numbers, the producers' reschedulable placement and restart policy,
// the clear error without worker nodes, and the ground-truth helpers (a container's processes by cgroup, the
// worker of a swarm node id).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nodeScenarios } from '../src/commands/drill/cli.ts';
import {
  cellOutcome,
  cellText,
  type DrillRecord,
  type ScenarioResult,
  terminalGrid,
} from '../src/drill/grid.ts';
import {
  type NodeAccount,
  type NodeDetection,
  type NodeFacts,
  nodeMetrics,
  nodePullCell,
  nodePushCell,
} from '../src/drill/modes/node-cells.ts';
import { instanceMatcher, requireNodes, restartOf } from '../src/drill/modes/node-fault.ts';
import {
  type SwarmSample,
  swarmTimeline,
  swarmWords,
  type TaskSample,
} from '../src/drill/modes/node-timeline.ts';
import { renderDrillHtml } from '../src/drill/report.ts';
import { parseScenario, type Variant } from '../src/drill/scenario.ts';
import { deadLabProxies } from '../src/nodes/down.ts';
import { pidsOfContainers, workerOfNode } from '../src/nodes/machine.ts';
import { planNodes } from '../src/nodes/plan.ts';
import { newState } from '../src/nodes/state.ts';
import { producerConstraints } from '../src/runtime/swarm/placement.ts';
import { producerSpec, type SpecContext } from '../src/runtime/swarm/specs.ts';

const VICTIM = 'nodeA';
const t = (
  id: string,
  serviceId: string,
  nodeId: string,
  state: string,
  desired = 'running',
): TaskSample => ({
  id,
  serviceId,
  nodeId,
  state,
  desired,
});

/** Captured lists of a node loss: the node down at 16 s, s1's task on nodeB at 17 s (running at 19 s), s2's at 18 s. */
const rescheduled: SwarmSample[] = [
  { atS: 1, nodeState: 'ready', tasks: [t('a1', 's1', VICTIM, 'running'), t('a2', 's2', VICTIM, 'running')] },
  { atS: 16, nodeState: 'down', tasks: [t('a1', 's1', VICTIM, 'running'), t('a2', 's2', VICTIM, 'running')] },
  {
    atS: 17,
    nodeState: 'down',
    tasks: [
      t('a1', 's1', VICTIM, 'running', 'shutdown'),
      t('b1', 's1', 'nodeB', 'assigned'),
      t('a2', 's2', VICTIM, 'running'),
    ],
  },
  {
    atS: 18,
    nodeState: 'down',
    tasks: [
      t('a1', 's1', VICTIM, 'running', 'shutdown'),
      t('b1', 's1', 'nodeB', 'starting'),
      t('a2', 's2', VICTIM, 'running', 'shutdown'),
      t('b2', 's2', 'nodeB', 'pending'),
    ],
  },
  {
    atS: 19,
    nodeState: 'down',
    tasks: [
      t('b1', 's1', 'nodeB', 'running'),
      t('b2', 's2', 'nodeB', 'running'),
      t('a1', 's1', VICTIM, 'running'),
    ],
  },
  { atS: 30, nodeState: 'ready', tasks: [t('a1', 's1', VICTIM, 'shutdown', 'shutdown')] },
];

/** A partition healed before the manager noticed: nothing moved. */
const stayed: SwarmSample[] = [
  { atS: 1, nodeState: 'ready', tasks: [t('a1', 's1', VICTIM, 'running')] },
  { atS: 9, nodeState: 'ready', tasks: [t('a1', 's1', VICTIM, 'running')] },
];

/** Restarted in place (same node, a new task): not a reschedule to another node. */
const inPlace: SwarmSample[] = [
  { atS: 1, nodeState: 'ready', tasks: [t('a1', 's1', VICTIM, 'failed'), t('a9', 's1', VICTIM, 'running')] },
];

describe('swarm timeline from captured task lists', () => {
  const cases: [string, SwarmSample[], string[], Record<string, unknown>][] = [
    [
      'node lost, both tasks rescheduled',
      rescheduled,
      ['s1', 's2'],
      { nodeDownS: 16, nodeReadyAgainS: 30, allRescheduledS: 18, allRunningS: 19, windowS: 30 },
    ],
    [
      'healed before the manager noticed',
      stayed,
      ['s1'],
      { nodeDownS: null, allRescheduledS: null, windowS: 9 },
    ],
    ['restarted in place is not a reschedule', inPlace, ['s1'], { nodeDownS: null, allRescheduledS: null }],
    ['no captures', [], ['s1'], { nodeDownS: null, allRunningS: null, windowS: 0 }],
  ];
  for (const [what, samples, services, want] of cases)
    it(what, () => {
      const tl = swarmTimeline(samples, VICTIM, services, new Set(['a1', 'a2']));
      for (const [k, v] of Object.entries(want)) assert.equal(tl[k as keyof typeof tl], v, k);
    });

  it('per service: when, where to, and the original task as the manager last saw it', () => {
    const tl = swarmTimeline(rescheduled, VICTIM, ['s1', 's2'], new Set(['a1', 'a2']));
    assert.deepEqual(tl.services, [
      { serviceId: 's1', rescheduledS: 17, runningS: 19, toNode: 'nodeB', originalLastState: 'shutdown' },
      { serviceId: 's2', rescheduledS: 18, runningS: 19, toNode: 'nodeB', originalLastState: 'running' },
    ]);
  });

  const words: [string, SwarmSample[], string, number, RegExp][] = [
    [
      'rescheduled',
      rescheduled,
      'any',
      1,
      /down after 16 s \(ready again after 30 s\); 2 of 2 task\(s\) rescheduled to another node after 17 s, running after 19 s/,
    ],
    ['restart none', stayed, 'none', 1, /no task rescheduled \(restart policy none\)/],
    ['no other node', stayed, 'any', 0, /no task rescheduled \(no other producer node\)/],
    [
      'never down',
      stayed,
      'on-failure',
      1,
      /still saw the node ready after 9 s; no task rescheduled \(the node never went down/,
    ],
  ];
  for (const [what, samples, policy, others, re] of words)
    it(`words: ${what}`, () => {
      const text = swarmWords(
        swarmTimeline(samples, VICTIM, ['s1', 's2'], new Set(['a1', 'a2'])),
        policy,
        others,
      );
      assert.match(text, re);
      assert.match(text, new RegExp(`restart policy ${policy}`));
    });
});

const udp: Variant = {
  name: 'udp',
  column: 'push-udp',
  push: { mode: 'per-event', transport: 'udp', jitter: true, heartbeatMs: 2000, flushIntervalMs: 10_000 },
};

function facts(samples: SwarmSample[], kind: 'partition' | 'loss' = 'loss'): NodeFacts {
  const timeline = swarmTimeline(samples, VICTIM, ['s1', 's2'], new Set(['a1', 'a2']));
  return {
    kind,
    pods: 4,
    producers: 2,
    swarm: swarmWords(timeline, 'any', 1),
    timeline,
    instanceDownForS: 30,
  };
}

const account: NodeAccount = {
  emittedPull: 1000,
  storedPull: 900,
  emittedPush: 1000,
  storedPush: 750,
  how: 'ledgers',
  pushHow: '; 30 orders the 1 replacement task(s) pushed subtracted',
};

describe('node drill cells', () => {
  const cases: [string, NodeFacts, NodeDetection, RegExp, RegExp, number | null, number | null][] = [
    [
      'loss rescheduled before the alerts: up == 0 detects, the alerts never fire',
      facts(rescheduled),
      { upZeroS: 4.1, pullAlertS: null, pushAlertS: null },
      /up == 0 after 4\.1 s; InstanceDown never fired: swarm's replacement task took the target over after 19 s/,
      /PushHeartbeatAbsent never fired: the replacement task pushed for the same pods from 19 s/,
      4.1,
      null,
    ],
    [
      'partition, nothing moved: both alerts fire',
      facts(stayed, 'partition'),
      { upZeroS: 3, pullAlertS: 36, pushAlertS: 41 },
      /up == 0 after 3 s; InstanceDown after 36 s/,
      /PushHeartbeatAbsent after 41 s/,
      3,
      41,
    ],
    [
      'nothing seen',
      facts(stayed, 'partition'),
      { upZeroS: null, pullAlertS: null, pushAlertS: null },
      /up never 0; InstanceDown did not fire in the window/,
      /no alert in the 9 s window/,
      null,
      null,
    ],
  ];
  for (const [what, f, d, pullRe, pushRe, pullAt, pushAt] of cases)
    it(what, () => {
      const pull = nodePullCell(udp, f, d, account);
      const push = nodePushCell(udp, f, d, account);
      assert.match(pull.signal, pullRe);
      assert.match(push.signal, pushRe);
      assert.equal(pull.detectedAfterS, pullAt);
      assert.equal(push.detectedAfterS, pushAt);
      assert.equal(pull.column, 'pull');
      assert.equal(push.column, 'push-udp');
      assert.equal(pull.lostCount, 100);
      assert.equal(pull.lostPct, 10);
      assert.equal(push.lostCount, 250);
      assert.equal(push.lostPct, 25);
      // What swarm did is in each path's cell, as the grid and the HTML show it.
      assert.match(pull.detail, /swarm \(restart policy any\)/);
      assert.match(push.detail, new RegExp(`node ${f.kind === 'loss' ? 'lost' : 'cut off'}`));
      // What was subtracted from the collector's count is the push path's, never said of pull.
      assert.match(push.detail, /\(ledgers; 30 orders the 1 replacement task\(s\) pushed subtracted\)/);
      assert.doesNotMatch(pull.detail, /subtracted/);
      assert.match(cellText(pull), /lost 100 \(10\.0%\)/);
      assert.equal(cellOutcome(push).tone, push.detectedAfterS === null ? 'bad' : 'warn');
    });

  it('heartbeats off: nothing can fire', () => {
    const off = { ...udp, push: { ...udp.push, heartbeatMs: 0 } };
    assert.match(
      nodePushCell(off, facts(stayed), { upZeroS: 1, pullAlertS: null, pushAlertS: null }, account).signal,
      /heartbeats off/,
    );
  });

  it('a stored count above the emitted one is no negative loss', () => {
    const c = nodePullCell(
      udp,
      facts(stayed),
      { upZeroS: 1, pullAlertS: 2, pushAlertS: 3 },
      { ...account, storedPull: 1200 },
    );
    assert.equal(c.lostCount, 0);
  });

  it('metrics: -1 for never, the timeline and the victims', () => {
    const f = facts(rescheduled);
    assert.deepEqual(nodeMetrics({ upZeroS: 4, pullAlertS: null, pushAlertS: null }, f.timeline, f), {
      upZeroAfterS: 4,
      pullAlertAfterS: -1,
      pushAlertAfterS: -1,
      nodeDownAfterS: 16,
      rescheduledAfterS: 17,
      replacementRunningAfterS: 19,
      tasksRescheduled: 2,
      victimProducers: 2,
      victimPods: 4,
    });
  });
});

const nodeYaml = (mode: string, params = '') => `name: ${mode}
title: t
mode: ${mode}
description: d
fleet: { pods: 8, podsPerProducer: 2 }
scrapeInterval: 2s
observe: 20s
push: { mode: per-event, transport: udp, heartbeat: 2s }
variants:
  - { name: udp, column: push-udp }
faults:
  - { at: 0s, action: ${mode === 'node-loss' ? 'kill' : 'partition'}, producer: 0 }
${params}`;

describe('node scenarios: restart policy and the worker nodes they need', () => {
  const policies: [string, string, string | RegExp][] = [
    ['default any', '', 'any'],
    ['on-failure', 'params: { restart: on-failure }', 'on-failure'],
    [
      'none is refused (swarm could not reschedule)',
      'params: { restart: none }',
      /params\.restart.*"none" is not one of any, on-failure/,
    ],
    ['unknown knob', 'params: { sampleLimit: 3 }', /sampleLimit/],
  ];
  for (const mode of ['node-partition', 'node-loss'])
    for (const [what, params, want] of policies)
      it(`${mode}: ${what}`, () => {
        if (typeof want === 'string')
          assert.equal(restartOf(parseScenario(nodeYaml(mode, params), 'x.yml')), want);
        else assert.throws(() => parseScenario(nodeYaml(mode, params), 'x.yml'), want);
      });

  const state = newState(planNodes(2, '198.18.231.0/24', '/tmp/x', '/run/x'));
  state.nodeIds = { '1': 'idW1', '2': 'idW2' };
  const nodes = { state, statePath: '/tmp/x/nodes.json' };
  const s = parseScenario(nodeYaml('node-partition'), 'x.yml');
  const other = parseScenario(
    nodeYaml('node-loss')
      .replace('name: node-loss', 'name: td')
      .replace('mode: node-loss', 'mode: target-dies'),
    'y.yml',
  );

  const errors: [string, string, typeof nodes | null, RegExp | null][] = [
    ['process runtime', 'process', nodes, /the process runtime has no nodes to cut \(use --runtime swarm\)/],
    [
      'swarm without nodes up',
      'swarm',
      null,
      /needs the swarm runtime with worker nodes made by `pushpull-lab nodes up 2`.*no worker nodes are recorded/,
    ],
    ['swarm with workers', 'swarm', nodes, null],
  ];
  for (const [what, runtime, n, re] of errors)
    it(`requireNodes: ${what}`, () => {
      if (re)
        assert.throws(
          () => requireNodes(s, runtime, n),
          (e: Error & { code?: string }) => e.code === 'LAB_ERR_SWARM' && re.test(e.message),
        );
      else assert.equal(requireNodes(s, runtime, n), n);
    });

  it('`scenario node-partition` without nodes: the clear error before any stack', () => {
    assert.throws(
      () => nodeScenarios('scenario', [s], 'swarm', null, () => {}, '/var/lib/x/nodes.json'),
      /state file \/var\/lib\/x\/nodes\.json; --nodes-dir sets its directory\): no worker nodes are recorded/,
    );
  });
  it('`drill` without nodes: the node scenarios left out, with a note', () => {
    const notes: string[] = [];
    assert.deepEqual(
      nodeScenarios('drill', [other, s], 'docker', null, (m) => notes.push(m)).map((x) => x.name),
      ['td'],
    );
    assert.match(notes.join(''), /node-partition left out: they need --runtime swarm and worker nodes/);
    assert.deepEqual(nodeScenarios('drill', [other, s], 'swarm', nodes, () => {}).length, 2);
  });

  it('workerOfNode: the worker by swarm node id; the observer or a stranger → null', () => {
    assert.equal(workerOfNode(state, 'idW2')?.netns, 'pushpull-n2');
    assert.equal(workerOfNode(state, 'manager'), null);
  });
});

describe('reschedulable producers on swarm', () => {
  const slot = { index: 0, name: 'producer-0', pods: 2, nodeId: 'idW1', node: 'w1' };
  const cases: [string, boolean, boolean, string[]][] = [
    ['pinned (the default)', false, true, ['node.id==idW1']],
    [
      'reschedulable, multi-node: any node but the observers',
      true,
      true,
      ['node.labels.pushpull.role!=observer'],
    ],
    ['reschedulable, one node: no constraint', true, false, []],
  ];
  for (const [what, r, multi, want] of cases)
    it(what, () => assert.deepEqual(producerConstraints(slot, r, multi), want));

  const ctx: SpecContext = {
    runId: 'r1',
    networkId: 'n1',
    compose: { producer: { image: 'pushpull/producer:0.1.0' } },
    observerConstraints: [],
  };
  const policies: [string, 'none' | 'any' | 'on-failure' | undefined, unknown][] = [
    ['default none', undefined, { Condition: 'none' }],
    ['any, after 1 s', 'any', { Condition: 'any', Delay: 1e9 }],
    ['on-failure, after 1 s', 'on-failure', { Condition: 'on-failure', Delay: 1e9 }],
  ];
  for (const [what, policy, want] of policies)
    it(`restart policy: ${what}`, () => {
      const spec = producerSpec(ctx, 'producer-0', [], [], 1, [], policy);
      assert.deepEqual((spec.TaskTemplate as { RestartPolicy?: unknown }).RestartPolicy, want);
    });
});

describe("a lost machine's container processes", () => {
  it('found by container id in /proc/PID/cgroup, never by a short or foreign id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-proc-'));
    try {
      const cid = 'a'.repeat(64);
      const files: [string, string][] = [
        ['101', `12:pids:/docker/${cid}\n11:cpu:/docker/${cid}\n`],
        ['102', `12:pids:/docker/${'b'.repeat(64)}\n`],
        ['103', '12:pids:/user.slice\n'],
        ['self', `12:pids:/docker/${cid}\n`],
      ];
      for (const [pid, text] of files) {
        mkdirSync(join(dir, pid));
        writeFileSync(join(dir, pid, 'cgroup'), text);
      }
      mkdirSync(join(dir, '104')); // a process that exited: no cgroup file
      assert.deepEqual(pidsOfContainers([cid], dir), [101]);
      assert.deepEqual(pidsOfContainers([], dir), []);
      assert.deepEqual(pidsOfContainers(['aaaa'], dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the report's column: what swarm did", () => {
  const f = facts(rescheduled);
  const d = { upZeroS: 4.1, pullAlertS: null, pushAlertS: null };
  const row = (swarm?: string): ScenarioResult => ({
    name: 'node-loss',
    title: 'Node loss',
    mode: 'node-loss',
    runtime: 'swarm',
    startedAt: '2026-12-07T23:00:00Z',
    durationS: 60,
    cells: [nodePullCell(udp, f, d, account), nodePushCell(udp, f, d, account)],
    metrics: nodeMetrics(d, f.timeline, f),
    series: {},
    notes: [],
    expectations: [],
    error: null,
    ...(swarm !== undefined ? { swarm } : {}),
  });
  const cases: [string, ScenarioResult[], boolean][] = [
    ['a node drill: the column, its words', [row(f.swarm)], true],
    ['no node drill: no column', [row()], false],
  ];
  for (const [what, scenarios, has] of cases)
    it(what, () => {
      const r: DrillRecord = { startedAt: '2026-12-07T23:00:00Z', runtime: 'swarm', scenarios };
      const html = renderDrillHtml(r);
      const text = terminalGrid(r);
      assert.equal(html.includes('<th>what swarm did</th>'), has);
      assert.equal(
        /\n {2}swarm {5}swarm \(restart policy any\): the manager marked the node down after 16 s/.test(text),
        has,
      );
      assert.equal(
        html.includes('<td class="cell"><div class="num">swarm (restart policy any): the manager'),
        has,
      );
      // The metrics in words, never the record's keys.
      assert.match(html, /seconds until the swarm manager marked the node down/);
    });
});

describe('`nodes down` after a lab killed -9 mid-run: its swarm proxy', () => {
  const ps = ['c1 100 box', 'c2 200 box', 'c3 300 other-host', 'c4  box', 'c5 x box', ''].join('\n');
  const cases: [string, (pid: number) => boolean, string[]][] = [
    ['dead owner on this host: removed; alive, another host, no owner: kept', (p) => p === 200, ['c1']],
    ['every owner alive: none', () => true, []],
    ['every owner dead: only this host’s, with an owner', () => false, ['c1', 'c2']],
  ];
  for (const [what, alive, want] of cases)
    it(what, () => assert.deepEqual(deadLabProxies(ps, alive, 'box'), want));
});

describe("the node's targets as a PromQL matcher", () => {
  // PromQL string literals take Go's escapes (\\ and \" — as JSON's): a bare \. is a parse error, and the
  // query then answered nothing (the first e2e run: "up never 0").
  const cases: [string, string[], string[], string[]][] = [
    [
      'two addresses, dots literal',
      ['10.0.1.5:9100', '10.0.1.6:9100'],
      ['10.0.1.5:9100', '10.0.1.6:9100'],
      ['10x0.1.5:9100', '10.0.1.5:91000', '10.0.1.7:9100'],
    ],
    ['one address', ['10.0.3.14:9100'], ['10.0.3.14:9100'], ['10.0.3.1:9100']],
  ];
  for (const [what, instances, match, miss] of cases)
    it(what, () => {
      const m = /^instance=~"(.*)"$/.exec(instanceMatcher(instances));
      assert.ok(m);
      const re = new RegExp(`^(?:${JSON.parse(`"${m[1]}"`) as string})$`);
      for (const x of match) assert.ok(re.test(x), x);
      for (const x of miss) assert.ok(!re.test(x), x);
    });
});
