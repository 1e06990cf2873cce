import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LEDGER_KEYS, ManualClock } from '@pushpull/common';
import type { ControlState, Ledger, Producer } from '../src/index.ts';
import { type ErrorBody, request, startSinkedProducer, T0, type UdpSink } from './helpers.ts';

describe('control API', () => {
  let p: Producer;
  let clock: ManualClock;
  let base: string;
  let sink: UdpSink;

  before(async () => {
    clock = new ManualClock(T0);
    ({ p, base, sink } = await startSinkedProducer({ pods: 3, name: 'ctl', clock, fleetPods: 1400 }));
    for (let i = 0; i < 50; i++) {
      clock.advance(100);
      p.tick();
    }
  });

  after(async () => {
    await p.stop();
    await sink.close();
  });

  it('GET /control/state describes pods, phase, push settings and rates', async () => {
    const r = await request(base, 'GET', '/control/state');
    assert.equal(r.status, 200);
    const s = r.json<ControlState>();
    assert.equal(s.name, 'ctl');
    assert.deepEqual(s.pods, ['ctl-p0', 'ctl-p1', 'ctl-p2']);
    assert.equal(s.phase, 'steady');
    assert.deepEqual(s.push, {
      mode: 'buffered',
      jitter: true,
      transport: 'udp',
      heartbeatMs: 5000,
      flushIntervalMs: 10000,
      otlpTemporality: 'cumulative',
    });
    assert.equal(s.schedule, null);
    assert.equal(s.fleetOrdersPerSecond, 4000);
    assert.ok(Math.abs(s.podOrdersPerSecond - 4000 / 1400) < 1e-9);
  });

  it('GET /control/ledger has the contract shape, per pod and in total', async () => {
    const r = await request(base, 'GET', '/control/ledger');
    assert.equal(r.status, 200);
    const l = r.json<Ledger>();
    assert.equal(l.name, 'ctl');
    assert.equal(l.quiesced, false);
    assert.equal(l.atMs, clock.now());
    // The wire shape is the shared contract's (@pushpull/common), field for field.
    const keys: readonly string[] = LEDGER_KEYS;
    assert.deepEqual(Object.keys(l.total).sort(), [...keys].sort());
    assert.deepEqual(Object.keys(l.pods), ['ctl-p0', 'ctl-p1', 'ctl-p2']);
    for (const k of keys) {
      const key = k as keyof Ledger['total'];
      assert.equal(
        l.total[key],
        Object.values(l.pods).reduce((a, c) => a + c[key], 0),
        `total.${k} is the sum of the pods`,
      );
    }
    assert.ok(l.total.orders > 0);
    for (const c of ['pullRecordNs', 'pushSendNs'] as const)
      assert.deepEqual(Object.keys(l.cost[c]).sort(), ['count', 'mean', 'p50', 'p99']);
  });

  const badSchedules: [string, unknown, string | null][] = [
    ['a missing startAtMs', {}, 'startAtMs'],
    ['a string startAtMs', { startAtMs: 'soon' }, 'startAtMs'],
    ['a negative startAtMs', { startAtMs: -1 }, 'startAtMs'],
    ['a startAtMs in seconds far ahead', { startAtMs: T0 * 1000 }, 'startAtMs'],
    ['an unknown field', { startAtMs: T0 + 5000, ramp: 3 }, 'ramp'],
    [
      'a bad profile field',
      { startAtMs: T0 + 5000, profile: { name: 'x' } },
      'profile.steadyOrdersPerSecond',
    ],
    [
      'a negative profile ramp',
      {
        startAtMs: T0 + 5000,
        profile: {
          name: 'x',
          steadyOrdersPerSecond: 1,
          peakOrdersPerSecond: 2,
          rampMs: -1,
          holdMs: 0,
          decayMs: 0,
          afterOrdersPerSecond: 1,
          instruments: { steady: 1, open: 0 },
        },
      },
      'profile.rampMs',
    ],
    ['an array body', [1, 2], null],
  ];
  const badPush: [string, unknown, string | null][] = [
    ['an unknown mode', { mode: 'carrier-pigeon' }, 'mode'],
    ['a numeric jitter', { jitter: 1 }, 'jitter'],
    ['an unknown transport', { transport: 'quic' }, 'transport'],
    ['a too-short flush interval', { flushIntervalMs: 5 }, 'flushIntervalMs'],
    ['a fractional heartbeat', { heartbeatMs: 1.5 }, 'heartbeatMs'],
    ['a valid mode with an unknown field', { mode: 'aggregated', speed: 'fast' }, 'speed'],
    ['a string body', 'per-event', null],
  ];

  for (const [route, table] of [
    ['schedule', badSchedules],
    ['push', badPush],
  ] as const) {
    for (const [what, body, field] of table) {
      it(`POST /control/${route} with ${what} -> 400 naming ${field ?? 'the body'}, workload untouched`, async () => {
        const stateBefore = (await request(base, 'GET', '/control/state')).json<ControlState>();
        const ledgerBefore = (await request(base, 'GET', '/control/ledger')).text;
        const r = await request(base, 'POST', `/control/${route}`, JSON.stringify(body));
        assert.equal(r.status, 400, r.text);
        const e = r.json<ErrorBody>();
        assert.equal(e.error.code, 'LAB_ERR_CONTROL');
        assert.equal(e.error.field, field);
        if (field) assert.ok(e.error.message.includes(field), e.error.message);
        assert.deepEqual((await request(base, 'GET', '/control/state')).json<ControlState>(), stateBefore);
        assert.equal((await request(base, 'GET', '/control/ledger')).text, ledgerBefore);
      });
    }
  }

  it('rejects a body that is not JSON, naming the body', async () => {
    const r = await request(base, 'POST', '/control/push', '{mode: per-event');
    assert.equal(r.status, 400);
    assert.equal(r.json<ErrorBody>().error.field, 'body');
  });

  it('rejects an oversized body with 413', async () => {
    const r = await request(
      base,
      'POST',
      '/control/schedule',
      `{"startAtMs": 1, "x": "${'a'.repeat(1.1 * 2 ** 20)}"}`,
    );
    assert.equal(r.status, 413);
  });

  it('answers 404 for unknown routes and pods, 405 for wrong methods', async () => {
    assert.equal((await request(base, 'GET', '/control/nope')).status, 404);
    assert.equal((await request(base, 'GET', '/pods/nope/metrics')).status, 404);
    assert.equal((await request(base, 'GET', '/nope')).status, 404);
    assert.equal((await request(base, 'GET', '/control/schedule')).status, 405);
    assert.equal((await request(base, 'POST', '/control/state', '{}')).status, 405);
  });

  it('serves /healthz, the process /metrics and every pod /metrics', async () => {
    assert.equal((await request(base, 'GET', '/healthz')).text, 'ok\n');
    const self = await request(base, 'GET', '/metrics');
    assert.match(self.text, /^producer_pods 3$/m);
    for (const id of p.core.podIds) {
      const r = await request(base, 'GET', `/pods/${id}/metrics`);
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /text\/plain/);
      assert.match(r.text, /^orders_total\{region="in-west",side="buy",instrument="EQ0001"\} \d+$/m);
    }
  });

  it('POST /control/push switches mode, jitter, interval and heartbeat at runtime', async () => {
    const r = await request(base, 'POST', '/control/push', {
      mode: 'aggregated',
      jitter: false,
      flushIntervalMs: 2000,
      heartbeatMs: 0,
    });
    assert.equal(r.status, 200, r.text);
    const s = r.json<ControlState>();
    assert.deepEqual(s.push, {
      mode: 'aggregated',
      jitter: false,
      transport: 'udp',
      heartbeatMs: 0,
      flushIntervalMs: 2000,
      otlpTemporality: 'cumulative',
    });
    const before = p.ledger().total.orders;
    for (let i = 0; i < 30; i++) {
      clock.advance(100);
      p.tick();
    }
    assert.ok(p.ledger().total.orders > before, 'the workload keeps running after a switch');
    // an empty body changes nothing
    const same = await request(base, 'POST', '/control/push', '');
    assert.equal(same.status, 200);
    assert.equal(same.json<ControlState>().push.mode, 'aggregated');
  });

  it('POST /control/schedule with an absolute start ramps at that instant', async () => {
    const startAtMs = clock.now() + 1000;
    const r = await request(base, 'POST', '/control/schedule', { startAtMs });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json<ControlState>().phase, 'scheduled');
    assert.deepEqual(r.json<ControlState>().schedule, { startAtMs });
    assert.equal(r.json<ControlState>().openedAtMs, null, 'not open before the instant');
    clock.set(startAtMs - 1);
    p.tick();
    assert.equal((await request(base, 'GET', '/control/state')).json<ControlState>().openedAtMs, null);
    clock.set(startAtMs + 400);
    p.tick();
    const s = (await request(base, 'GET', '/control/state')).json<ControlState>();
    assert.equal(s.openedAtMs, startAtMs + 400, 'the first tick at or after the open, in its own clock');
    assert.equal(s.testClockSkewMs, undefined, 'no skew, no field');
    assert.equal(s.phase, 'ramp');
    assert.equal(s.fleetOrdersPerSecond, 192000);
  });

  it('POST /control/schedule accepts a custom profile', async () => {
    const profile = {
      name: 'mini-burst',
      steadyOrdersPerSecond: 1400,
      peakOrdersPerSecond: 14000,
      rampMs: 100,
      holdMs: 1000,
      decayMs: 100,
      afterOrdersPerSecond: 1400,
      instruments: { steady: 37, open: 10 },
    };
    const r = await request(base, 'POST', '/control/schedule', { startAtMs: clock.now() + 100, profile });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json<ControlState>().profile, 'mini-burst');
  });

  it('POST /control/quiesce stops orders, flushes, and returns the final ledger; later changes get 409', async () => {
    const r = await request(base, 'POST', '/control/quiesce');
    assert.equal(r.status, 200);
    const l = r.json<Ledger>();
    assert.equal(l.quiesced, true);
    // buffered, then aggregated: every order was handed to the push client once quiesce flushed
    assert.equal(l.total.ordersPushed, l.total.orders);
    assert.equal(l.total.sendErrors, 0);
    clock.advance(5000);
    p.tick();
    assert.equal(p.ledger().total.orders, l.total.orders, 'no orders after quiesce');
    assert.equal((await request(base, 'GET', '/control/state')).json<ControlState>().phase, 'quiesced');
    const again = await request(base, 'POST', '/control/schedule', { startAtMs: clock.now() + 10 });
    assert.equal(again.status, 409);
    assert.equal((await request(base, 'POST', '/control/push', { mode: 'per-event' })).status, 409);
  });
});
