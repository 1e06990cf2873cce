// #27: the agent tier's loss by cause (pure), the agent books' reader, the flag and the path label,
// table-driven.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { causeText } from '../src/analysis/causes.ts';
import { pushAgentHeld, pushAgentLossCauses } from '../src/analysis/push-agent-causes.ts';
import { parseBurstFlags } from '../src/burst/flags.ts';
import { pushAgentCosts, withAgentDrops } from '../src/burst/push-agents.ts';
import type { LossCause, ProbeSample } from '../src/core/record.ts';
import type { PushAgentReading } from '../src/core/record-push-agents.ts';
import { pushLabel } from '../src/core/transports.ts';
import { pushAgentReadingOf } from '../src/probe/push-agents.ts';

const sum = (cs: readonly LossCause[]) => cs.reduce((a, c) => a + c.orders, 0);
const byCause = (cs: readonly LossCause[]) => Object.fromEntries(cs.map((c) => [c.cause, c.orders]));

function agent(
  name: string,
  o: Partial<PushAgentReading['orders']> & {
    alive?: boolean;
    drops?: number;
    refused?: Record<string, number>;
  },
): PushAgentReading {
  return {
    name,
    readAtMs: 1,
    alive: o.alive ?? true,
    datagrams: 0,
    socketDrops: o.drops ?? 0,
    refusedLines: o.refused ?? {},
    orders: {
      received: o.received ?? 0,
      aggregated: o.aggregated ?? 0,
      forwarded: o.forwarded ?? 0,
      queued: o.queued ?? 0,
      droppedQueueFull: o.droppedQueueFull ?? 0,
      droppedForwardFailed: o.droppedForwardFailed ?? 0,
      droppedTooLarge: o.droppedTooLarge ?? 0,
    },
    pointsRefused: 0,
    requests: {},
    retries: 0,
    queuePeakPoints: 0,
  };
}

const base = {
  pushMode: 'per-event' as const,
  ordersPushed: 10_000,
  pushEvents: 10_000,
  datagrams: 10_000,
  sendErrors: 0,
  centralRefused: {},
  centralStillRising: 0,
};

describe('agent tier: loss by cause', () => {
  const cases: {
    name: string;
    lost: number;
    delivered: number;
    agents: PushAgentReading[];
    over?: Partial<typeof base>;
    want: Record<string, number>;
  }[] = [
    {
      name: 'nothing lost: no causes',
      lost: 0,
      delivered: 10_000,
      agents: [agent('agent-0', { received: 10_000, forwarded: 10_000 })],
      want: {},
    },
    {
      name: "the agents' socket drops (datagrams → orders)",
      lost: 300,
      delivered: 9_700,
      agents: [agent('agent-0', { received: 9_700, forwarded: 9_700, drops: 300 })],
      want: { 'agent-rcvbuf': 300, unexplained: 0 },
    },
    {
      name: 'queue full and forward failed, exactly from the books',
      lost: 700,
      delivered: 9_300,
      agents: [
        agent('agent-0', { received: 5_000, forwarded: 4_500, droppedQueueFull: 500 }),
        agent('agent-1', {
          received: 5_000,
          forwarded: 4_800,
          droppedForwardFailed: 150,
          droppedTooLarge: 50,
        }),
      ],
      want: { 'agent-queue-full': 500, 'agent-forward-failed': 200, unexplained: 0 },
    },
    {
      name: 'a dead agent: what it held at its last reading; what it never read stays unexplained',
      lost: 1_000,
      delivered: 9_000,
      agents: [
        agent('agent-0', { received: 5_000, forwarded: 5_000 }),
        agent('agent-1', { alive: false, received: 4_600, forwarded: 4_000 }),
      ],
      want: { 'agent-died': 600, unexplained: 400 },
    },
    {
      name: 'the central receiver refused points: forwarded − delivered, by reason',
      lost: 400,
      delivered: 9_600,
      agents: [agent('agent-0', { received: 10_000, forwarded: 10_000 })],
      over: { centralRefused: { max_series: 3, out_of_order: 1 } },
      want: { 'receiver-refused:max_series': 300, 'receiver-refused:out_of_order': 100, unexplained: 0 },
    },
    {
      name: 'live agents still holding orders at the end: in flight',
      lost: 250,
      delivered: 9_750,
      agents: [agent('agent-0', { received: 10_000, forwarded: 9_750 })],
      want: { 'in-flight': 250, unexplained: 0 },
    },
    {
      name: 'send errors and agent refusals before everything else',
      lost: 150,
      delivered: 9_850,
      agents: [agent('agent-0', { received: 9_850, forwarded: 9_850, refused: { bad_value: 50 } })],
      over: { sendErrors: 100 },
      want: { 'send-error': 100, 'agent-refused:bad_value': 50, unexplained: 0 },
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const cs = pushAgentLossCauses({
        ...base,
        ...c.over,
        lost: c.lost,
        delivered: c.delivered,
        agents: c.agents,
      });
      assert.equal(sum(cs), Math.max(0, c.lost));
      const got = byCause(cs);
      for (const [k, v] of Object.entries(c.want)) assert.equal(got[k], v, k);
      for (const cc of cs)
        assert.doesNotMatch(causeText(cc.cause), /^agent-|^receiver-/, 'every cause has words');
    });

  it('the causes always sum exactly to the loss (property)', () => {
    const reading = fc.record({
      alive: fc.boolean(),
      received: fc.nat(100_000),
      forwarded: fc.nat(100_000),
      droppedQueueFull: fc.nat(10_000),
      droppedForwardFailed: fc.nat(10_000),
      drops: fc.nat(10_000),
    });
    fc.assert(
      fc.property(
        fc.array(reading, { maxLength: 6 }),
        fc.integer({ min: -1000, max: 200_000 }),
        (rs, lost) => {
          const agents = rs.map((r, i) => agent(`agent-${i}`, r));
          const cs = pushAgentLossCauses({ ...base, lost, delivered: 0, agents });
          assert.equal(sum(cs), Math.max(0, lost));
          assert.ok(cs.every((c) => c.orders >= 0));
        },
      ),
    );
  });

  it('pushAgentHeld: received − forwarded − dropped, never below 0', () => {
    assert.equal(
      pushAgentHeld(agent('a', { received: 10, forwarded: 4, droppedQueueFull: 1, droppedForwardFailed: 2 })),
      3,
    );
    assert.equal(pushAgentHeld(agent('a', { received: 1, forwarded: 4 })), 0);
  });
});

describe("an agent's books from its /metrics/self", () => {
  const text = [
    'collector_packets_total{transport="udp"} 120',
    'collector_packets_total{transport="tcp"} 0',
    'collector_udp_socket_drops_total 7',
    'collector_parse_errors_total{reason="bad_value"} 2',
    'collector_parse_errors_total{reason="ok"} 0',
    'collector_series_rejected_total{reason="max_series"} 3',
    'collector_agent_tally_total{stage="received"} 1000',
    'collector_agent_tally_total{stage="aggregated"} 990',
    'collector_agent_tally_total{stage="forwarded"} 900',
    'collector_agent_tally_total{stage="dropped_queue_full"} 40',
    'collector_agent_tally_total{stage="dropped_forward_failed"} 10',
    'collector_agent_tally_total{stage="dropped_too_large"} 0',
    'collector_agent_tally_queued 40',
    'collector_agent_points_refused_total 5',
    'collector_agent_requests_total{outcome="2xx"} 9',
    'collector_agent_requests_total{outcome="error"} 4',
    'collector_agent_retries_total 4',
    'collector_agent_queue_points 12',
    '',
  ].join('\n');
  it('reads every stage, drop and refusal', () => {
    const r = pushAgentReadingOf('agent-0', text, 5);
    assert.deepEqual(r.orders, {
      received: 1000,
      aggregated: 990,
      forwarded: 900,
      queued: 40,
      droppedQueueFull: 40,
      droppedForwardFailed: 10,
      droppedTooLarge: 0,
    });
    assert.equal(r.datagrams, 120);
    assert.equal(r.socketDrops, 7);
    assert.deepEqual(r.refusedLines, { bad_value: 2, max_series: 3 });
    assert.deepEqual(r.requests, { '2xx': 9, error: 4 });
    assert.equal(r.pointsRefused, 5);
    assert.equal(r.retries, 4);
    assert.equal(r.queuePeakPoints, 12);
    assert.equal(pushAgentHeld(r), 50);
  });
});

describe('--push-topology', () => {
  const cases: { argv: string[]; want: string | RegExp }[] = [
    { argv: [], want: 'central' },
    { argv: ['--push-topology', 'central'], want: 'central' },
    { argv: ['--push-topology', 'agent', '--runtime', 'process'], want: 'agent' },
    {
      argv: ['--push-topology', 'agent', '--transport', 'tcp'],
      want: /StatsD over UDP, not --transport tcp/,
    },
    { argv: ['--push-topology', 'agent', '--push-mode', 'off'], want: /--push-mode off/ },
    // #27: every runtime runs the agent tier (process: a process, docker: a container, swarm: a node's task).
    { argv: ['--push-topology', 'agent', '--runtime', 'docker'], want: 'agent' },
    { argv: ['--push-topology', 'agent', '--runtime', 'swarm'], want: 'agent' },
    { argv: ['--push-topology', 'sidecar'], want: /push-topology/ },
  ];
  for (const c of cases)
    it(c.argv.join(' ') || '(default)', () => {
      if (typeof c.want === 'string') {
        const { config } = parseBurstFlags(c.argv, {});
        assert.equal(config.pushTopology ?? 'central', c.want);
      } else assert.throws(() => parseBurstFlags(c.argv, {}), c.want);
    });
  it('labels the path', () => {
    const c = { pushMode: 'per-event', transport: 'udp' as const, flushIntervalMs: 10_000 };
    assert.equal(pushLabel({ ...c, pushTopology: 'agent' }), 'push (agent → OTLP/HTTP)');
    assert.equal(pushLabel(c), 'push (per-event UDP)');
  });
});

describe('agent cost per host', () => {
  it('cores over the window and peak RSS, from the per-process reads', () => {
    const s = (tMs: number, cpu: number, rss: number) =>
      ({ tMs, cpu: { 'agent-0': cpu }, rss: { 'agent-0': rss } }) as unknown as ProbeSample;
    const samples = [s(0, 1, 10), s(1000, 1.1, 30), s(3000, 1.5, 20), s(9000, 9, 99)];
    assert.deepEqual(pushAgentCosts(samples, ['agent-0', 'agent-1'], 1000, 3000), [
      { name: 'agent-0', cpuCores: 0.2, rssPeakBytes: 30 },
      { name: 'agent-1', cpuCores: null, rssPeakBytes: null },
    ]);
  });
});

describe("the agents' drops at each probe second (withAgentDrops)", () => {
  const at = (tMs: number) => ({ tMs }) as ProbeSample;
  const cases: { what: string; timeline: { tMs: number; total: number }[]; want: (number | null)[] }[] = [
    { what: 'no reading yet: null', timeline: [], want: [null, null, null] },
    {
      what: 'the last reading at or before each tick',
      timeline: [
        { tMs: 900, total: 0 },
        { tMs: 1000, total: 5 },
        { tMs: 2500, total: 40 },
      ],
      want: [5, 5, 40],
    },
    {
      what: 'a reading after the tick waits for the next one',
      timeline: [{ tMs: 2001, total: 9 }],
      want: [null, null, 9],
    },
  ];
  for (const c of cases)
    it(c.what, () =>
      assert.deepEqual(
        withAgentDrops([at(1000), at(2000), at(3000)], c.timeline).map((s) => s.pushAgentDrops),
        c.want,
      ),
    );
});
