// Hostile senders, second pass (issue #23), over real sockets on 127.0.0.1 port 0: the exposition survives
// one bad series, a large export no longer blocks the event loop, a trickled body cannot hold the in-flight
// budget, every refusal is counted, and statuses follow the RFCs.
import assert from 'node:assert/strict';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parseHostPort } from '@pushpull/common';
import { type Collector, createCollector } from '../src/index.ts';
import { encodeRequest } from '../src/parse/otlp.ts';
import { metrics, scrape, sendUdp, sleep, sum, waitFor } from '../testkit/helpers.ts';
import { bigExport } from '../testkit/otlp-export.ts';

const running: Collector[] = [];
after(async () => {
  for (const c of running) await c.stop();
});

async function start(over: Record<string, string> = {}) {
  const c = createCollector(
    {
      statsdUdp: '127.0.0.1:0',
      statsdTcp: '127.0.0.1:0',
      http: '127.0.0.1:0',
      otlpHttp: '127.0.0.1:0',
      ...over,
    },
    { logger: { info() {}, warn() {}, error() {} } as never },
  );
  running.push(c);
  const a = await c.start();
  return { c, a, url: `http://${a.otlp}/v1/metrics` };
}

const nowNs = () => String(BigInt(Date.now()) * 1_000_000n);
const post = (url: string, body: Buffer, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...headers }, body });

/** A raw HTTP exchange: what the server answers to bytes no fetch would send. */
function raw(addr: string, text: string): Promise<string> {
  const { host, port } = parseHostPort(addr);
  return new Promise((res, rej) => {
    const s = net.connect(port, host, () => s.write(text));
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
    });
    s.on('close', () => res(got));
    s.on('error', rej);
    s.setTimeout(5000, () => s.destroy());
  });
}

describe('one bad series cannot break the exposition (class 1)', () => {
  it('a histogram with thousands of bounds and long attributes: refused; /metrics answers 200 with StatsD series', async () => {
    const { a, url } = await start();
    await sendUdp(a.udp, ['statsd_orders:5|c']);
    const n = 4000;
    const attributes = Array.from({ length: 150 }, (_, i) => ({
      key: `k${i}`,
      value: { stringValue: 'v'.repeat(1000) },
    }));
    const body = encodeRequest({
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'wide',
                  histogram: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      {
                        timeUnixNano: nowNs(),
                        count: 0,
                        explicitBounds: Array.from({ length: n }, (_, i) => i),
                        bucketCounts: Array(n + 1).fill(0),
                        attributes,
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    assert.equal((await post(url, body)).status, 200);
    assert.ok(await waitFor(async () => sum(await metrics(a.http), 'statsd_orders') === 5));
    const r = await scrape(a.http);
    assert.equal(r.status, 200);
  });
});

describe('one request cannot stall ingest (class 2)', () => {
  it('a few KB of gzip that inflates to millions of empty points: 413 before the work, counted', async () => {
    const { a, url } = await start();
    // metric{name, gauge{data_points × many}}: each empty point is 2 bytes on the wire (0x0a 0x00)
    const points = Buffer.alloc(3_000_000);
    for (let i = 0; i < points.length; i += 2) points[i] = 0x0a;
    const gauge = Buffer.concat([Buffer.from([0x2a]), varint(points.length), points]);
    const metric = Buffer.concat([Buffer.from([0x12]), varint(gauge.length), gauge]);
    const scope = Buffer.concat([Buffer.from([0x12]), varint(metric.length), metric]);
    const rm = Buffer.concat([Buffer.from([0x0a]), varint(scope.length), scope]);
    const gz = gzipSync(rm);
    assert.ok(gz.length < 20_000, `gzip body ${gz.length} bytes`);
    const t0 = performance.now();
    const res = await post(url, gz, { 'content-encoding': 'gzip' });
    const ms = performance.now() - t0;
    assert.equal(res.status, 413);
    assert.match(await res.text(), /otlp-max-points/);
    const s = await metrics(a.http);
    assert.equal(sum(s, 'collector_otlp_requests_total', { code: '413' }), 1);
    console.log(`# 1.5M-empty-point gzip bomb (${gz.length} B): 413 in ${ms.toFixed(0)} ms`);
  });

  it('a 30,000-point export yields to the event loop: the worst block is a small share of its time', async () => {
    const { c, url } = await start();
    const body = bigExport();
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const t0 = performance.now();
    const res = await post(url, body);
    const total = performance.now() - t0;
    h.disable();
    assert.equal(res.status, 200);
    assert.equal(c.otlp.stats.pointsAccepted, 30_000);
    const worst = h.max / 1e6;
    console.log(
      `# 30k-point export (${body.length} B): ${total.toFixed(0)} ms, worst event-loop block ${worst.toFixed(1)} ms`,
    );
    // Before: one block of the whole decode+apply (0.5–0.9 s on this machine; 691 ms in this test on the base
    // commit). Now: slices of ~2 ms; what remains are GC pauses of the decoded request's objects (30–60 ms,
    // more on a loaded machine), so the bound leaves room for a shared machine.
    assert.ok(worst < 300 && worst < total / 2, `worst block ${worst} ms of ${total} ms`);
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

describe('a slow body cannot hold the in-flight budget (class 3)', () => {
  it('trickling clients are cut at --otlp-body-timeout (408, counted); a real exporter then gets 200', async () => {
    const { a, url } = await start({
      otlpMaxInflightBytes: '40KiB',
      otlpMaxRequestSize: '20KiB',
      otlpBodyTimeout: '500ms',
    });
    const { host, port } = parseHostPort(a.otlp!);
    const slow: net.Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const s = net.connect(port, host);
      s.on('error', () => {});
      s.write(
        `POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 20480\r\n\r\n`,
      );
      slow.push(s);
    }
    const trickle = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write('\n');
    }, 50);
    try {
      await sleep(100);
      // Two trickled bodies hold the whole budget: a real export is turned away for now...
      const real = encodeRequest({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [{ name: 'real', gauge: { dataPoints: [{ timeUnixNano: nowNs(), asDouble: 1 }] } }],
              },
            ],
          },
        ],
      });
      assert.equal((await post(url, real)).status, 429);
      // ...until the body deadline frees it (before: until Node's request timeout, over a minute of 429s)
      assert.ok(await waitFor(async () => (await post(url, real)).status === 200, 3000, 100));
      const s = await metrics(a.http);
      assert.equal(sum(s, 'collector_http_refused_total', { reason: 'body_timeout' }), 2);
      assert.equal(sum(s, 'collector_otlp_requests_total', { code: '408' }), 2);
      assert.equal(sum(s, 'collector_otlp_inflight_bytes'), 0);
    } finally {
      clearInterval(trickle);
      for (const s of slow) s.destroy();
    }
  });
});

describe('every drop is counted (class 7)', () => {
  it('connections over --http-max-connections on the OTLP port are counted', async () => {
    const { a } = await start({ httpMaxConnections: '3' });
    const { host, port } = parseHostPort(a.otlp!);
    const idle: net.Socket[] = [];
    for (let i = 0; i < 5; i++) {
      const s = net.connect(port, host);
      s.on('error', () => {});
      idle.push(s);
    }
    try {
      assert.ok(
        await waitFor(
          async () =>
            sum(await metrics(a.http), 'collector_http_refused_total', { reason: 'connections' }) >= 2,
        ),
      );
    } finally {
      for (const s of idle) s.destroy();
    }
  });

  it('a TCP stream reset with an unterminated last line: that line counts as truncated_line', async () => {
    const { a } = await start();
    const { host, port } = parseHostPort(a.tcp!);
    const s = net.connect(port, host);
    await new Promise<void>((r) => s.once('connect', () => r()));
    await new Promise<void>((r) => s.write('whole:1|c\npart:2|c', () => r()));
    await sleep(50);
    s.resetAndDestroy();
    assert.ok(
      await waitFor(
        async () =>
          sum(await metrics(a.http), 'collector_parse_errors_total', { reason: 'truncated_line' }) === 1,
      ),
    );
    const m = await metrics(a.http);
    assert.equal(sum(m, 'whole'), 1);
    assert.equal(sum(m, 'collector_lines_total', { transport: 'tcp' }), 2);
  });

  it('Content-Length: -1 gets 400 and is counted, on both listeners', async () => {
    const { a } = await start();
    for (const addr of [a.otlp!, a.http]) {
      const got = await raw(addr, 'POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n');
      assert.match(got, /^HTTP\/1\.1 400/);
    }
    assert.equal(sum(await metrics(a.http), 'collector_http_refused_total', { reason: 'bad_request' }), 2);
  });
});

describe('statuses (class 8)', () => {
  it('an unsupported Content-Encoding is 415 (RFC 9110), counted', async () => {
    const { a, url } = await start();
    const res = await post(url, Buffer.from('x'), { 'content-encoding': 'br' });
    assert.equal(res.status, 415);
    assert.equal(sum(await metrics(a.http), 'collector_otlp_requests_total', { code: '415' }), 1);
  });
});
