// What the producer's benches share: where results go, the summary statistics, the machine line, the
// market-open orders both sides of a comparison record, a keep-alive GET and its timed loop, and the wrapper
// that runs a bench's main. Not a *.bench.ts: scripts/run-bench.mjs does not run it.
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, Rng } from '@pushpull/common';
import { BUILTIN_PROFILES, type Order, type PodGenerator } from '../src/index.ts';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const MO = BUILTIN_PROFILES['market-open']!;

/** The flags of a bench run by run-bench.mjs: --trials (1-50, default 5) and --quick; the help texts are its own. */
export function trialFlags(help: { trials: string; quick: string }): { trials: number; quick: boolean } {
  const { flags } = parseArgs(process.argv.slice(2), {
    trials: { kind: 'int', default: 5, min: 1, max: 50, help: help.trials },
    quick: { kind: 'bool', default: false, help: help.quick },
  });
  return { trials: flags.trials as number, quick: flags.quick as boolean };
}

/** bench/results/NAME.json; a --quick smoke run writes NAME.quick.tmp.json (git-ignored) instead. */
export function resultPath(name: string, quick: boolean): string {
  return join(ROOT, 'bench', 'results', quick ? `${name}.quick.tmp.json` : `${name}.json`);
}

/** Writes a bench's result as indented JSON and says where on stderr. */
export function writeResult(file: string, result: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`wrote ${file}\n`);
}

/** The median; 0 for no values. */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? 0
    : s.length % 2
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
export const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

export function machine() {
  return { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version };
}

/**
 * `n` market-open orders over `instruments` from a seeded generator. The generator class is a parameter so
 * an A/B can draw the same orders from another commit's producer.
 */
export function marketOpenOrders(
  Generator: typeof PodGenerator,
  n: number,
  instruments: number,
  seed = 7,
): Order[] {
  const g = new Generator(new Rng(seed));
  return Array.from({ length: n }, () => {
    const o: Order = { region: 0, side: 0, instrument: 0, latencyMs: 0, rejected: false, rejectReason: 0 };
    return g.next(MO, instruments, o);
  });
}

/** GET http://127.0.0.1:port/path over `agent`, resolving to the body's length in bytes. */
export function keepAliveGet(agent: http.Agent, host = '127.0.0.1') {
  return (port: number, path: string) =>
    new Promise<number>((resolve, reject) => {
      http
        .get({ host, port, path, agent }, (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => (n += c.length));
          res.on('end', () => resolve(n));
        })
        .on('error', reject);
    });
}

/** `n` calls one after the other: each one's latency in ms; `got` sees each answer (after its timing). */
export async function timedCalls<T>(
  n: number,
  call: () => Promise<T>,
  got: (answer: T) => void = () => {},
): Promise<number[]> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = process.hrtime.bigint();
    const answer = await call();
    xs.push(Number(process.hrtime.bigint() - a) / 1e6);
    got(answer);
  }
  return xs;
}

/** Runs a bench's main: exit 0 when it resolves, its stack on stderr and exit 1 when it throws. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`${String(e?.stack ?? e)}\n`);
      process.exit(1);
    },
  );
}
