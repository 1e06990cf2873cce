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
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { LabelSets, PodGenerator, PodRegistry } from '../src/index.ts';
import {
  keepAliveGet,
  MO,
  machine,
  marketOpenOrders,
  median,
  resultPath,
  round,
  runBench,
  timedCalls,
  trialFlags,
  writeResult,
} from './common.ts';

const { trials: TRIALS, quick: QUICK } = trialFlags({
  trials: 'trials per variant',
  quick: 'short runs (smoke)',
});
const N = QUICK ? 100 : 400;
const OUT = resultPath('producer-reply', QUICK);
const CHUNK = 64 * 1024;

async function body(instruments: number, nOrders: number): Promise<{ text: string; type: string }> {
  const reg = new PodRegistry(new LabelSets(MO.instruments.steady), instruments);
  for (const o of marketOpenOrders(PodGenerator, nOrders, instruments)) reg.record(o);
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
  const get = keepAliveGet(agent);
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
      const c0 = process.cpuUsage();
      const xs = await timedCalls(
        N,
        () => get(port, path),
        (n) => {
          if (n !== bytes) throw new Error(`${name}: ${n} bytes received, ${bytes} expected`);
        },
      );
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
    machine: machine(),
    method:
      'one pre-rendered pod body per size; per request only the reply differs. Medians over trials of the per-trial p50 latency and of CPU (process.cpuUsage, client and server in this process) per request.',
    requestsPerTrial: N,
    trials: TRIALS,
    steady: await measure('steady', steady.text, steady.type),
    peak: await measure('peak', peak.text, peak.type),
    durationS: 0,
  };
  result.durationS = round((Date.now() - started) / 1000);
  writeResult(OUT, result);
}

runBench(main);
