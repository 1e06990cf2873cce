// The probe loop against an in-process HTTP server on port 0 that plays Prometheus, the collector,
// node-exporter and a producer whose ledger answers slowly: ticks stay 1 s apart, the slow source never
// overlaps itself and never holds the others back.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { mergeInto, ProbeLoop } from '../src/probe/loop.ts';
import { PromClient } from '../src/probe/prom.ts';
import { ledger, sample } from './fixtures.ts';

let server: Server;
let base = '';
let ledgerInFlight = 0;
let ledgerMaxInFlight = 0;
let ledgerRequests = 0;

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/api/v1/query') {
      const q = url.searchParams.get('query') ?? '';
      const result = q.includes('probe_key')
        ? [
            { metric: { probe_key: 'targets' }, value: [0, '5'] },
            { metric: { probe_key: 'targetsUp' }, value: [0, '5'] },
            { metric: { probe_key: 'scrapeMax' }, value: [0, '0.2'] },
          ]
        : [{ metric: {}, value: [0, '1234'] }];
      return json({ status: 'success', data: { resultType: 'vector', result } });
    }
    if (url.pathname === '/api/v1/alerts') return json({ status: 'success', data: { alerts: [] } });
    // #24: targets' health and scrape durations come from /api/v1/targets, not PromQL.
    if (url.pathname === '/api/v1/targets') {
      const target = (d: number) => ({
        labels: { job: 'producers' },
        health: 'up',
        lastScrapeDuration: d,
        scrapeTimeout: '2s',
      });
      return json({
        status: 'success',
        data: { activeTargets: [0.05, 0.1, 0.1, 0.15, 0.2].map(target) },
      });
    }
    // The store's own /metrics: rule evaluations missed, without PromQL.
    if (url.pathname === '/metrics') {
      res.end('prometheus_rule_group_iterations_missed_total{rule_group="g"} 3\n');
      return;
    }
    // The probe reads the collector's self-metrics only (its whole exposition is the push side's load).
    if (url.pathname === '/metrics/self') {
      res.end('collector_lines_total{transport="udp"} 10\ncollector_packets_total{transport="udp"} 20\n');
      return;
    }
    if (url.pathname === '/node/metrics') {
      res.end('node_netstat_Udp_InErrors 1\nnode_netstat_Udp_RcvbufErrors 1\n');
      return;
    }
    if (url.pathname === '/control/ledger') {
      ledgerRequests++;
      ledgerInFlight++;
      ledgerMaxInFlight = Math.max(ledgerMaxInFlight, ledgerInFlight);
      setTimeout(() => {
        ledgerInFlight--;
        json({ name: 'producer-0', atMs: 0, quiesced: false, total: ledger({ orders: 7 }), pods: {} });
      }, 2500);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

describe('probe loop', () => {
  it('ticks every second; a slow source neither overlaps itself nor delays the others', async () => {
    const loop = new ProbeLoop(
      {
        prom: new PromClient(base),
        promSlow: new PromClient(base),
        collectorUrl: base,
        nodeExporterUrl: `${base}/node`,
        members: () => [{ name: 'producer-0', baseUrl: base, podIds: ['producer-0-p0'], handle: '1' }],
        cpuSeconds: async () => ({ 'producer-0': 1, prometheus: 2 }),
        dead: async () => [],
        scrapeIntervalMs: 2000,
      },
      { maxDurationMs: 60_000 },
    );
    loop.start();
    await new Promise((r) => setTimeout(r, 5200));
    await loop.stop();
    const s = loop.samples;
    assert.ok(s.length >= 5 && s.length <= 7, `${s.length} samples in 5.2 s`);
    const gaps = s.slice(1).map((x, i) => x.tMs - s[i]!.tMs);
    assert.ok(
      Math.max(...gaps) < 1500,
      `ticks stay ~1 s apart despite a 2.5 s source (gaps ${gaps.join(', ')})`,
    );
    assert.equal(ledgerMaxInFlight, 1, 'the slow ledger source never overlaps itself');
    assert.ok(ledgerRequests <= 2, `${ledgerRequests} ledger requests in 5 s`);
    assert.ok(s.filter((x) => x.node !== null).length >= 4, 'node-exporter sampled every tick meanwhile');
    assert.ok(
      s.filter((x) => x.cpu?.producers === 1).length >= 4,
      'cpu grouped: producer members → producers',
    );
    assert.ok(
      s.some((x) => x.ledger?.orders === 7),
      'the slow ledger landed in the sample current when it completed',
    );
    assert.ok(s.some((x) => x.pull?.targets === 5 && x.pull.targetsUp === 5 && x.pull.scrapeMax === 0.2));
    assert.ok(
      s.some((x) => x.stores?.prometheus?.ruleMissed === 3),
      'the store read through its /metrics',
    );
    assert.ok(s.some((x) => x.collector?.lines === 10 && x.collector.packets === 20));
    assert.ok(
      !s.some((x) => x.collector?.orders),
      'push delivered is read in Prometheus, not from the collector',
    );
  });

  it('merges a source’s values into a sample without erasing the others', () => {
    const t = sample(0, { pull: { ...sample(0).pull!, storedOrders: 99 } });
    const from = sample(0, {
      pull: { ...sample(0).pull!, storedOrders: null as unknown as number, targets: 42 },
      collector: null,
      node: null,
      ledger: null,
      alerts: null,
      cpu: null,
    });
    mergeInto(t, from);
    assert.equal(t.pull?.storedOrders, 99);
    assert.equal(t.pull?.targets, 42);
    assert.notEqual(t.collector, null);
  });
});
