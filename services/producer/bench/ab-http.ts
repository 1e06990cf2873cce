// A/B of the scrape path over HTTP: this tree's producer against an earlier commit's, in ONE process, requests
// interleaved, so load from other work on the shared machine hits both sides alike (separate bench runs
// minutes apart differed by +-15 % on identical code). Not a *.bench.ts: it needs git and a base commit.
//
//   node --import tsx services/producer/bench/ab-http.ts [--base 49c2ed2] [--trials 7] [--requests 300]
//
// The base commit's services/producer/src and profiles are extracted (git archive) into a temporary folder
// whose node_modules links to this tree's, so both import the same prom-client and @pushpull/common. Both
// producers get one pod with the same orders (18 KB and 240 KB bodies), beside a bare node:http server
// replying raw prom-client's body with res.end(string). Output: bench/results/producer-ab-http.json.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from '@pushpull/common';
import * as head from '../src/index.ts';
import {
  keepAliveGet,
  MO,
  machine,
  marketOpenOrders,
  median,
  resultPath,
  ROOT as root,
  round,
  runBench,
  timedCalls,
  writeResult,
} from './common.ts';

const { flags } = parseArgs(process.argv.slice(2), {
  base: { kind: 'string', default: '49c2ed2', help: 'commit to compare against' },
  trials: { kind: 'int', default: 7, min: 1, max: 50, help: 'trials per size' },
  requests: { kind: 'int', default: 300, min: 10, max: 100_000, help: 'requests per variant per trial' },
});
const BASE = String(flags.base);
const TRIALS = flags.trials as number;
const N = flags.requests as number;

type Api = typeof head;

function extractBase(): { dir: string; api: Promise<Api> } {
  const dir = mkdtempSync(join(tmpdir(), 'pp-ab-'));
  const tar = execFileSync('git', [
    '-C',
    root,
    'archive',
    BASE,
    'services/producer/src',
    'services/producer/profiles',
  ]);
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return {
    dir,
    api: import(pathToFileURL(join(dir, 'services/producer/src/index.ts')).href) as Promise<Api>,
  };
}

async function producerWith(api: Api, instruments: number, nOrders: number) {
  const p = api.createProducer(
    { pods: 1, http: '127.0.0.1:0', pushMode: 'off', processMetrics: false, profile: MO },
    { autoTick: false },
  );
  const { http: addr } = await p.start();
  const pod = p.core.pod(p.core.podIds[0]!)!;
  pod.listInstruments(instruments);
  for (const o of marketOpenOrders(api.PodGenerator, nOrders, instruments)) pod.record(o);
  pod.setQueueDepth(12);
  return {
    p,
    port: Number(addr.split(':')[1]),
    path: `/pods/${p.core.podIds[0]}/metrics`,
    body: await pod.render(),
  };
}

async function main() {
  const started = Date.now();
  const base = extractBase();
  const old = await base.api;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = keepAliveGet(agent);
  const out: Record<string, unknown> = {};
  try {
    for (const [label, instruments, nOrders] of [
      ['steady', MO.instruments.steady, 500],
      ['peak', MO.instruments.steady + MO.instruments.open, 8000],
    ] as const) {
      const a = await producerWith(old, instruments, nOrders);
      const b = await producerWith(head, instruments, nOrders);
      if (a.body !== b.body) throw new Error(`${label}: the two producers' bodies differ`);
      const rawReg = new head.PodRegistry(new head.LabelSets(MO.instruments.steady), instruments);
      for (const o of marketOpenOrders(head.PodGenerator, nOrders, instruments)) rawReg.record(o);
      rawReg.setQueueDepth(12);
      const raw = http.createServer(async (_req, res) => {
        const text = await rawReg.registry.metrics();
        res.writeHead(200, { 'content-type': rawReg.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
      await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
      const variants = [
        ['base', a.port, a.path],
        ['head', b.port, b.path],
        ['rawPromClient', (raw.address() as AddressInfo).port, '/metrics'],
      ] as const;
      const ms: Record<string, number[]> = { base: [], head: [], rawPromClient: [] };
      const bytes = Buffer.byteLength(a.body);
      for (let t = 0; t < TRIALS; t++) {
        for (let k = 0; k < variants.length; k++) {
          const [name, port, path] = variants[(k + t) % variants.length]!;
          for (let i = 0; i < 20; i++) await get(port, path);
          const xs = await timedCalls(
            N,
            () => get(port, path),
            (n) => {
              if (n !== bytes) throw new Error(`${name}: ${n} bytes, expected ${bytes}`);
            },
          );
          ms[name]!.push(median(xs));
        }
      }
      await new Promise<void>((r) => raw.close(() => r()));
      await a.p.stop();
      await b.p.stop();
      const p50 = (k: string) => round(median(ms[k]!), 4);
      const r = {
        bodyBytes: bytes,
        p50Ms: { base: p50('base'), head: p50('head'), rawPromClient: p50('rawPromClient') },
        perTrialP50Ms: ms,
        headVsBasePct: round((p50('head') / p50('base') - 1) * 100, 1),
        baseOverRawPct: round((p50('base') / p50('rawPromClient') - 1) * 100, 1),
        headOverRawPct: round((p50('head') / p50('rawPromClient') - 1) * 100, 1),
      };
      out[label] = r;
      process.stderr.write(
        `ab ${label} (${bytes} B): ${JSON.stringify({ ...r, perTrialP50Ms: undefined })}\n`,
      );
    }
  } finally {
    agent.destroy();
    rmSync(base.dir, { recursive: true, force: true });
  }
  const headCommit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD']).toString().trim();
  const result = {
    benchmark: 'producer-ab-http',
    generatedAt: new Date().toISOString(),
    command: `node --import tsx services/producer/bench/ab-http.ts --base ${BASE} --trials ${TRIALS} --requests ${N}`,
    base: BASE,
    head: headCommit,
    machine: machine(),
    method:
      'one process, keep-alive client, the three servers interleaved (order rotated per trial); per-trial p50 of N GETs of one pod, median over trials.',
    requestsPerTrial: N,
    trials: TRIALS,
    ...out,
    durationS: round((Date.now() - started) / 1000),
  };
  writeResult(resultPath('producer-ab-http', false), result);
}

runBench(main);
