// How to hand a rendered /metrics body to fastify -> bench/results/producer-reply.json (summary on stderr).
//
//   node scripts/run-bench.mjs producer            (runs every producer bench, this one included)
//   node --import tsx services/producer/bench/reply.bench.ts [--trials 5] [--quick]
//
// prom-client renders a pod's body as one string (18 KB before the open, 240 KB at the peak). The body is
// rendered once here, so only the reply differs: (a) the string itself, (b) a Buffer made from it per
// request, (c) a stream of 64 KB Buffer chunks (content-length set, so no chunked encoding), beside a bare
// node:http res.end(string). Keep-alive client in the same process, variants interleaved per trial;
// p50 latency per request and CPU (user+system of this process) per request.
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs, Rng } from '@pushpull/common';
import Fastify from 'fastify';
import { BUILTIN_PROFILES, LabelSets, PodGenerator, PodRegistry } from '../src/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { flags } = parseArgs(process.argv.slice(2), {
  trials: { kind: 'int', default: 5, min: 1, max: 50, help: 'trials per variant' },
  quick: { kind: 'bool', default: false, help: 'short runs (smoke)' },
});
const TRIALS = flags.trials as number;
const QUICK = flags.quick as boolean;
const N = QUICK ? 100 : 400;
const OUT = join(
  here,
  '..',
  '..',
  '..',
  'bench',
  'results',
  QUICK ? 'producer-reply.quick.tmp.json' : 'producer-reply.json',
);
const MO = BUILTIN_PROFILES['market-open']!;
const CHUNK = 64 * 1024;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

async function body(instruments: number, nOrders: number): Promise<{ text: string; type: string }> {
  const reg = new PodRegistry(new LabelSets(MO.instruments.steady), instruments);
  const g = new PodGenerator(new Rng(7));
  const o = { region: 0, side: 0, instrument: 0, latencyMs: 0, rejected: false, rejectReason: 0 };
  for (let i = 0; i < nOrders; i++) reg.record(g.next(MO, instruments, o));
  return { text: await reg.render(), type: reg.contentType };
}

async function measure(label: string, text: string, type: string) {
  const app = Fastify({ logger: false });
  app.get('/string', (_req, reply) => reply.type(type).send(text));
  app.get('/buffer', (_req, reply) => reply.type(type).send(Buffer.from(text)));
  app.get('/stream', (_req, reply) => {
    const buf = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let i = 0; i < buf.length; i += CHUNK) chunks.push(buf.subarray(i, i + CHUNK));
    return reply
      .type(type)
      .header('content-length', buf.length)
      .send(Readable.from(chunks, { objectMode: false }));
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const fastifyPort = (app.server.address() as AddressInfo).port;
  const bare = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', () => r()));
  const barePort = (bare.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (port: number, path: string) =>
    new Promise<number>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, agent }, (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => (n += c.length));
          res.on('end', () => resolve(n));
        })
        .on('error', reject);
    });
  const variants = [
    ['string', fastifyPort, '/string'],
    ['buffer', fastifyPort, '/buffer'],
    ['stream', fastifyPort, '/stream'],
    ['bareNodeHttp', barePort, '/'],
  ] as const;
  const ms: Record<string, number[]> = Object.fromEntries(variants.map(([n]) => [n, []]));
  const cpuUs: Record<string, number[]> = Object.fromEntries(variants.map(([n]) => [n, []]));
  const bytes = Buffer.byteLength(text);
  for (let t = 0; t < TRIALS; t++) {
    // rotate the order every trial so warm-up and drift do not favour one variant
    const order = variants.map((_, i) => variants[(i + t) % variants.length]!);
    for (const [name, port, path] of order) {
      for (let i = 0; i < 20; i++) await get(port, path);
      const xs: number[] = [];
      const c0 = process.cpuUsage();
      for (let i = 0; i < N; i++) {
        const a = process.hrtime.bigint();
        const n = await get(port, path);
        xs.push(Number(process.hrtime.bigint() - a) / 1e6);
        if (n !== bytes) throw new Error(`${name}: ${n} bytes received, ${bytes} expected`);
      }
      const c = process.cpuUsage(c0);
      ms[name]!.push(median(xs));
      cpuUs[name]!.push((c.user + c.system) / N);
    }
  }
  agent.destroy();
  await app.close();
  await new Promise<void>((r) => bare.close(() => r()));
  const out: Record<string, { p50Ms: number; cpuUsPerRequest: number }> = {};
  for (const [name] of variants)
    out[name] = { p50Ms: round(median(ms[name]!), 4), cpuUsPerRequest: round(median(cpuUs[name]!), 1) };
  process.stderr.write(`reply ${label} (${bytes} B): ${JSON.stringify(out)}\n`);
  return { bodyBytes: bytes, ...out };
}

async function main() {
  const started = Date.now();
  const steady = await body(MO.instruments.steady, 500);
  const peak = await body(MO.instruments.steady + MO.instruments.open, 8000);
  const result = {
    benchmark: 'producer-reply',
    generatedAt: new Date().toISOString(),
    command: `node --import tsx services/producer/bench/reply.bench.ts --trials ${TRIALS}${QUICK ? ' --quick' : ''}`,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
    method:
      'one pre-rendered pod body per size; per request only the reply differs. Medians over trials of the per-trial p50 latency and of CPU (process.cpuUsage, client and server in this process) per request.',
    requestsPerTrial: N,
    trials: TRIALS,
    steady: await measure('steady', steady.text, steady.type),
    peak: await measure('peak', peak.text, peak.type),
    durationS: 0,
  };
  result.durationS = round((Date.now() - started) / 1000);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`wrote ${OUT}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${String(e?.stack ?? e)}\n`);
    process.exit(1);
  },
);
