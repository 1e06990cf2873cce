// The real collector the push path sends to, on loopback: in-process (createCollector from
// @pushpull/collector) or the built binary as a child process, its OTLP/HTTP receiver on too. Plus reading
// its counters over HTTP.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCollector } from '@pushpull/collector';
import { type HostPort, LabError, parseHostPort, silentLogger } from '@pushpull/common';
import { parseExposition, sumSamples } from '../core/exposition.ts';
import { httpGet } from '../core/http.ts';

export type CollectorKind = 'inproc' | 'spawn';

export interface CollectorEndpoint {
  kind: CollectorKind;
  udp: HostPort;
  httpUrl: string;
  /** The OTLP/HTTP receiver, `http://127.0.0.1:PORT` (POST /v1/metrics). */
  otlpUrl: string;
  /** UDP receive buffer the kernel granted the collector (bytes), when it said. */
  rcvbufGranted: number | null;
  stop(): Promise<void>;
}

export interface CollectorCounts {
  /** `collector_packets_total{transport="udp"}`: datagrams the collector read. */
  udpPackets: number;
  /** Sum of every `checkout` series (`checkout_total` with --strict-names): events delivered. */
  checkoutEvents: number;
}

const LOOPBACK = '127.0.0.1';

export async function readCollectorCounts(httpUrl: string): Promise<CollectorCounts> {
  const r = await httpGet(`${httpUrl}/metrics`);
  if (r.status !== 200)
    throw new LabError('LAB_ERR_CHILD_EXIT', `collector ${httpUrl}/metrics answered HTTP ${r.status}`);
  const samples = parseExposition(r.body.toString('utf8'));
  return {
    udpPackets: sumSamples(samples, ['collector_packets_total'], { transport: 'udp' }),
    checkoutEvents: sumSamples(samples, ['checkout', 'checkout_total']),
  };
}

function loopbackHostPort(text: string, what: string): HostPort {
  const hp = parseHostPort(text, what);
  if (hp.host === '0.0.0.0' || hp.host === '::' || hp.host === '') return { host: LOOPBACK, port: hp.port };
  return hp;
}

function otlpUrlOf(bound: string | null | undefined): string {
  if (!bound)
    throw new LabError('LAB_ERR_CHILD_EXIT', 'the collector did not report its OTLP/HTTP receiver address');
  const hp = loopbackHostPort(bound, 'collector otlp');
  return `http://${hp.host}:${hp.port}`;
}

/** Starts `createCollector` from @pushpull/collector in this process, bound to 127.0.0.1 on free ports. */
export async function startInProcessCollector(rcvbuf?: string): Promise<CollectorEndpoint> {
  // Its JSON log lines would interleave with our output (and break --json): keep it quiet.
  const collector = createCollector(
    {
      statsdUdp: `${LOOPBACK}:0`,
      statsdTcp: 'off',
      http: `${LOOPBACK}:0`,
      otlpHttp: `${LOOPBACK}:0`,
      ...(rcvbuf ? { rcvbuf } : {}),
    },
    { logger: silentLogger },
  );
  const bound = await collector.start();
  const http = loopbackHostPort(bound.http, 'collector http');
  if (bound.otlp === null) await collector.stop(); // cannot happen with otlpHttp set; otlpUrlOf says so
  return {
    kind: 'inproc',
    udp: loopbackHostPort(bound.udp, 'collector udp'),
    httpUrl: `http://${http.host}:${http.port}`,
    otlpUrl: otlpUrlOf(bound.otlp),
    rcvbufGranted: bound.rcvbufGranted,
    stop: () => collector.stop(),
  };
}

/** Where the built collector lives, searched upwards from this module (src or bundled dist). */
export function defaultCollectorBin(from: string = dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = resolve(from);
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'services/collector/dist/main.js');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((res) => {
    const t = setTimeout(() => res(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      res(true);
    });
  });
}

function collectorArgs(bin: string, rcvbuf?: string): string[] {
  return [
    bin,
    '--statsd-udp',
    `${LOOPBACK}:0`,
    '--statsd-tcp',
    'off',
    '--http',
    `${LOOPBACK}:0`,
    '--otlp-http',
    `${LOOPBACK}:0`,
    ...(rcvbuf ? ['--rcvbuf', rcvbuf] : []),
  ];
}

interface ListeningLine {
  udp: string;
  http: string;
  otlp?: string;
  rcvbufGranted?: number;
}

/** The collector's `{"msg":"listening",…}` log line, or null for any other line (JSON or not). */
function parseListeningLine(line: string): ListeningLine | null {
  try {
    const j = JSON.parse(line) as ListeningLine & { msg?: string };
    if (j.msg === 'listening' && j.udp && j.http)
      return { udp: j.udp, http: j.http, otlp: j.otlp, rcvbufGranted: j.rcvbufGranted };
  } catch {
    // not a JSON log line; keep reading
  }
  return null;
}

/** Keeps the first 4 KiB of the child's stderr, for the message if it exits before listening. */
function captureStderr(child: ChildProcess): () => string {
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString('utf8');
  });
  return () => stderr;
}

/** Resolves with the "listening" line; rejects on exit first or after `timeoutMs` (then the child is killed). */
function waitForListening(child: ChildProcess, bin: string, timeoutMs: number): Promise<ListeningLine> {
  const stderr = captureStderr(child);
  return new Promise<ListeningLine>((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new LabError('LAB_ERR_TIMEOUT', `collector ${bin} printed no "listening" line in ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const listening = parseListeningLine(line);
        if (listening) {
          clearTimeout(timer);
          res(listening);
          return;
        }
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      rej(
        new LabError(
          'LAB_ERR_CHILD_EXIT',
          `collector ${bin} exited (${signal ?? code}) before listening: ${stderr().trim().slice(0, 500)}`,
        ),
      );
    });
  });
}

/** SIGTERM, then SIGKILL if it has not exited within 5 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if (!(await waitForExit(child, 5000))) {
    child.kill('SIGKILL');
    await waitForExit(child, 2000);
  }
}

/** Spawns `node services/collector/dist/main.js` on free loopback ports and waits for its "listening" line. */
export async function spawnCollector(
  bin: string | null,
  rcvbuf?: string,
  startTimeoutMs = 10_000,
): Promise<CollectorEndpoint> {
  if (!bin || !existsSync(bin))
    throw new LabError(
      'LAB_ERR_MISSING_BINARY',
      `collector binary "${bin ?? 'services/collector/dist/main.js'}" not found; run "npm run build" first`,
    );
  const child = spawn(process.execPath, collectorArgs(bin, rcvbuf), { stdio: ['ignore', 'pipe', 'pipe'] });
  const listening = await waitForListening(child, bin, startTimeoutMs);
  child.stdout?.resume(); // keep draining its log lines
  const http = loopbackHostPort(listening.http, 'collector http');
  let otlpUrl: string;
  try {
    otlpUrl = otlpUrlOf(listening.otlp);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return {
    kind: 'spawn',
    udp: loopbackHostPort(listening.udp, 'collector udp'),
    httpUrl: `http://${http.host}:${http.port}`,
    otlpUrl,
    rcvbufGranted: typeof listening.rcvbufGranted === 'number' ? listening.rcvbufGranted : null,
    stop: () => stopChild(child),
  };
}

/** `rcvbuf`: the collector's --rcvbuf (e.g. "8MiB", "0" = kernel default); omitted = its default. */
export function startCollector(
  kind: CollectorKind,
  opts: { bin?: string | null; rcvbuf?: string } = {},
): Promise<CollectorEndpoint> {
  return kind === 'inproc'
    ? startInProcessCollector(opts.rcvbuf)
    : spawnCollector(opts.bin ?? defaultCollectorBin(), opts.rcvbuf);
}
