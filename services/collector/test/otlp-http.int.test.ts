// The OTLP/HTTP receiver on 127.0.0.1 port 0, fed by the real OpenTelemetry JS SDK exporters
// (@opentelemetry/exporter-metrics-otlp-proto: application/x-protobuf; -otlp-http: application/json),
// plus every bad input answered with the status the OTLP specification gives, and back-pressure that
// makes the real exporter retry.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as JsonExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { parseHostPort } from '@pushpull/common';
import { type Collector, createCollector } from '../src/index.ts';
import { decodeResponse, encodeRequest } from '../src/parse/otlp.ts';
import { metrics, parseExposition, sum, waitFor } from '../testkit/helpers.ts';

interface Running {
  c: Collector;
  http: string;
  url: string;
}

const running: Collector[] = [];
// SDK providers are shut down only after the tests (shutdown exports once more), before the collectors stop.
const providers: MeterProvider[] = [];
after(async () => {
  for (const p of providers) await p.shutdown();
  for (const c of running) await c.stop();
});

async function start(over: Record<string, string> = {}): Promise<Running> {
  const c = createCollector(
    { statsdUdp: '127.0.0.1:0', statsdTcp: 'off', http: '127.0.0.1:0', otlpHttp: '127.0.0.1:0', ...over },
    { logger: { info() {}, warn() {}, error() {} } as never },
  );
  running.push(c);
  const a = await c.start();
  assert.match(a.otlp ?? '', /^127\.0\.0\.1:[1-9]\d*$/);
  return { c, http: a.http, url: `http://${a.otlp}/v1/metrics` };
}

/** The real exporter, wrapped only to record each export's result code (0 = SUCCESS). */
function recording(real: PushMetricExporter, results: number[]): PushMetricExporter {
  return {
    export: (m, cb) =>
      real.export(m, (r) => {
        results.push(r.code);
        cb(r);
      }),
    forceFlush: () => real.forceFlush(),
    shutdown: () => real.shutdown(),
    selectAggregationTemporality: real.selectAggregationTemporality?.bind(real),
  };
}

function sdk(exporter: PushMetricExporter, pod: string) {
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'otlp-test', pod, 'host.arch': 'x' }),
    readers: [reader],
  });
  providers.push(provider);
  return { meter: provider.getMeter('otlp-test'), flush: () => reader.forceFlush() };
}

async function selfText(http: string): Promise<string> {
  const { host, port } = parseHostPort(http);
  return (await fetch(`http://${host}:${port}/metrics/self`)).text();
}
const selfValue = async (http: string, name: string, labels: Record<string, string> = {}) =>
  sum(parseExposition(await selfText(http)), name, labels);

describe('OTLP/HTTP: the real SDK exporters', () => {
  it('protobuf, cumulative: counter, up-down counter, histogram, gauge land in /metrics with Prometheus names', async () => {
    const r = await start();
    const results: number[] = [];
    const s = sdk(recording(new ProtoExporter({ url: r.url }), results), 'pod-1');
    const orders = s.meter.createCounter('orders.accepted');
    const depth = s.meter.createUpDownCounter('queue.depth');
    const lat = s.meter.createHistogram('order.latency', {
      unit: 's',
      advice: { explicitBucketBoundaries: [0.01, 0.1, 1] },
    });
    s.meter.createObservableGauge('temperature').addCallback((o) => o.observe(21.5, { room: 'a' }));
    orders.add(3, { venue: 'XNYS' });
    orders.add(4, { venue: 'XNYS' });
    depth.add(5);
    depth.add(-2);
    lat.record(0.02);
    lat.record(0.3);
    await s.flush();
    orders.add(10, { venue: 'XNYS' });
    await s.flush(); // cumulative: the second export carries 17, which replaces 7 (not 7 + 17)
    assert.deepEqual(results, [0, 0]);
    const m = await metrics(r.http);
    const base = { service_name: 'otlp-test', pod: 'pod-1' };
    assert.equal(sum(m, 'orders_accepted', { ...base, venue: 'XNYS' }), 17);
    assert.equal(sum(m, 'queue_depth', base), 3);
    assert.equal(sum(m, 'temperature', { ...base, room: 'a' }), 21.5);
    assert.equal(sum(m, 'order_latency_bucket', { ...base, le: '0.1' }), 1);
    assert.equal(sum(m, 'order_latency_bucket', { ...base, le: '+Inf' }), 2);
    assert.equal(sum(m, 'order_latency_count', base), 2);
    assert.ok(Math.abs(sum(m, 'order_latency_sum', base) - 0.32) < 1e-9);
    assert.ok(!m.some((x) => 'host_arch' in x.labels), 'resource attributes not listed stay out');
    assert.equal(await selfValue(r.http, 'collector_otlp_requests_total', { code: '200' }), 2);
    assert.equal(await selfValue(r.http, 'collector_otlp_points_total', { outcome: 'refused' }), 0);
    // 4 points per export (the gauge is observed at each collection): 8 in all
    assert.equal(await selfValue(r.http, 'collector_otlp_points_total', { outcome: 'accepted' }), 8);
    assert.equal(await selfValue(r.http, 'collector_otlp_request_seconds_count'), 2);
  });

  it('protobuf, delta temporality: each export adds', async () => {
    const r = await start();
    const results: number[] = [];
    const exp = new ProtoExporter({
      url: r.url,
      temporalityPreference: AggregationTemporalityPreference.DELTA,
    });
    const s = sdk(recording(exp, results), 'pod-2');
    const orders = s.meter.createCounter('orders.accepted');
    orders.add(3);
    await s.flush();
    orders.add(4);
    await s.flush();
    assert.deepEqual(results, [0, 0]);
    assert.equal(sum(await metrics(r.http), 'orders_accepted', { pod: 'pod-2' }), 7);
  });

  it('JSON (exporter-metrics-otlp-http): the same series', async () => {
    const r = await start({ strictNames: 'on' });
    const results: number[] = [];
    const s = sdk(recording(new JsonExporter({ url: r.url }), results), 'pod-3');
    s.meter.createCounter('orders.accepted').add(5, { venue: 'XLON' });
    s.meter.createHistogram('order.latency', { advice: { explicitBucketBoundaries: [0.5] } }).record(0.2);
    await s.flush();
    assert.deepEqual(results, [0]);
    const m = await metrics(r.http);
    assert.equal(sum(m, 'orders_accepted_total', { pod: 'pod-3', venue: 'XLON' }), 5);
    assert.equal(sum(m, 'order_latency_bucket', { pod: 'pod-3', le: '0.5' }), 1);
    assert.equal(await selfValue(r.http, 'collector_otlp_points_total', { outcome: 'accepted' }), 2);
  });
});

const gauge = (name: string, t: number, v: number) => ({
  resourceMetrics: [
    {
      scopeMetrics: [
        {
          metrics: [
            {
              name,
              gauge: { dataPoints: [{ timeUnixNano: String(BigInt(t) * 1_000_000_000n), asDouble: v }] },
            },
          ],
        },
      ],
    },
  ],
});

describe('OTLP/HTTP: bad input gets the spec status and is counted', () => {
  it('415, 400 (truncated protobuf, broken JSON), 413, 405, 404; an older cumulative point refused in partial_success', async () => {
    const r = await start({ otlpMaxRequestSize: '64KiB' });
    const post = (body: Buffer | string, type: string, headers: Record<string, string> = {}) =>
      fetch(r.url, { method: 'POST', body, headers: { 'content-type': type, ...headers } });
    const good = encodeRequest(gauge('g', 20, 1));
    const cases: [string, () => Promise<Response>, number][] = [
      ['text/plain', () => post('g 1', 'text/plain'), 415],
      ['truncated protobuf', () => post(good.subarray(0, good.length - 3), 'application/x-protobuf'), 400],
      ['broken JSON', () => post('{"resourceMetrics":[', 'application/json'), 400],
      ['oversized', () => post(Buffer.alloc(65 * 1024, 0x41), 'application/x-protobuf'), 413],
      [
        'gzip bomb',
        () => post(gzipSync(Buffer.alloc(1 << 20)), 'application/x-protobuf', { 'content-encoding': 'gzip' }),
        413,
      ],
      ['GET', () => fetch(r.url), 405],
      ['empty protobuf (a valid empty request)', () => post(Buffer.alloc(0), 'application/x-protobuf'), 200],
      ['empty JSON', () => post('', 'application/json'), 400],
      [
        'good, gzip',
        () => post(gzipSync(good), 'application/x-protobuf', { 'content-encoding': 'gzip' }),
        200,
      ],
    ];
    for (const [title, send, code] of cases) {
      const res = await send();
      assert.equal(res.status, code, title);
      await res.arrayBuffer();
    }
    const { host, port } = parseHostPort(r.url.slice(7, r.url.indexOf('/v1')));
    assert.equal((await fetch(`http://${host}:${port}/v1/traces`, { method: 'POST' })).status, 404);
    // an older point for the same gauge: 200 with partial_success naming the reason
    const old = await post(encodeRequest(gauge('g', 10, 2)), 'application/x-protobuf');
    assert.equal(old.status, 200);
    const body = decodeResponse(Buffer.from(await old.arrayBuffer()));
    assert.equal(Number(body.partialSuccess?.rejectedDataPoints), 1);
    assert.match(body.partialSuccess?.errorMessage ?? '', /out_of_order/);
    const jsonOld = await post(JSON.stringify(gauge('g', 5, 3)), 'application/json');
    assert.deepEqual(await jsonOld.json(), {
      partialSuccess: { rejectedDataPoints: '1', errorMessage: 'out_of_order: metric "g"' },
    });
    assert.equal(sum(await metrics(r.http), 'g'), 1);
    for (const [code, n] of [
      ['415', 1],
      ['400', 3],
      ['413', 2],
      ['405', 1],
      ['200', 4],
    ] as const)
      assert.equal(await selfValue(r.http, 'collector_otlp_requests_total', { code }), n, `code ${code}`);
    assert.equal(
      await selfValue(r.http, 'collector_otlp_points_refused_total', { reason: 'out_of_order' }),
      2,
    );
    assert.equal(await selfValue(r.http, 'collector_otlp_inflight_bytes'), 0);
  });
});

describe('OTLP/HTTP: back-pressure', () => {
  it('a full in-flight budget answers 429 + Retry-After; the exporter retries and the books agree', async () => {
    const r = await start({ otlpMaxInflightBytes: '1KiB' });
    // A slow client holds most of the budget: a valid ~990-byte request, sent all but its last byte.
    const held = encodeRequest({
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'slow',
                  gauge: {
                    dataPoints: [
                      {
                        timeUnixNano: '1',
                        asDouble: 1,
                        attributes: [{ key: 'pad', value: { stringValue: 'x'.repeat(940) } }],
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
    assert.ok(held.length > 950 && held.length < 1024, `held request is ${held.length} bytes`);
    const { host, port } = parseHostPort(r.url.slice(7, r.url.indexOf('/v1')));
    const sock = net.connect(port, host);
    let answer = '';
    sock.on('data', (d) => {
      answer += d.toString('latin1');
    });
    await new Promise<void>((res) => sock.once('connect', () => res()));
    sock.write(
      `POST /v1/metrics HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${held.length}\r\n\r\n`,
    );
    sock.write(held.subarray(0, held.length - 1));
    assert.ok(
      await waitFor(async () => (await selfValue(r.http, 'collector_otlp_inflight_bytes')) === held.length),
    );

    // While it is held, another request is turned away with the spec's back-pressure answer.
    const busy = await fetch(r.url, {
      method: 'POST',
      body: encodeRequest(gauge('busy_'.repeat(20), 1, 1)),
      headers: { 'content-type': 'application/x-protobuf' },
    });
    assert.equal(busy.status, 429);
    assert.equal(busy.headers.get('retry-after'), '1');
    await busy.arrayBuffer();

    const results: number[] = [];
    const s = sdk(recording(new ProtoExporter({ url: r.url }), results), 'pod-4');
    s.meter.createCounter('bp.orders').add(42);
    const flushed = s.flush();
    // The exporter is refused at least once, then the slow request completes and frees the budget.
    assert.ok(
      await waitFor(
        async () => (await selfValue(r.http, 'collector_otlp_requests_total', { code: '429' })) >= 1,
      ),
    );
    sock.write(held.subarray(held.length - 1));
    assert.ok(await waitFor(() => answer.startsWith('HTTP/1.1 200')), `slow request answered: ${answer}`);
    sock.destroy();
    await flushed; // the retry (after Retry-After: 1 s) succeeds
    assert.deepEqual(results, [0], 'the export succeeded after retrying');
    const m = await metrics(r.http);
    assert.equal(sum(m, 'bp_orders', { pod: 'pod-4' }), 42);
    assert.equal(sum(m, 'slow'), 1);
    const refused429 = await selfValue(r.http, 'collector_otlp_requests_total', { code: '429' });
    assert.ok(refused429 >= 1);
    // Books: two requests accepted (the slow one and the exporter's retry), each 429 a refused attempt,
    // two points accepted and none refused (a 429 is retried, so its points are not lost).
    assert.equal(await selfValue(r.http, 'collector_otlp_requests_total', { code: '200' }), 2);
    assert.equal(await selfValue(r.http, 'collector_otlp_points_total', { outcome: 'accepted' }), 2);
    assert.equal(await selfValue(r.http, 'collector_otlp_points_total', { outcome: 'refused' }), 0);
    assert.equal(await selfValue(r.http, 'collector_otlp_request_seconds_count'), 2 + refused429);
    assert.equal(await selfValue(r.http, 'collector_otlp_inflight_bytes'), 0);
  });
});

describe('OTLP/HTTP: simultaneous exports whose applies are sliced', () => {
  it('a body that has arrived leaves the in-flight budget: no 429 for exports that only overlap in their apply', async () => {
    // Pods that export at the same instant (jitter off) arrive together. Each body arrives whole, but its
    // apply runs in slices that give the event loop turns, so the next pod's request is read while the
    // previous one is still being applied. The in-flight budget counts bodies being received: those
    // requests must not be refused for each other (1 KiB budget, bodies ~80 KB: any overlap counted
    // there would be a 429). Their chunked bodies (no Content-Length, as the OTel exporter sends them)
    // reserve the whole --otlp-max-request-size while they arrive.
    const r = await start({ otlpMaxInflightBytes: '1KiB' });
    const pods = 6;
    const body = (pod: number) =>
      encodeRequest({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'pod', value: { stringValue: `pod-${pod}` } }] },
            scopeMetrics: [
              {
                metrics: Array.from({ length: 30 }, (_, m) => ({
                  name: `sim.m${m}`,
                  sum: {
                    aggregationTemporality: 2,
                    isMonotonic: true,
                    dataPoints: Array.from({ length: 100 }, (_, v) => ({
                      timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                      asInt: 1,
                      attributes: [{ key: 'venue', value: { stringValue: `v${v}` } }],
                    })),
                  },
                })),
              },
            ],
          },
        ],
      });
    const bodies = Array.from({ length: pods }, (_, p) => body(p));
    const { host, port } = parseHostPort(r.url.slice(7, r.url.indexOf('/v1')));
    // Raw sockets, all connected first, then every request written at once (chunked, one write each).
    const socks = await Promise.all(
      bodies.map(
        () =>
          new Promise<net.Socket>((res, rej) => {
            const s = net.connect(port, host, () => res(s));
            s.once('error', rej);
          }),
      ),
    );
    const answers = socks.map((s) => {
      let a = '';
      s.on('data', (d: Buffer) => {
        a += d.toString('latin1');
      });
      return () => a;
    });
    socks.forEach((s, i) => {
      const b = bodies[i]!;
      s.write(
        Buffer.concat([
          Buffer.from(
            `POST /v1/metrics HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-protobuf\r\n` +
              `Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${b.length.toString(16)}\r\n`,
          ),
          b,
          Buffer.from('\r\n0\r\n\r\n'),
        ]),
      );
    });
    try {
      assert.ok(
        await waitFor(() => answers.every((a) => a().includes('\r\n\r\n')), 20_000),
        'every request answered',
      );
      const codes = answers.map((a) => a().slice(9, 12));
      assert.deepEqual(codes, Array(pods).fill('200'), 'every simultaneous export answered 200');
    } finally {
      for (const s of socks) s.destroy();
    }
    assert.equal(await selfValue(r.http, 'collector_otlp_requests_total', { code: '429' }), 0);
    assert.equal(
      await selfValue(r.http, 'collector_otlp_points_total', { outcome: 'accepted' }),
      pods * 3000,
    );
    assert.equal(await selfValue(r.http, 'collector_otlp_inflight_bytes'), 0);
  });
});
