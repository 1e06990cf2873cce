import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import { groupBody, pushStep, quantile } from '../src/capacity/pusher.ts';

// The rate-driven pusher against an in-process HTTP server on port 0 standing in for the Pushgateway
// (the real one is in capacity.int.test.ts): rate, paths, errors, back-pressure, bounds.

interface Seen {
  method: string;
  url: string;
  body: string;
}

function server(
  handle: (req: Seen, reply: (status: number) => void) => void,
): Promise<{ url: string; seen: Seen[]; s: Server }> {
  const seen: Seen[] = [];
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', body };
      seen.push(r);
      handle(r, (status) => {
        res.statusCode = status;
        res.end(r.method === 'GET' ? 'capacity_orders_total 1\n' : '');
      });
    });
  });
  after(() => s.close());
  return new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/pg`, seen, s }),
    ),
  );
}

const base = {
  groups: 5,
  seriesPerGroup: 4,
  maxInFlight: 16,
  scrapeEveryMs: 300,
  signal: new AbortController().signal,
};

describe('Pushgateway pusher (in-process server on port 0)', () => {
  it('pushes at the rate, PUTs each pod-sized group under the base path, times its scrapes', async () => {
    const { url, seen } = await server((_r, reply) => reply(200));
    const r = await pushStep({ ...base, url, ratePerSec: 200, durationMs: 1000, maxInFlight: 256 });
    const puts = seen.filter((s) => s.method === 'PUT');
    assert.ok(r.scheduled >= 180 && r.scheduled <= 200, String(r.scheduled));
    assert.equal(r.sent, r.scheduled); // 256 slots: a late tick's catch-up burst still finds one free
    assert.equal(r.ok, puts.length);
    assert.equal(r.errors, 0);
    assert.equal(r.unsentPct, 0);
    assert.match(puts[0]!.url, /^\/pg\/metrics\/job\/capacity\/instance\/pod-0$/);
    assert.deepEqual(new Set(puts.map((p) => p.url)).size, 5); // round robin over the groups
    assert.equal(puts[0]!.body.split('\n').filter((l) => l.startsWith('capacity_orders_total{')).length, 4);
    assert.ok(r.latencyP99S !== null && r.latencyP99S < 1);
    assert.ok(r.scrapes >= 1 && r.scrapeMaxS !== null);
    assert.ok(seen.some((s) => s.method === 'GET' && s.url === '/pg/metrics'));
  });

  it('counts refused pushes as errors, and pushes left waiting on a slow gateway as unsent (back-pressure)', async () => {
    const refused = await server((_r, reply) => reply(503));
    const e = await pushStep({ ...base, url: refused.url, ratePerSec: 50, durationMs: 400 });
    assert.ok(e.errors > 0 && e.ok === 0);
    assert.match(e.errorSamples[0]!, /HTTP 503/);
    const slow = await server((r, reply) => setTimeout(() => reply(200), r.method === 'PUT' ? 600 : 0));
    const b = await pushStep({ ...base, url: slow.url, ratePerSec: 100, durationMs: 500, maxInFlight: 4 });
    assert.ok(b.unsentPct > 50, String(b.unsentPct));
    assert.equal(b.sent, 4);
    assert.ok(b.latencyP50S! >= 0.5);
  });

  it('loads only loopback', async () => {
    await assert.rejects(
      pushStep({ ...base, url: 'http://10.0.0.1:9091', ratePerSec: 1, durationMs: 100 }),
      (e: unknown) => isLabError(e, 'LAB_ERR_CONFIG'),
    );
  });

  it('groupBody and quantile', () => {
    const b = groupBody(3, 2, 2);
    assert.equal(
      b,
      '# TYPE capacity_orders_total counter\ncapacity_orders_total{instrument="I-0",side="buy"} 17\ncapacity_orders_total{instrument="I-0",side="sell"} 18\n',
    );
    assert.equal(quantile([1, 2, 3, 4], 0.99), 4);
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
    assert.equal(quantile([], 0.5), null);
  });
});
