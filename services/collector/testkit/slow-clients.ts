// Helpers for the slow-client test and bench: a filled collector in a child process, clients that send
// GET /metrics and never read, RSS of the child from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseHostPort } from '@pushpull/common';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'filled-collector.ts');

export interface Filled {
  child: ChildProcess;
  http: string;
  stop(): Promise<void>;
}

export async function startFilled(series: number, extra: Record<string, string> = {}): Promise<Filled> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, String(series), JSON.stringify(extra)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const http = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('filled collector did not start in 60 s')), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(t);
        resolve((JSON.parse(buf.slice(0, nl)) as { http: string }).http);
      }
    });
    child.once('exit', (code) => reject(new Error(`filled collector exited ${code}`)));
  });
  return {
    child,
    http,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** Resident set size of a process, bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Clients that send GET /metrics with a tiny receive buffer and never read. */
export async function stuckClients(http: string, n: number, path = '/metrics'): Promise<net.Socket[]> {
  const { host, port } = parseHostPort(http);
  const out: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, host);
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r).once('close', r));
    s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    s.pause(); // never read: the collector's writes must stop at the socket's buffers
    out.push(s);
  }
  return out;
}

/** CPU time (user + system) a process has used so far, milliseconds (Linux /proc). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Peak RSS of `pid` sampled every 50 ms for `ms`. */
export async function peakRss(pid: number, ms: number): Promise<number> {
  let peak = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    peak = Math.max(peak, rssOf(pid));
    await new Promise((r) => setTimeout(r, 50));
  }
  return peak;
}

/** Reads one whole GET: body bytes and milliseconds to the last byte. */
export async function timedGet(
  http: string,
  path = '/metrics',
): Promise<{ ms: number; bytes: number; status: number }> {
  const { host, port } = parseHostPort(http);
  const t0 = performance.now();
  const r = await fetch(`http://${host}:${port}${path}`);
  const body = new Uint8Array(await r.arrayBuffer());
  return { ms: performance.now() - t0, bytes: body.length, status: r.status };
}
