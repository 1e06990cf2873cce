import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Ledger } from '../src/index.ts';
import { request, sleep } from './helpers.ts';

// End to end over OTLP/HTTP: the built producer (dist/main.js, `serve --statsd otlp://…`: per-pod
// OpenTelemetry MeterProviders with the real protobuf exporter) pushing to the built collector's receiver
// (dist/main.js, `--otlp-http`), both real processes on 127.0.0.1. After a quiesce (every pod's provider
// shut down, so its final export happened) the producer's ledger and the receiver's books must agree
// exactly: points, requests, retries, orders. Each test is bounded (~20 s) and kills what it started.
//
// Back-pressure needs requests that overlap at the receiver, and the producer's own exports do not: on
// loopback each arrives whole in one read and the single-threaded receiver finishes it before it reads the
// next socket, so the in-flight budget never holds two at once (tried while writing this test: 8 pods,
// jitter off, 1 KiB budget, ~124 KB requests, 3 rounds: no 429). A slow sender does hold it, as on a real
// network: the test sends one request of its own all but its last byte across an export boundary.

const HERE = dirname(fileURLToPath(import.meta.url));
const PRODUCER_MAIN = join(HERE, '..', 'dist', 'main.js');
const COLLECTOR_MAIN = join(HERE, '..', '..', 'collector', 'dist', 'main.js');

interface Service {
  child: ChildProcess;
  listening: Record<string, unknown>;
  log: () => string;
}

const started: ChildProcess[] = [];
after(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Spawns a built service and resolves on its JSON "listening" line (10 s at most). */
function spawnService(main: string, args: string[]): Promise<Service> {
  assert.ok(existsSync(main), `${main} missing: run "npm run build" first`);
  const child = spawn(process.execPath, [main, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '' },
  });
  started.push(child);
  let out = '';
  let err = '';
  const log = () => `stdout: ${out}\nstderr: ${err}`;
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${main}: no listening line in 10 s; ${log()}`));
    }, 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      const seen = out.length;
      out += d.toString();
      for (const line of out.slice(out.lastIndexOf('\n', seen) + 1).split('\n')) {
        if (!line.includes('"listening"')) continue;
        clearTimeout(timer);
        resolve({ child, listening: JSON.parse(line) as Record<string, unknown>, log });
        return;
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${main} exited ${code} before listening; ${log()}`));
    });
  });
}

/** SIGTERM, then the exit code (SIGKILL after 10 s). */
function stop(s: Service): Promise<number | null> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return Promise.resolve(s.child.exitCode);
  return new Promise((resolve) => {
    const t = setTimeout(() => s.child.kill('SIGKILL'), 10_000);
    s.child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
    s.child.kill('SIGTERM');
  });
}

/** Sum of the samples named `name` (exact) whose labels include `match`, in a Prometheus text body. */
function value(body: string, name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labels = line.startsWith(`${name}{`) ? line.slice(name.length, line.lastIndexOf('}') + 1) : '';
    if (Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`)))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

interface Books {
  ledger: Ledger;
  /** The collector's /metrics/self and /metrics. */
  self: string;
  metrics: string;
}

interface Rig {
  collector: Service;
  producer: Service;
  /** HOST:PORT of each one's HTTP. */
  collectorHttp: string;
  producerHttp: string;
  otlp: string;
  pods: number;
  /** Requests of the test's own slow sender (not the producer's) that the receiver answered, each 200. */
  held: number;
}

async function startRig(collectorArgs: string[], producerArgs: string[], pods: number): Promise<Rig> {
  const collector = await spawnService(COLLECTOR_MAIN, [
    '--statsd-udp',
    '127.0.0.1:0',
    '--statsd-tcp',
    'off',
    '--http',
    '127.0.0.1:0',
    '--otlp-http',
    '127.0.0.1:0',
    ...collectorArgs,
  ]);
  const otlp = String(collector.listening.otlp);
  assert.match(otlp, /^127\.0\.0\.1:[1-9]\d*$/);
  const producer = await spawnService(PRODUCER_MAIN, [
    'serve',
    '--pods',
    String(pods),
    '--http',
    '127.0.0.1:0',
    '--statsd',
    `otlp://${otlp}`,
    '--profile',
    'steady',
    // 4,000 orders/s over 40 fleet pods: 100 orders/s for each of ours
    '--fleet-pods',
    '40',
    ...producerArgs,
  ]);
  return {
    collector,
    producer,
    collectorHttp: String(collector.listening.http),
    producerHttp: String(producer.listening.http),
    otlp,
    pods,
    held: 0,
  };
}

async function stopRig(r: Rig): Promise<void> {
  const p = await stop(r.producer);
  const c = await stop(r.collector);
  assert.equal(p, 0, `producer exit code; ${r.producer.log()}`);
  assert.equal(c, 0, `collector exit code; ${r.collector.log()}`);
}

const text = async (base: string, path: string) => {
  const res = await request(base, 'GET', path);
  assert.equal(res.status, 200, `${base}${path}`);
  return res.text;
};

async function books(r: Rig): Promise<Books> {
  const res = await request(r.producerHttp, 'GET', '/control/ledger');
  assert.equal(res.status, 200, res.text);
  return {
    ledger: res.json<Ledger>(),
    self: await text(r.collectorHttp, '/metrics/self'),
    metrics: await text(r.collectorHttp, '/metrics'),
  };
}

const answered = (self: string, code?: string) =>
  value(self, 'collector_otlp_requests_total', code === undefined ? {} : { code });

/**
 * Every export has ended (one 200, or a failure, each) and every request the producer sent was answered.
 * An export's result may arrive after the quiesce answered (it is bounded by the exporter's timeout).
 */
function settled(r: Rig, b: Books): boolean {
  const t = b.ledger.total;
  return (
    t.otlpExports === answered(b.self, '200') - r.held + t.otlpExportsFailed &&
    t.otlpRequests === answered(b.self) - r.held
  );
}

/** Polls the books until `cond` holds (at most `timeoutMs`); returns the last ones read. */
async function waitBooks(r: Rig, cond: (b: Books) => boolean, timeoutMs: number): Promise<Books> {
  const deadline = Date.now() + timeoutMs;
  let b = await books(r);
  while (!cond(b) && Date.now() < deadline) {
    await sleep(100);
    b = await books(r);
  }
  return b;
}

async function quiesce(r: Rig): Promise<Books> {
  const q = await request(r.producerHttp, 'POST', '/control/quiesce', {}, 15_000);
  assert.equal(q.status, 200, q.text);
  return waitBooks(r, (b) => settled(r, b), 6000);
}

/** What holds whatever happened on the way: the ledger's orders are the receiver's, pod by pod. */
function assertOrdersReconcile(r: Rig, b: Books): void {
  const t = b.ledger.total;
  assert.equal(t.ordersPushed, t.orders, 'every generated order was recorded into a meter');
  for (const [pod, c] of Object.entries(b.ledger.pods)) {
    assert.equal(
      value(b.metrics, 'orders', { pod }),
      c.otlpOrdersExported,
      `${pod}: orders at the collector`,
    );
    assert.ok(c.otlpExports >= 2, `${pod}: ${c.otlpExports} exports`);
  }
  assert.equal(value(b.metrics, 'orders'), t.otlpOrdersExported, 'Σ orders at the collector');
  assert.equal(value(b.self, 'collector_otlp_points_total', { outcome: 'refused' }), 0, 'nothing refused');
  assert.equal(
    value(b.self, 'collector_otlp_points_total', { outcome: 'accepted' }),
    t.otlpPointsExported,
    'points accepted by the receiver = Σ otlpPointsExported',
  );
  assert.equal(
    answered(b.self, '200') - r.held,
    t.otlpExports - t.otlpExportsFailed,
    'one 200 per export that made it',
  );
  assert.equal(value(b.self, 'collector_otlp_inflight_bytes'), 0);
}

async function steady(temporality: 'cumulative' | 'delta'): Promise<void> {
  const pods = 4;
  const r = await startRig(
    [],
    ['--flush-interval', '1s', '--heartbeat', '500ms', '--otlp-temporality', temporality],
    pods,
  );
  try {
    await sleep(3500);
    const b = await quiesce(r);
    assert.ok(settled(r, b), `settled: ${JSON.stringify(b.ledger.total)}\n${b.self}`);
    const t = b.ledger.total;
    assert.ok(t.orders > pods * 200, `${t.orders} orders`);
    assert.equal(Object.keys(b.ledger.pods).length, pods);
    assertOrdersReconcile(r, b);
    // Nothing pushed back and nothing lost: every order, rejection, latency and heartbeat delivered.
    assert.equal(t.otlpExportsFailed, 0);
    assert.equal(t.otlpPointsFailed, 0);
    assert.equal(t.otlpOrdersExported, t.ordersPushed, 'Σ otlpOrdersExported = Σ ordersPushed');
    for (const [pod, c] of Object.entries(b.ledger.pods)) {
      assert.equal(c.otlpOrdersExported, c.ordersPushed, pod);
      assert.ok(c.otlpExports >= 3, `${pod}: periodic exports and the final one (${c.otlpExports})`);
    }
    assert.equal(value(b.metrics, 'orders'), t.ordersPushed);
    assert.equal(value(b.metrics, 'order_rejects'), t.rejects, 'rejects');
    assert.equal(value(b.metrics, 'order_latency_count'), t.ordersPushed, 'one latency per order');
    assert.equal(value(b.metrics, 'heartbeat'), t.heartbeats, 'heartbeats');
    assert.ok(t.heartbeats >= pods * 5, `${t.heartbeats} heartbeats`);
    assert.equal(t.otlpRequests, t.otlpExports, 'no retries');
    assert.equal(t.otlpRequestsRetryable, 0);
    assert.equal(answered(b.self, '200'), t.otlpRequests, 'every request answered 200');
    assert.equal(answered(b.self), t.otlpRequests, 'and nothing else');
    assert.equal(t.datagrams, 0, 'no StatsD socket used');
    // After the quiesce nothing more is exported (the providers are shut down).
    await sleep(1500);
    assert.equal(answered((await books(r)).self), t.otlpRequests, 'nothing exported after quiesce');
  } finally {
    await stopRig(r);
  }
}

const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(n >>> 7)]);

/**
 * A valid OTLP request without a data point, ~1,000 bytes: ExportMetricsServiceRequest{resource_metrics:
 * [ResourceMetrics{schema_url (field 3): "xxx…"}]}, written field by field from the OTLP protobuf.
 */
function pointlessRequest(): Buffer {
  const inner = [0x1a, ...varint(950), ...Buffer.alloc(950, 'x')];
  return Buffer.from([0x0a, ...varint(inner.length), ...inner]);
}

/**
 * A slow sender on the receiver: the request above sent all but its last byte, so its bytes hold the
 * in-flight budget (--otlp-max-inflight-bytes) until `release()` sends the last byte; the receiver then
 * answers it 200 (counted in r.held).
 */
async function holdBudget(r: Rig): Promise<{ release(): Promise<void> }> {
  const body = pointlessRequest();
  const [host, port] = r.otlp.split(':') as [string, string];
  const sock = net.connect(Number(port), host);
  let answer = '';
  sock.on('data', (d: Buffer) => {
    answer += d.toString('latin1');
  });
  sock.on('error', () => {});
  const inflight = async () =>
    value(await text(r.collectorHttp, '/metrics/self'), 'collector_otlp_inflight_bytes');
  try {
    await new Promise<void>((res, rej) => {
      sock.once('connect', res);
      sock.once('error', rej);
    });
    sock.write(
      `POST /v1/metrics HTTP/1.1\r\nHost: ${r.otlp}\r\nContent-Type: application/x-protobuf\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    sock.write(body.subarray(0, -1));
    for (let i = 0; i < 100 && (await inflight()) < body.length; i++) await sleep(10);
    assert.ok((await inflight()) >= body.length, 'the slow sender holds the budget');
  } catch (e) {
    sock.destroy();
    throw e;
  }
  return {
    release: async () => {
      sock.write(body.subarray(-1));
      for (let i = 0; i < 200 && !answer.includes('\r\n\r\n'); i++) await sleep(10);
      sock.destroy();
      assert.match(answer, /^HTTP\/1\.1 200 /, 'the slow request is answered 200');
      r.held++;
    },
  };
}

// Back-pressure: jitter off, so every pod exports at the same wall-clock boundary (t mod interval = 0),
// 3 s interval = the exporter's timeout: attempts at +0, +1 and +2 s (Retry-After: 1 s), no more.
const BP_INTERVAL = 3000;
const nextBoundary = () => Math.ceil((Date.now() + 400) / BP_INTERVAL) * BP_INTERVAL;
const sleepUntil = (t: number) => sleep(Math.max(0, t - Date.now()));

/**
 * Holds the budget from just before the export boundary `at` until the receiver has answered `refusals`
 * more 429s (or 2.9 s after `at`, before the next boundary).
 */
async function holdAcross(r: Rig, at: number, refusals: number): Promise<void> {
  await sleepUntil(at - 300);
  const refused = async () => answered(await text(r.collectorHttp, '/metrics/self'), '429');
  const before = await refused();
  const hold = await holdBudget(r);
  while ((await refused()) < before + refusals && Date.now() < at + 2900) await sleep(50);
  await hold.release();
}

type Totals = Ledger['total'];
const minus = (a: Totals, b: Totals, k: keyof Totals) => a[k] - b[k];

async function backPressure(temporality: 'cumulative' | 'delta'): Promise<void> {
  const pods = 4;
  const r = await startRig(
    ['--otlp-max-inflight-bytes', '1KiB'],
    ['--flush-interval', '3s', '--no-jitter', '--heartbeat', 'off', '--otlp-temporality', temporality],
    pods,
  );
  const round = async (n: number) => {
    const b = await waitBooks(r, (x) => x.ledger.total.otlpExports >= n * pods && settled(r, x), 8000);
    assert.ok(settled(r, b), `round ${n} settled: ${JSON.stringify(b.ledger.total)}\n${b.self}`);
    assert.equal(b.ledger.total.otlpExports, n * pods, `round ${n}: one export per pod`);
    return b;
  };
  try {
    // Round 1, undisturbed.
    const r1 = await round(1);
    assert.equal(r1.ledger.total.otlpRequests, pods, 'round 1: no retries');
    // Round 2: the budget is held until every pod was refused twice: the attempts at +0 and +1 s are
    // answered 429, the one at +2 s gets through.
    await holdAcross(r, nextBoundary(), 2 * pods);
    const r2 = await round(2);
    const d2 = (k: keyof Totals) => minus(r2.ledger.total, r1.ledger.total, k);
    assert.equal(d2('otlpExportsFailed'), 0, 'round 2: every export made it after retrying');
    assert.equal(d2('otlpRequestsRetryable'), 2 * pods, 'round 2: two 429s per pod');
    assert.equal(d2('otlpRequests'), 3 * pods, 'round 2: three requests per export');
    // Round 3: held until every pod was refused three times, the last attempt the timeout allows: every
    // pod's export finally fails.
    await holdAcross(r, nextBoundary(), 3 * pods);
    const r3 = await round(3);
    const d3 = (k: keyof Totals) => minus(r3.ledger.total, r2.ledger.total, k);
    assert.equal(d3('otlpExportsFailed'), pods, 'round 3: every export failed');
    assert.equal(d3('otlpRequestsRetryable'), 3 * pods, 'round 3: three 429s per pod');
    assert.equal(d3('otlpRequests'), 3 * pods, 'round 3: three requests per export');
    // The quiesce: a final export per pod, undisturbed.
    const b = await quiesce(r);
    assert.ok(settled(r, b), `settled: ${JSON.stringify(b.ledger.total)}\n${b.self}`);
    assertOrdersReconcile(r, b);
    const t = b.ledger.total;
    const refused = answered(b.self, '429');
    assert.equal(refused, 5 * pods, '429 answers');
    assert.equal(t.otlpRequestsRetryable, refused, 'retryable answers seen by the producer = 429s sent');
    assert.equal(answered(b.self), answered(b.self, '200') + refused, 'no other answer');
    // The SDK retries after every retryable answer except the last one of an export that fails.
    assert.equal(t.otlpRequests, t.otlpExports + t.otlpRequestsRetryable - t.otlpExportsFailed);
    assert.ok(t.otlpRequests > t.otlpExports, 'the exporter retried');
    assert.equal(t.otlpExportsFailed, pods);
    assert.equal(r.held, 2);
    for (const [pod, c] of Object.entries(b.ledger.pods)) {
      assert.equal(c.otlpExportsFailed, 1, pod);
      assert.ok(c.otlpPointsFailed > 0, `${pod}: the failed export's points are counted`);
      const lost = c.ordersPushed - c.otlpOrdersExported;
      if (temporality === 'cumulative')
        assert.equal(lost, 0, `${pod}: the next export healed the failed one`);
      else assert.ok(lost > 0, `${pod}: delta, the failed export's orders are gone (${lost})`);
    }
  } finally {
    await stopRig(r);
  }
}

describe('producer → collector over OTLP/HTTP (real processes, 127.0.0.1)', () => {
  it('cumulative: ledger and receiver agree exactly', () => steady('cumulative'));
  it('delta: the exports add up to the same totals', () => steady('delta'));

  it('back-pressure, cumulative: 429s retried, a failed export healed by the next', () =>
    backPressure('cumulative'));
  it('back-pressure, delta: 429s retried, a failed export lost and counted', () => backPressure('delta'));
});
