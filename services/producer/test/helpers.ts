// Test helpers: real loopback sockets and HTTP, every wait bounded in time.
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { ManualClock } from '@pushpull/common';
import { createProducer, type Producer, type Profile } from '../src/index.ts';

/** The instant the manual clocks of the control tests start at. */
export const T0 = 1_700_000_000_000;

/** What every refused /control request answers. */
export interface ErrorBody {
  error: { code: string; message: string; field: string | null };
}

/** The smallest valid profile: its required fields only. */
export const MINI_PROFILE = {
  name: 'mini',
  steadyOrdersPerSecond: 10,
  peakOrdersPerSecond: 100,
  rampMs: 100,
  holdMs: 100,
  decayMs: 100,
  afterOrdersPerSecond: 10,
  instruments: { steady: 2, open: 1 },
};

/**
 * A started producer on 127.0.0.1:0 pushing (buffered) to a fresh UDP sink, on `clock` and ticking only
 * when a test says; `base` is its HTTP address. The caller stops both.
 */
export async function startSinkedProducer(o: {
  pods: number;
  name: string;
  clock: ManualClock;
  fleetPods?: number;
}): Promise<{ p: Producer; base: string; sink: UdpSink }> {
  const sink = await udpSink();
  const p = createProducer(
    {
      pods: o.pods,
      name: o.name,
      http: '127.0.0.1:0',
      statsd: `udp://127.0.0.1:${sink.port}`,
      pushMode: 'buffered',
      ...(o.fleetPods === undefined ? {} : { fleetPods: o.fleetPods }),
      processMetrics: false,
    },
    { clock: o.clock, autoTick: false },
  );
  return { p, base: (await p.start()).http, sink };
}

export interface UdpSink {
  port: number;
  datagrams: string[];
  close(): Promise<void>;
}

/** A real UDP socket on 127.0.0.1:0 collecting every datagram; receive buffer raised to what the kernel grants. */
export async function udpSink(): Promise<UdpSink> {
  const sock = dgram.createSocket('udp4');
  const datagrams: string[] = [];
  sock.on('message', (m) => datagrams.push(m.toString('utf8')));
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  try {
    sock.setRecvBufferSize(4 << 20);
  } catch {
    // capped by net.core.rmem_max; the tests keep rates low enough for the default
  }
  return {
    port: sock.address().port,
    datagrams,
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}

export interface TcpSink {
  port: number;
  /** Everything received, concatenated over all connections. */
  text(): string;
  connections: number;
  close(): Promise<void>;
}

export async function tcpSink(): Promise<TcpSink> {
  const chunks: string[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    s.setEncoding('utf8');
    s.on('data', (d: string) => chunks.push(d));
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const sink: TcpSink = {
    port: (server.address() as net.AddressInfo).port,
    text: () => chunks.join(''),
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return sink;
}

/** Waits until `cond()` is true, polling every few ms, at most `timeoutMs`. Returns the final value. */
export async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return cond();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json<T = unknown>(): T;
}

export function request(
  base: string,
  method: string,
  path: string,
  body?: string | object,
  timeoutMs = 5000,
): Promise<HttpResult> {
  const url = new URL(path, `http://${base}`);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        timeout: timeoutMs,
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Sums the values of every sample of `name` (exact name, any labels) in a Prometheus text body. */
export function sumSamples(body: string, name: string): number {
  let total = 0;
  for (const line of body.split('\n')) {
    if (line.startsWith('#')) continue;
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      const v = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (Number.isFinite(v)) total += v;
    }
  }
  return total;
}

/** statsd lines out of datagrams (buffered datagrams hold several, newline separated). */
export function linesOf(datagrams: readonly string[]): string[] {
  return datagrams.flatMap((d) => d.split('\n')).filter((l) => l.length > 0);
}

/** Sums `stat:N|c` lines; for `ms` lines counts observations, honouring `|@rate` as 1/rate. */
export function sumStat(lines: readonly string[], stat: string): number {
  let total = 0;
  for (const l of lines) {
    if (!l.startsWith(`${stat}:`)) continue;
    const parts = l.split('|');
    const value = Number(parts[0]!.slice(stat.length + 1));
    const type = parts[1];
    const rate = parts.find((p) => p.startsWith('@'));
    const r = rate ? Number(rate.slice(1)) : 1;
    if (type === 'c') total += value / r;
    else if (type === 'ms') total += Math.round(1 / r);
    else total += 1;
  }
  return total;
}

/** A flat profile at `fleetOrdersPerSecond` (no burst), with `instruments` trading per pod. */
export function steadyTestProfile(fleetOrdersPerSecond: number, instruments: number): Profile {
  return {
    name: 'test-steady',
    description: '',
    steadyOrdersPerSecond: fleetOrdersPerSecond,
    peakOrdersPerSecond: fleetOrdersPerSecond,
    rampMs: 0,
    holdMs: 0,
    decayMs: 0,
    afterOrdersPerSecond: fleetOrdersPerSecond,
    instruments: { steady: instruments, open: 0 },
    latency: { medianMs: 50, sigma: 0.5, tailProbability: 0.02, tailMedianMs: 400, tailSigma: 0.7 },
    rejectRatio: 0.05,
    queueDepthEveryMs: 1000,
  };
}
