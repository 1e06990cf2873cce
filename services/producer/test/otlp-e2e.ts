// Helpers of the OTLP end-to-end test (otlp-collector.int.test.ts): the built producer and collector as
// real child processes on 127.0.0.1, the books on both sides (the producer's ledger, the receiver's
// self-metrics and exposition), and a slow sender that holds the receiver's in-flight budget.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ledger } from '../src/index.ts';
import { request, sleep } from './helpers.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const PRODUCER_MAIN = join(HERE, '..', 'dist', 'main.js');
const COLLECTOR_MAIN = join(HERE, '..', '..', 'collector', 'dist', 'main.js');

interface Service {
  child: ChildProcess;
  listening: Record<string, unknown>;
  log: () => string;
}

const started: ChildProcess[] = [];
/** SIGKILLs every service these helpers started that is still running (for an `after` hook). */
export function killAll(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

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
    let found = false;
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (found) return;
      // complete lines only: a chunk may end inside one
      const line = out
        .split('\n')
        .slice(0, -1)
        .find((l) => l.includes('"msg":"listening"'));
      if (line === undefined) return;
      found = true;
      clearTimeout(timer);
      try {
        resolve({ child, listening: JSON.parse(line) as Record<string, unknown>, log });
      } catch (e) {
        reject(e);
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
export function value(body: string, name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labels = line.startsWith(`${name}{`) ? line.slice(name.length, line.lastIndexOf('}') + 1) : '';
    if (Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`)))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export interface Books {
  ledger: Ledger;
  /** The collector's /metrics/self and /metrics. */
  self: string;
  metrics: string;
}

export interface Rig {
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

export async function startRig(collectorArgs: string[], producerArgs: string[], pods: number): Promise<Rig> {
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

export async function stopRig(r: Rig): Promise<void> {
  const p = await stop(r.producer);
  const c = await stop(r.collector);
  assert.equal(p, 0, `producer exit code; ${r.producer.log()}`);
  assert.equal(c, 0, `collector exit code; ${r.collector.log()}`);
}

export const text = async (base: string, path: string) => {
  const res = await request(base, 'GET', path);
  assert.equal(res.status, 200, `${base}${path}`);
  return res.text;
};

export async function books(r: Rig): Promise<Books> {
  const res = await request(r.producerHttp, 'GET', '/control/ledger');
  assert.equal(res.status, 200, res.text);
  return {
    ledger: res.json<Ledger>(),
    self: await text(r.collectorHttp, '/metrics/self'),
    metrics: await text(r.collectorHttp, '/metrics'),
  };
}

export const answered = (self: string, code?: string) =>
  value(self, 'collector_otlp_requests_total', code === undefined ? {} : { code });
/** Back-pressure answers: 429, or 503 (the OTLP specification allows both, with Retry-After). */
export const pushedBack = (self: string) => answered(self, '429') + answered(self, '503');

/**
 * The books agree that every export has ended (one 200, or a failure, each) and every request the producer
 * sent was answered. Necessary, not sufficient: the receiver counts a 200 a moment before the producer has
 * read it and recorded the export's success, hence waitBooks reads twice.
 */
export function settled(r: Rig, b: Books): boolean {
  const t = b.ledger.total;
  return (
    t.otlpExports === answered(b.self, '200') - r.held + t.otlpExportsFailed &&
    t.otlpRequests === answered(b.self) - r.held &&
    t.otlpRequestsRetryable === pushedBack(b.self)
  );
}

const otlpCounts = (b: Books) =>
  JSON.stringify(
    Object.values(b.ledger.pods).map((c) => Object.entries(c).filter(([k]) => k.startsWith('otlp'))),
  );

/**
 * Polls the books until `cond` holds twice in a row, 150 ms apart, with the same OTLP counts in the ledger
 * (at most `timeoutMs`); returns the last ones read.
 */
export async function waitBooks(r: Rig, cond: (b: Books) => boolean, timeoutMs: number): Promise<Books> {
  const deadline = Date.now() + timeoutMs;
  let b = await books(r);
  while (Date.now() < deadline) {
    if (cond(b)) {
      await sleep(150);
      const again = await books(r);
      if (cond(again) && otlpCounts(again) === otlpCounts(b)) return again;
      b = again;
    } else {
      await sleep(100);
      b = await books(r);
    }
  }
  return b;
}

export async function quiesce(r: Rig): Promise<Books> {
  const q = await request(r.producerHttp, 'POST', '/control/quiesce', {}, 15_000);
  assert.equal(q.status, 200, q.text);
  return waitBooks(r, (b) => settled(r, b), 6000);
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
export async function holdBudget(r: Rig): Promise<{ release(): Promise<void> }> {
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
