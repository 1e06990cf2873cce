// Agent mode end to end over real sockets on 127.0.0.1: StatsD over UDP into an agent collector, which
// forwards OTLP/HTTP protobuf deltas to a central collector's OTLP receiver; the central /metrics holds
// exactly what the agent accepted, and the agent's books balance. Then the central collector goes away:
// the agent queues, then drops, each counted by reason.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseHostPort } from '@pushpull/common';
import { type Collector, createCollector } from '../src/index.ts';
import { metrics, parseExposition, sendUdp, sum, waitFor } from '../testkit/helpers.ts';

const quiet = { logger: { info() {}, warn() {}, error() {} } as never };
const running: Collector[] = [];
after(async () => {
  for (const c of running) await c.stop();
});

async function start(over: Record<string, string>) {
  const c = createCollector(
    { statsdUdp: '127.0.0.1:0', statsdTcp: 'off', http: '127.0.0.1:0', ...over },
    quiet,
  );
  running.push(c);
  return { c, a: await c.start() };
}

async function self(http: string) {
  const { host, port } = parseHostPort(http);
  return parseExposition(await (await fetch(`http://${host}:${port}/metrics/self`)).text());
}

const orderLines = (pod: string, n: number) =>
  Array.from(
    { length: n },
    (_, i) =>
      `orders:1|c|#pod:${pod},region:eu\norder.latency_ms:${i % 40}|ms|#region:eu\norder.queue_depth:${i}|g`,
  );

describe('agent mode: StatsD in, OTLP/HTTP out to the central collector', () => {
  it('the central collector counts exactly what the agent accepted; the books balance', async () => {
    const central = await start({ otlpHttp: '127.0.0.1:0' });
    const agent = await start({
      mode: 'agent',
      forwardOtlp: `http://${central.a.otlp}`,
      flushInterval: '200ms',
      forwardTally: 'orders',
      forwardMaxPoints: '2',
    });
    await sendUdp(agent.a.udp, [...orderLines('a', 300), ...orderLines('b', 200)]);
    const delivered = async () => sum(await metrics(central.a.http), 'orders');
    assert.ok(
      await waitFor(async () => (await delivered()) === 500, 5000),
      `central holds ${await delivered()}`,
    );
    const s = await self(agent.a.http);
    const v = (name: string, l: Record<string, string> = {}) => sum(s, name, l);
    assert.equal(v('collector_agent_tally_total', { stage: 'received' }), 500);
    assert.equal(v('collector_agent_tally_total', { stage: 'forwarded' }), 500);
    assert.equal(v('collector_agent_tally_queued'), 0);
    // Points: aggregated = forwarded + refused + dropped + queued.
    const dropped = v('collector_agent_points_dropped_total');
    assert.equal(dropped, 0);
    assert.equal(
      v('collector_agent_points_aggregated_total'),
      v('collector_agent_points_forwarded_total') +
        v('collector_agent_points_refused_total') +
        v('collector_agent_queue_points'),
    );
    // --forward-max-points 2: every request carried at most 2 points.
    assert.ok(
      v('collector_agent_requests_total', { outcome: '2xx' }) >=
        v('collector_agent_points_forwarded_total') / 2,
    );
    const cm = await metrics(central.a.http);
    assert.equal(sum(cm, 'order_latency_ms_count'), 500);
    assert.equal(sum(cm, 'order_queue_depth'), 199, 'the last gauge value');
  });

  it('the central collector down: the agent queues, then drops what does not fit, counted', async () => {
    const central = await start({ otlpHttp: '127.0.0.1:0' });
    const url = `http://${central.a.otlp}`;
    await central.c.stop();
    const agent = await start({
      mode: 'agent',
      forwardOtlp: url,
      flushInterval: '100ms',
      forwardTally: 'orders',
      forwardQueuePoints: '3',
      forwardMaxElapsed: '1m',
    });
    let sent = 0;
    for (let i = 0; i < 4; i++) {
      await sendUdp(agent.a.udp, [`orders:1|c|#pod:p${i}`]);
      sent++;
      await new Promise((r) => setTimeout(r, 250));
    }
    const s = await self(agent.a.http);
    const v = (name: string, l: Record<string, string> = {}) => sum(s, name, l);
    assert.equal(v('collector_agent_tally_total', { stage: 'received' }), sent);
    assert.equal(v('collector_agent_tally_total', { stage: 'forwarded' }), 0);
    const queued = v('collector_agent_tally_queued');
    const full = v('collector_agent_tally_total', { stage: 'dropped_queue_full' });
    assert.equal(queued, 3, 'the queue holds 3 points');
    assert.equal(full, sent - 3, 'the rest dropped: queue full');
    assert.ok(v('collector_agent_requests_total', { outcome: 'error' }) >= 2, 'retried the dead central');
  });
});
