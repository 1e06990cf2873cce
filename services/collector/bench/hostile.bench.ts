// Issue 23's collector bench: what one large OTLP export costs the UDP path, and what the hardening costs
// per line.
//   node --import tsx services/collector/bench/hostile.bench.ts [--before [NAME=]PATH/TO/old/dist/main.js ...]
// (npm run bench -w services/collector runs it with the current dist only; --before adds a build of an
// older commit, run interleaved with the current one so both see the same background load.)
// Writes bench/results/collector-hostile.json. Every process binds 127.0.0.1 only and is stopped by pid.
//
// A. A 30,000-point OTLP export (100 resources × 30 metrics × 10 points, protobuf) posted 3 times, one
//    after another, while the sender streams StatsD at a fixed rate: the collector's worst event-loop
//    block (its own collector_event_loop_lag_seconds: the max over the run) and the datagrams lost
//    (sent − counted by the collector), beside a control run without the export.
// B. CPU per line, collector vs a bare Node dgram socket (bench/bare-dgram.mjs), at three fixed, equal
//    rates for 1-line and 10-line datagrams: the receiver's utime+stime (/proc/PID/stat) over the lines it
//    counted. Rates are far below the zero-loss rates, so both receivers see every datagram. Each step runs
//    --rounds times (default 3) with the receivers' order rotated per round; medians are reported. The
//    machine may be shared: ratios are the figures to read.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bigExport } from '../testkit/otlp-export.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../../..');
const RESULTS_DIR = join(ROOT, 'bench/results');
const AFTER = join(ROOT, 'services/collector/dist/main.js');
const { values } = parseArgs({
  options: {
    /** Older builds to run beside the current one: PATH (named "before") or NAME=PATH; repeatable. */
    before: { type: 'string', multiple: true, default: [] },
    seconds: { type: 'string', default: '4' },
    /** Repetitions of each CPU-per-line step (part B); medians are reported. */
    rounds: { type: 'string', default: '3' },
    /** StatsD datagrams/s beside the export (part A). */
    rate: { type: 'string', default: '20000' },
    /** 'all' (A and B), 'export' (A only) or 'cpu' (B only). */
    only: { type: 'string', default: 'all' },
    out: { type: 'string', default: 'collector-hostile.json' },
    /** What else ran on the machine, written into the result. */
    note: { type: 'string' },
  },
});
const STEP_S = Number(values.seconds);
const TICK_MS = 1000 / 100; // /proc/PID/stat clock ticks (USER_HZ = 100 on Linux)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`[hostile-bench] ${m}\n`);

interface Receiver {
  name: string;
  pid: number;
  udpPort: number;
  /** Lines counted so far. */
  lines(): Promise<number>;
  datagrams(): Promise<number>;
  self?(): Promise<string>;
  otlp?: string;
  child: ChildProcess;
}

function firstLine(child: ChildProcess): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('no listening line in 10 s')), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0 && t) {
        clearTimeout(t);
        resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      }
    });
    child.once('exit', (c) => reject(new Error(`exited ${c}`)));
  });
}

const port = (a: unknown) => Number(String(a).split(':').pop());
const sample = (text: string, name: string, labels = ''): number => {
  const m = text.match(new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : Number.NaN;
};

async function startCollector(name: string, bin: string): Promise<Receiver> {
  const child = spawn(
    process.execPath,
    [
      bin,
      '--statsd-udp',
      '127.0.0.1:0',
      '--statsd-tcp',
      'off',
      '--http',
      '127.0.0.1:0',
      '--otlp-http',
      '127.0.0.1:0',
      '--flush-interval',
      '1h',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const l = await firstLine(child);
  const self = async () => (await fetch(`http://${l.http}/metrics/self`)).text();
  return {
    name,
    pid: child.pid!,
    udpPort: port(l.udp),
    otlp: `http://${l.otlp}/v1/metrics`,
    self,
    lines: async () => sample(await self(), 'collector_lines_total', '{transport="udp"}'),
    datagrams: async () => sample(await self(), 'collector_packets_total', '{transport="udp"}'),
    child,
  };
}

async function startBare(): Promise<Receiver> {
  const child = spawn(process.execPath, [join(HERE, 'bare-dgram.mjs'), '--rcvbuf', String(8 << 20)], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const l = await firstLine(child);
  const counts = async () =>
    JSON.parse(await (await fetch(`http://127.0.0.1:${l.count}/`)).text()) as {
      packets: number;
      lines: number;
      bad: number;
    };
  return {
    name: 'bare-dgram',
    pid: child.pid!,
    udpPort: Number(l.udp),
    lines: async () => {
      const c = await counts();
      return c.lines + c.bad;
    },
    datagrams: async () => (await counts()).packets,
    child,
  };
}

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * TICK_MS; // utime, stime
}

function send(udpPort: number, rate: number, count: number, lines: number): Promise<{ sent: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(HERE, 'udp-sender.mjs'),
        '--port',
        String(udpPort),
        '--rate',
        String(rate),
        '--count',
        String(count),
        '--lines',
        String(lines),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (c) =>
      c === 0 ? resolve(JSON.parse(out.trim().split('\n')[0]!)) : reject(new Error(`sender exit ${c}`)),
    );
  });
}

/** The receive queue (bytes) of the UDP socket bound to 127.0.0.1:port, from /proc/net/udp. */
function rxQueue(udpPort: number): number {
  const hex = udpPort.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1]?.endsWith(`:${hex}`)) return Number.parseInt(f[4]!.split(':')[1]!, 16);
  }
  return 0;
}

/**
 * Waits until the receiver has read everything queued to it, without asking it anything: any HTTP poll of
 * the receiver would be CPU charged to the step (and the collector's /metrics/self costs more to answer than
 * the bare socket's count), which is what inflated the earlier single-pass ratios at low rates.
 */
async function drained(r: Receiver): Promise<void> {
  let empty = 0;
  for (let i = 0; i < 100 && empty < 3; i++) {
    empty = rxQueue(r.udpPort) === 0 ? empty + 1 : 0;
    await sleep(50);
  }
}

async function settle(r: Receiver): Promise<number> {
  let last = -1;
  for (let i = 0; i < 50; i++) {
    const n = await r.datagrams();
    if (n === last) return n;
    last = n;
    await sleep(100);
  }
  return last;
}

/** A: one collector, a fixed-rate StatsD stream, with or without three 30k-point exports during it. */
async function exportRun(name: string, bin: string, withExport: boolean) {
  const rate = Number(values.rate);
  const r = await startCollector(name, bin);
  try {
    const body = bigExport();
    const sending = send(r.udpPort, rate, rate * 6, 1);
    const latencies: number[] = [];
    const statuses: number[] = [];
    if (withExport) {
      await sleep(1000);
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const res = await fetch(r.otlp!, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf' },
          body,
        });
        await res.arrayBuffer();
        latencies.push(Math.round(performance.now() - t0));
        statuses.push(res.status);
      }
    }
    const { sent } = await sending;
    const got = await settle(r);
    const self = await r.self!();
    return {
      collector: name,
      export: withExport
        ? { points: 30_000, bytes: body.length, times: 3, statuses, latencyMs: latencies }
        : null,
      statsdRate: rate,
      sent,
      counted: got,
      lost: sent - got,
      lossShare: Math.round(((sent - got) / sent) * 1e4) / 1e4,
      worstEventLoopBlockMs: Math.round(sample(self, 'collector_event_loop_lag_seconds') * 1e4) / 10,
      socketDrops: sample(self, 'collector_udp_socket_drops_total'),
    };
  } finally {
    r.child.kill('SIGTERM');
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** One receiver, one step: its CPU over the lines it counted, read around a drained socket. */
async function measureStep(r: Receiver, s: { lines: number; rate: number }) {
  const l0 = await r.lines();
  const c0 = cpuMs(r.pid);
  const { sent } = await send(r.udpPort, s.rate, Math.round(s.rate * STEP_S), s.lines);
  await drained(r);
  const c1 = cpuMs(r.pid);
  const l1 = await r.lines();
  return {
    sent,
    lines: l1 - l0,
    cpuMs: c1 - c0,
    nsPerLine: Math.round(((c1 - c0) * 1e6) / Math.max(1, l1 - l0)),
  };
}

/**
 * B: CPU per line at fixed rates. Each step runs ROUNDS times; within a round every receiver takes the step
 * once, in an order rotated per round, so background load falls on all of them alike. Reported: each
 * receiver's median ns per line and the median of the per-round ratios to the bare socket.
 */
async function cpuPerLine(collectors: [string, string][]) {
  const steps: { lines: number; rate: number }[] = [];
  for (const rate of [10_000, 20_000, 40_000]) steps.push({ lines: 1, rate });
  for (const rate of [2_000, 5_000, 10_000]) steps.push({ lines: 10, rate });
  const receivers: Receiver[] = [];
  for (const [n, bin] of collectors) receivers.push(await startCollector(n, bin));
  receivers.push(await startBare());
  const rounds = Number(values.rounds);
  const rows: Record<string, unknown>[] = [];
  try {
    for (const s of steps) {
      const per: Record<string, Awaited<ReturnType<typeof measureStep>>[]> = Object.fromEntries(
        receivers.map((r) => [r.name, []]),
      );
      for (let k = 0; k < rounds; k++) {
        for (let j = 0; j < receivers.length; j++) {
          const r = receivers[(j + k) % receivers.length]!;
          per[r.name]!.push(await measureStep(r, s));
        }
      }
      const row: Record<string, unknown> = {
        linesPerDatagram: s.lines,
        datagramsPerSecond: s.rate,
        linesPerSecond: s.lines * s.rate,
        rounds,
      };
      for (const r of receivers) {
        const runs = per[r.name]!;
        row[r.name] = { medianNsPerLine: median(runs.map((x) => x.nsPerLine)), runs };
      }
      const bare = per['bare-dgram']!;
      for (const [n] of collectors)
        row[`${n}/bare`] =
          Math.round(median(per[n]!.map((x, k) => x.nsPerLine / bare[k]!.nsPerLine)) * 100) / 100;
      log(JSON.stringify(row));
      rows.push(row);
    }
  } finally {
    for (const r of receivers) r.child.kill('SIGTERM');
  }
  return rows;
}

async function main() {
  const collectors: [string, string][] = [];
  for (const b of values.before) {
    const [name, bin] = b.includes('=') ? (b.split('=', 2) as [string, string]) : ['before', b];
    if (!existsSync(bin)) throw new Error(`--before: no such file ${bin}`);
    collectors.push([name, bin]);
  }
  collectors.push(['after', AFTER]);
  const started = new Date().toISOString();
  const load0 = os.loadavg();
  const exportRuns = [];
  for (const [n, bin] of values.only === 'cpu' ? [] : collectors) {
    exportRuns.push(await exportRun(n, bin, false));
    exportRuns.push(await exportRun(n, bin, true));
    log(JSON.stringify(exportRuns.slice(-2)));
  }
  const cpu = values.only === 'export' ? [] : await cpuPerLine(collectors);
  const result = {
    date: started,
    command:
      `node --import tsx services/collector/bench/hostile.bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpus: os.cpus().length,
      loadavgStart: load0,
      loadavgEnd: os.loadavg(),
      note: values.note ?? 'read the ratios: the machine may be shared',
    },
    method: 'see the header of services/collector/bench/hostile.bench.ts',
    bigExportBesideStatsd: exportRuns,
    cpuPerLine: cpu,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, values.out), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result));
}

await main();
