import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isLabError, ManualClock, silentLogger } from '@pushpull/common';
import { resolveConfig } from '../src/config.ts';
import { ProducerCore } from '../src/core.ts';
import { buildServer, DEFAULT_HTTP_LIMITS } from '../src/http/server.ts';
import { createProducer, type Producer, validateProfile } from '../src/index.ts';
import { SelfMetrics } from '../src/self-metrics.ts';
import { type ErrorBody, MINI_PROFILE, request, sleep, T0, waitFor } from './helpers.ts';

// The fastify server's hardening: schemas that agree with the pure validators, body limits however the
// body arrives, any content type parsed as JSON, every /control answer counted, a connection limit and a
// headers timeout. Real sockets on 127.0.0.1:0.

const GOOD = {
  ...MINI_PROFILE,
  description: 'x',
  latency: { medianMs: 50, sigma: 0.5, tailProbability: 0.02, tailMedianMs: 400, tailSigma: 0.7 },
  rejectRatio: 0.01,
  queueDepthEveryMs: 1000,
};

/** One fault each, so the schema and validateProfile have one thing to name. */
const BAD_PROFILES: [string, Record<string, unknown>][] = [
  ['a bad name', { ...GOOD, name: 'x y' }],
  ['a numeric description', { ...GOOD, description: 5 }],
  ['a long description', { ...GOOD, description: 'd'.repeat(4097) }],
  ['a missing rampMs', { ...GOOD, rampMs: undefined }],
  ['a fractional holdMs', { ...GOOD, holdMs: 1.5 }],
  ['a negative rate', { ...GOOD, afterOrdersPerSecond: -1 }],
  ['a rate over the maximum', { ...GOOD, peakOrdersPerSecond: 1e9 }],
  ['an unknown key', { ...GOOD, burst: true }],
  ['instruments as a number', { ...GOOD, instruments: 3 }],
  ['zero steady instruments', { ...GOOD, instruments: { steady: 0, open: 1 } }],
  ['an unknown instruments key', { ...GOOD, instruments: { steady: 1, open: 1, x: 1 } }],
  ['a latency sigma over 3', { ...GOOD, latency: { ...GOOD.latency, sigma: 4 } }],
  ['an unknown latency key', { ...GOOD, latency: { p99: 1 } }],
  ['a reject ratio over 1', { ...GOOD, rejectRatio: 2 }],
  ['a too-fast queue depth sample', { ...GOOD, queueDepthEveryMs: 10 }],
];

describe('control API on fastify', () => {
  let p: Producer;
  let base: string;
  const clock = new ManualClock(T0);

  before(async () => {
    p = createProducer(
      { pods: 2, name: 'fy', http: '127.0.0.1:0', pushMode: 'off', processMetrics: false, maxConnections: 8 },
      { clock, autoTick: false },
    );
    base = (await p.start()).http;
  });
  after(() => p.stop());

  it('a good profile passes both the schema and validateProfile', async () => {
    validateProfile(GOOD);
    const r = await request(base, 'POST', '/control/schedule', { startAtMs: T0 + 1000, profile: GOOD });
    assert.equal(r.status, 200, r.text);
  });

  for (const [what, profile] of BAD_PROFILES) {
    it(`a profile with ${what}: the schema names the field validateProfile names`, async () => {
      let expected = '';
      assert.throws(
        () => validateProfile(JSON.parse(JSON.stringify(profile))),
        (e: unknown) => {
          assert.ok(isLabError(e, 'LAB_ERR_PROFILE'));
          expected = String(e.details?.field);
          return true;
        },
      );
      const r = await request(base, 'POST', '/control/schedule', { startAtMs: T0 + 1000, profile });
      assert.equal(r.status, 400, r.text);
      const e = r.json<ErrorBody>().error;
      assert.equal(e.field, expected, e.message);
      assert.ok(e.message.startsWith(`${expected}: `), e.message);
    });
  }

  it('takes a JSON body whatever content type the client declared, or none (curl -d sends a form type)', async () => {
    for (const type of [
      'application/x-www-form-urlencoded',
      'text/plain',
      'application/json; charset=utf-8',
    ]) {
      const r = await raw(base, 'POST', '/control/push', '{"heartbeatMs":7000}', { 'content-type': type });
      assert.equal(r.status, 200, `${type}: ${r.text}`);
      assert.equal(JSON.parse(r.text).push.heartbeatMs, 7000);
    }
    const none = await raw(base, 'POST', '/control/push', '{"heartbeatMs":6000}', {});
    assert.equal(none.status, 200, `no content type: ${none.text}`);
    assert.equal(JSON.parse(none.text).push.heartbeatMs, 6000);
  });

  it('answers 413 for a body over 1 MiB sent chunked, without a content-length', async () => {
    const chunk = 'a'.repeat(600 * 1024);
    const r = await raw(base, 'POST', '/control/push', [`{"x":"${chunk}`, `${chunk}"}`], {
      'content-type': 'application/json',
    });
    assert.equal(r.status, 413, r.text);
    assert.deepEqual(JSON.parse(r.text).error.field, 'body');
    assert.match(JSON.parse(r.text).error.message, /larger than 1048576 bytes/);
    assert.equal((await request(base, 'GET', '/healthz')).status, 200);
  });

  it('GET on a pod answers its registry; HEAD the same headers without a body', async () => {
    const id = p.core.podIds[0]!;
    const get = await request(base, 'GET', `/pods/${id}/metrics`);
    assert.equal(get.text, await p.core.pod(id)!.render(), 'the body is the registry, byte for byte');
    const head = await request(base, 'HEAD', `/pods/${id}/metrics`);
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal(head.headers['content-type'], get.headers['content-type']);
    assert.equal(Number(head.headers['content-length']), Buffer.byteLength(get.text));
    // a peak-sized body takes the Buffer path: the same bytes
    const big = p.core.podIds[1]!;
    p.core.pod(big)!.listInstruments(517);
    const peak = await request(base, 'GET', `/pods/${big}/metrics`);
    assert.ok(peak.text.length > 200_000, `${peak.text.length} chars`);
    assert.equal(peak.text, await p.core.pod(big)!.render());
    assert.equal(Number(peak.headers['content-length']), Buffer.byteLength(peak.text));
  });

  it('counts every /control answer by route and status, errors included', async () => {
    await request(base, 'POST', '/control/push', '{"mode":"x"}');
    await request(base, 'GET', '/control/nope');
    await request(base, 'DELETE', '/control/state');
    const m = (await request(base, 'GET', '/metrics')).text;
    assert.match(m, /^producer_control_requests_total\{route="push",code="400"\} [1-9]/m);
    assert.match(m, /^producer_control_requests_total\{route="other",code="404"\} 1$/m);
    assert.match(m, /^producer_control_requests_total\{route="state",code="405"\} 1$/m);
  });

  it('refuses connections past maxConnections and serves again once one closes', async () => {
    const held: net.Socket[] = [];
    try {
      for (let i = 0; i < 8; i++) held.push(await connect(base));
      // the 9th is accepted by the kernel and closed by node at once: no response, the process unharmed
      const extra = await connect(base);
      const closed = await waitFor(() => extra.destroyed || extra.readableEnded, 2000);
      extra.destroy();
      assert.ok(closed, 'the connection over the limit was closed');
      held.pop()?.destroy();
      await sleep(50);
      assert.equal((await request(base, 'GET', '/healthz')).status, 200);
    } finally {
      for (const s of held) s.destroy();
    }
  });
});

describe('fastify server timeouts', () => {
  it('answers 408 and closes a connection whose headers never finish (slowloris)', async () => {
    const clock = new ManualClock(T0);
    const cfg = resolveConfig({ pods: 1, name: 'slow', pushMode: 'off', processMetrics: false });
    const app = buildServer({
      core: new ProducerCore(cfg, clock, silentLogger),
      self: new SelfMetrics({ pods: 1, name: 'slow', processMetrics: false }),
      clock,
      logger: silentLogger,
      limits: {
        ...DEFAULT_HTTP_LIMITS,
        maxConnections: 10,
        headersTimeoutMs: 300,
        requestTimeoutMs: 600,
        checkIntervalMs: 100,
      },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = app.server.address() as net.AddressInfo;
      const s = await connect(`127.0.0.1:${port}`);
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString()));
      const t0 = Date.now();
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); // and never the empty line that ends the headers
      const closed = await waitFor(() => s.destroyed || s.readableEnded, 5000);
      const tookMs = Date.now() - t0;
      s.destroy();
      assert.ok(closed, 'the server closed the connection');
      assert.match(got, /^HTTP\/1\.1 408/);
      assert.ok(tookMs >= 250 && tookMs < 3000, `closed after ${tookMs} ms`);
    } finally {
      await app.close();
    }
  });
});

function connect(base: string): Promise<net.Socket> {
  const [host, port] = base.split(':');
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port: Number(port) }, () => resolve(s));
    s.on('error', () => {}); // a reset of the refused connection is expected
    s.once('error', reject);
  });
}

/** A request with explicit headers; an array body is written in chunks (transfer-encoding: chunked). */
function raw(
  base: string,
  method: string,
  path: string,
  body: string | string[],
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const [host, port] = base.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), method, path, headers, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    if (Array.isArray(body)) {
      for (const c of body) req.write(c);
      req.end();
    } else req.end(body);
  });
}
