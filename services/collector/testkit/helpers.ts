// Helpers shared by the tests and the benches (benches never import from test/): a minimal, independent reader of the Prometheus text format, loopback senders, and the
// Ingest and self-metric values the pure unit tests render expositions from.
import dgram from 'node:dgram';
import net from 'node:net';
import { parseHostPort } from '@pushpull/common';
import { Ingest, type IngestOptions } from '../src/aggregate/ingest.ts';
import { exposition, type SelfValues } from '../src/expose/render.ts';
import { SELF_METRIC_NAMES } from '../src/index.ts';

/**
 * An Ingest as the unit tests build one: the service's name, line and packet rules, and what each test sets
 * itself (series limit, buckets, set size, …).
 */
export function testIngest(
  o: Pick<IngestOptions, 'maxSeries' | 'buckets' | 'maxSetSize'> & Partial<IngestOptions>,
): Ingest {
  return new Ingest({
    strictNames: false,
    sourceTag: 'pod',
    reservedNames: SELF_METRIC_NAMES,
    maxLineSize: 8192,
    maxPacketSize: 65536,
    ...o,
  });
}

/** Self-metric values of a collector with no sockets and no kernel counters (zeros, nulls), `o` aside. */
export function quietSelf(o: Partial<SelfValues> = {}): SelfValues {
  return {
    nowMs: 0,
    sourceActiveWindowMs: 1000,
    rcvbufGranted: null,
    lastFlushSeconds: 0,
    eventLoopLagSeconds: 0,
    kernel: null,
    socketDrops: null,
    tcpConnections: 0,
    tcpOpen: 0,
    tcpRefused: 0,
    tcpIdleClosed: 0,
    http: null,
    ...o,
  };
}

/** The whole exposition of `ing` as one text. */
export function renderText(ing: Ingest, self: SelfValues): string {
  return [...exposition(ing.store, ing.stats, () => self)].join('');
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses sample lines (not comments) of the text format; label values unescaped. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/s.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gs;
    let lm: RegExpExecArray | null = re.exec(body);
    while (lm !== null) {
      labels[lm[1]!] = lm[2]!.replace(/\\(.)/gs, (_, c: string) => (c === 'n' ? '\n' : c));
      lm = re.exec(body);
    }
    const v = m[3]!;
    out.push({ name: m[1]!, labels, value: v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v) });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `match`. */
export function sum(samples: Sample[], name: string, match: Record<string, string> = {}): number {
  let s = 0;
  for (const x of samples) {
    if (x.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => x.labels[k] === v)) s += x.value;
  }
  return s;
}

export async function scrape(http: string): Promise<{ status: number; text: string; type: string | null }> {
  const { host, port } = parseHostPort(http);
  const r = await fetch(`http://${host}:${port}/metrics`);
  return { status: r.status, text: await r.text(), type: r.headers.get('content-type') };
}

export async function metrics(http: string): Promise<Sample[]> {
  const r = await scrape(http);
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  return parseExposition(r.text);
}

export async function sendUdp(udp: string, datagrams: (string | Buffer)[]): Promise<void> {
  const { host, port } = parseHostPort(udp);
  const s = dgram.createSocket('udp4');
  try {
    for (const d of datagrams)
      await new Promise<void>((res, rej) => s.send(d, port, host, (e) => (e ? rej(e) : res())));
  } finally {
    s.close();
  }
}

/** Writes chunks to a TCP connection (a pause between chunks so they arrive as separate reads), then ends it. */
export async function sendTcp(tcp: string, chunks: (string | Buffer)[], pauseMs = 5): Promise<void> {
  const { host, port } = parseHostPort(tcp);
  const sock = net.connect(port, host);
  sock.setNoDelay(true);
  await new Promise<void>((res, rej) => {
    sock.once('connect', () => res());
    sock.once('error', rej);
  });
  for (const c of chunks) {
    await new Promise<void>((res) => sock.write(c, () => res()));
    await sleep(pauseMs);
  }
  await new Promise<void>((res) => sock.end(() => res()));
  await new Promise<void>((res) => sock.once('close', () => res()));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `cond` holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(
  cond: () => Promise<boolean> | boolean,
  timeoutMs = 3000,
  everyMs = 20,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await sleep(everyMs);
  }
  return cond();
}
