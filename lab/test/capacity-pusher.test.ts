import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import { groupBody, prepareGateway, pushStep, quantile } from '../src/capacity/pusher.ts';
import { pushCost } from '../src/capacity/pushgateway.ts';

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

describe('prepareGateway: every step starts from the same state', () => {
  it('seeds every group once, then waits until a probe push answers within the settle time', async () => {
    let slowLeft = 3; // the backlog of a failed step: the first probes answer late
    const { url, seen } = await server((r, reply) => {
      if (
        r.url.endsWith('/pod-0') &&
        seen.filter((x) => x.url.endsWith('/pod-0')).length > 1 &&
        slowLeft > 0
      ) {
        slowLeft--;
        setTimeout(() => reply(200), 250);
      } else reply(200);
    });
    const p = await prepareGateway({
      url,
      groups: 6,
      seriesPerGroup: 2,
      seed: true,
      settleMs: 100,
      maxMs: 10_000,
      signal: new AbortController().signal,
    });
    assert.equal(p.seeded, 6);
    assert.equal(p.settled, true);
    const puts = seen.filter((x) => x.method === 'PUT').map((x) => x.url);
    assert.deepEqual(
      puts.slice(0, 6).sort(),
      [0, 1, 2, 3, 4, 5].map((i) => `/pg/metrics/job/capacity/instance/pod-${i}`),
    );
    assert.equal(slowLeft, 0, 'it kept probing until the backlog was gone');
  });

  it('gives up after maxMs on a Pushgateway that stays slow, and says so', async () => {
    const { url } = await server((_r, reply) => setTimeout(() => reply(200), 300));
    const p = await prepareGateway({
      url,
      groups: 2,
      seriesPerGroup: 2,
      seed: false,
      settleMs: 50,
      maxMs: 1500,
      signal: new AbortController().signal,
    });
    assert.equal(p.seeded, 0);
    assert.equal(p.settled, false);
    assert.ok(p.settleS >= 1.5 && p.settleS < 5, `gave up after ${p.settleS} s`);
  });
});

describe("pushCost: the Pushgateway's CPU per push, and per push per stored series", () => {
  const cases: [string, number | undefined, number, number, ReturnType<typeof pushCost>][] = [
    // 1.17 cores at 12 pushes/s with 1,400 × 40 series stored (2026-12-01): 97.5 ms per push, 1.74 µs per series
    [
      'the 2026-12-01 figure',
      1.17,
      12,
      56_000,
      { cpuUsPerPush: 97_500, cpuNsPerPushPerStoredSeries: 1741.07 },
    ],
    [
      '0.5 cores at 1,000 pushes/s, 4,000 series',
      0.5,
      1000,
      4000,
      { cpuUsPerPush: 500, cpuNsPerPushPerStoredSeries: 125 },
    ],
    ['no CPU reading', undefined, 12, 56_000, { cpuUsPerPush: null, cpuNsPerPushPerStoredSeries: null }],
    ['no push answered', 0.4, 0, 56_000, { cpuUsPerPush: null, cpuNsPerPushPerStoredSeries: null }],
  ];
  for (const [name, cores, rate, series, want] of cases)
    it(name, () => assert.deepEqual(pushCost(cores, rate, series), want));
});
