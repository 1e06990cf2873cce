// The long OTLP fuzz run (issue 23): the property of test/fuzz-otlp.test.ts over >= 100,000 cases.
//   node --import tsx services/collector/bench/fuzz-otlp.bench.ts [--runs 100000] [--seed N]
// Writes bench/results/collector-fuzz-otlp.json (seed, cases, outcomes by reason, undecodable bodies by
// status, promtool on the shared state every 1,000th case and at the end). Exit 1 when a case fails (the
// counterexample is in the JSON) or promtool objects.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { OTLP_REFUSAL_REASONS } from '../src/aggregate/otlp.ts';
import { fuzzRunArgs, REPO_ROOT } from '../testkit/fuzz-args.ts';
import { promtool } from '../testkit/fuzz-lines.ts';
import { body, checkCase, newCollector, type Tally } from '../testkit/fuzz-otlp.ts';

const ROOT = REPO_ROOT;
const RESULTS = join(ROOT, 'bench/results/collector-fuzz-otlp.json');
const { runs, seed } = fuzzRunArgs();

// A fresh shared core every 20,000 cases keeps the merged exposition promtool reads a few MB.
const SHARD = 20_000;
const shards = [newCollector()];
const t: Tally = { cases: 0, undecodable: {}, points: 0 };
const promtoolChecks: { case: number; status: number | null; findings: number; unexpected: string[] }[] = [];
const t0 = performance.now();
const details = fc.check(
  fc.property(body, (b) => {
    if (t.cases > 0 && t.cases % SHARD === 0) shards.push(newCollector());
    const shared = shards[shards.length - 1]!;
    checkCase(b, shared, t);
    if (t.cases % 1000 === 0) {
      const p = promtool(shared.render());
      promtoolChecks.push({
        case: t.cases,
        status: p.status,
        findings: p.findings,
        unexpected: p.unexpected,
      });
      if (p.unexpected.length > 0 || p.status === 1) throw new Error(`promtool: ${p.unexpected.join('; ')}`);
    }
  }),
  { seed, numRuns: runs },
);
const final = shards.map((s) => promtool(s.render()));
const seconds = (performance.now() - t0) / 1000;
const sumBy = (f: (c: ReturnType<typeof newCollector>) => number) => shards.reduce((a, s) => a + f(s), 0);
const ok =
  !details.failed &&
  final.every((p) => p.unexpected.length === 0 && p.status !== 1) &&
  promtoolChecks.every((p) => p.unexpected.length === 0);
const result = {
  date: new Date().toISOString(),
  command: `node --import tsx services/collector/bench/fuzz-otlp.bench.ts --runs ${runs} --seed ${seed}`,
  machine: { cpus: os.cpus().length, loadavg: os.loadavg(), note: 'shared with other helpers' },
  seed,
  cases: details.numRuns,
  seconds: Math.round(seconds * 10) / 10,
  ok,
  counterexample: details.failed ? JSON.stringify(details.counterexample?.[0]).slice(0, 4000) : null,
  error: details.failed ? String(details.errorInstance) : null,
  undecodableByStatus: t.undecodable,
  pointsDecoded: t.points,
  accepted: sumBy((s) => s.otlp.stats.pointsAccepted),
  refusedByReason: Object.fromEntries(
    OTLP_REFUSAL_REASONS.map((r, i) => [r, sumBy((s) => s.otlp.stats.refusedBy[i]!)]),
  ),
  promtoolEvery1000: {
    runs: promtoolChecks.length,
    unexpected: promtoolChecks.reduce((a, p) => a + p.unexpected.length, 0),
  },
  promtoolFinal: final.map((p) => ({ status: p.status, findings: p.findings, unexpected: p.unexpected })),
};
mkdirSync(dirname(RESULTS), { recursive: true });
writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify({ ...result, promtoolFinal: final.length }));
process.exit(ok ? 0 : 1);
