import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCollector } from '@pushpull/collector';
import { silentLogger } from '@pushpull/common';
import { createProducer, type Ledger, type Profile, type PushMode } from '../src/index.ts';
import { request, sleep, sumSamples } from './helpers.ts';

// Reconciliation: a known workload (a small burst, real clock, real timers) is pulled by scraping every
// /pods/<id>/metrics and pushed to a real collector on loopback; with nothing overloaded the ground-truth
// ledger must equal what each path delivered, exactly.
//   pull delivered = Σ orders_total over the pods' /metrics   == ledger.total.orders
//   push delivered = Σ orders on the collector's /metrics     == ledger.total.ordersPushed

const PODS = 5;

const miniBurst: Profile = {
  name: 'mini-burst',
  description: 'steady 40/s per pod, 400/s per pod for 1 s',
  steadyOrdersPerSecond: 200,
  peakOrdersPerSecond: 2000,
  rampMs: 200,
  holdMs: 1000,
  decayMs: 500,
  afterOrdersPerSecond: 400,
  instruments: { steady: 20, open: 40 },
  latency: { medianMs: 50, sigma: 0.5, tailProbability: 0.02, tailMedianMs: 400, tailSigma: 0.7 },
  rejectRatio: 0.02,
  queueDepthEveryMs: 250,
};

async function scrapeAll(base: string, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of ids) {
    const r = await request(base, 'GET', `/pods/${id}/metrics`);
    assert.equal(r.status, 200);
    out.set(id, r.text);
  }
  return out;
}

function labelled(body: string, name: string, label: string, value: string): number {
  return sumSamples(
    body
      .split('\n')
      .filter((l) => l.includes(`${label}="${value}"`))
      .join('\n'),
    name,
  );
}

async function reconcile(mode: PushMode, transport: 'udp' | 'tcp'): Promise<void> {
  const collector = createCollector(
    { statsdUdp: '127.0.0.1:0', statsdTcp: '127.0.0.1:0', http: '127.0.0.1:0' },
    { logger: silentLogger },
  );
  const caddr = await collector.start();
  const target = transport === 'udp' ? caddr.udp : caddr.tcp!;
  const producer = createProducer({
    name: `rec-${mode}-${transport}`,
    pods: PODS,
    fleetPods: PODS,
    http: '127.0.0.1:0',
    statsd: `${transport}://${target}`,
    pushMode: mode,
    profile: miniBurst,
    flushInterval: 500,
    heartbeat: 300,
    processMetrics: false,
  });
  try {
    const { http } = await producer.start();
    const ids = producer.core.podIds;
    const sched = await request(http, 'POST', '/control/schedule', { startAtMs: Date.now() + 300 });
    assert.equal(sched.status, 200, sched.text);
    // Run through the burst while scraping like a Prometheus would (bounded: ~2.6 s).
    for (let i = 0; i < 10; i++) {
      await scrapeAll(http, ids);
      await sleep(250);
    }
    const q = await request(http, 'POST', '/control/quiesce');
    assert.equal(q.status, 200);
    const ledger = q.json<Ledger>();
    const t = ledger.total;
    assert.ok(t.orders > 1500, `a real burst ran (${t.orders} orders)`);
    assert.equal(t.sendErrors, 0, 'nothing overloaded');

    // pull: the pods' registries hold exactly what was generated, per pod and in total
    const bodies = await scrapeAll(http, ids);
    let pulled = 0;
    for (const id of ids) {
      const n = sumSamples(bodies.get(id)!, 'orders_total');
      assert.equal(n, ledger.pods[id]!.orders, `pull ${id}`);
      assert.equal(
        sumSamples(bodies.get(id)!, 'order_rejects_total'),
        ledger.pods[id]!.rejects,
        `rejects ${id}`,
      );
      assert.equal(sumSamples(bodies.get(id)!, 'order_latency_seconds_count'), ledger.pods[id]!.orders);
      pulled += n;
    }
    assert.equal(pulled, t.orders, 'pull delivered == ledger.total.orders');

    // push: the collector counted exactly what the ledger says was handed to the socket
    let body = '';
    for (let i = 0; i < 60; i++) {
      body = (await request(caddr.http, 'GET', '/metrics')).text;
      if (sumSamples(body, 'orders') >= t.ordersPushed) break;
      await sleep(50);
    }
    assert.equal(t.ordersPushed, t.orders, 'quiesce flushed every push buffer');
    assert.equal(sumSamples(body, 'orders'), t.ordersPushed, 'push delivered == ledger.total.ordersPushed');
    for (const id of ids)
      assert.equal(labelled(body, 'orders', 'pod', id), ledger.pods[id]!.ordersPushed, id);
    assert.equal(sumSamples(body, 'order_rejects'), t.rejects, 'rejects');
    assert.equal(sumSamples(body, 'heartbeat'), t.heartbeats, 'heartbeats');
    assert.ok(t.heartbeats >= PODS * 5, `${t.heartbeats} heartbeats`);
    assert.equal(
      sumSamples(body, 'order_latency_ms_count'),
      t.ordersPushed,
      'one latency observation per order',
    );
    assert.equal(labelled(body, 'collector_lines_total', 'transport', transport), t.pushEvents, 'lines');
    assert.equal(labelled(body, 'collector_bytes_total', 'transport', transport), t.bytes, 'bytes');
    if (transport === 'udp')
      assert.equal(labelled(body, 'collector_packets_total', 'transport', 'udp'), t.datagrams, 'datagrams');
    assert.equal(sumSamples(body, 'collector_parse_errors_total'), 0, 'no parse errors');
  } finally {
    await producer.stop();
    await collector.stop();
  }
}

describe('reconciliation against a real collector and scrapes (loopback, not overloaded)', () => {
  for (const mode of ['per-event', 'buffered', 'aggregated'] as const) {
    it(`${mode} over udp: ledger == delivered on both paths`, () => reconcile(mode, 'udp'));
  }
  it('buffered over tcp: ledger == delivered on both paths', () => reconcile('buffered', 'tcp'));
});
