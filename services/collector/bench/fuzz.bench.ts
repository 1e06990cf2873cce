// The long fuzz run (issue 11): the property of test/fuzz-property.test.ts over >= 100,000 cases.
//   node --import tsx services/collector/bench/fuzz.bench.ts [--runs 100000] [--seed N]
// Writes bench/results/collector-fuzz.json (seed, cases, counts by reason, promtool verdict on the merged
// exposition). Exit 1 when a case fails (the counterexample is in the JSON) or promtool objects.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { DROP_REASONS, REFUSAL_REASONS, TAG_ERROR_REASONS } from '../src/index.ts';
import { fuzzRunArgs, REPO_ROOT } from '../testkit/fuzz-args.ts';
import { checkCase, checkExposition, datagram, newIngest, promtool, render } from '../testkit/fuzz-lines.ts';

const ROOT = REPO_ROOT;
const RESULTS = join(ROOT, 'bench/results/collector-fuzz.json');
const { runs, seed } = fuzzRunArgs();

// Several shared stores, so the merged exposition promtool reads stays a few MB and cardinality limits
// do not turn every later case into a refusal.
const SHARD = 20_000;
const shards = [newIngest(50_000)];
let cases = 0;
const t0 = performance.now();
const details = fc.check(
  fc.property(datagram, (buf) => {
    if (++cases % SHARD === 0) shards.push(newIngest(50_000));
    checkCase(buf, shards[shards.length - 1]!);
  }),
  { seed, numRuns: runs },
);
const seconds = (performance.now() - t0) / 1000;

const total = (f: (i: ReturnType<typeof newIngest>) => number) => shards.reduce((a, s) => a + f(s), 0);
const byReason = (
  names: readonly string[],
  arr: (i: ReturnType<typeof newIngest>) => Float64Array,
  off = 0,
) => Object.fromEntries(names.slice(off).map((n, i) => [n, total((s) => arr(s)[i + off]!)]));
const checks = shards.map((s) => {
  const text = render(s);
  checkExposition(text);
  const p = promtool(text);
  return { bytes: text.length, status: p.status, findings: p.findings, unexpected: p.unexpected };
});
const ok = !details.failed && checks.every((c) => c.unexpected.length === 0 && c.status !== 1);
const result = {
  date: new Date().toISOString(),
  command: `node --import tsx services/collector/bench/fuzz.bench.ts --runs ${runs} --seed ${seed}`,
  machine: { cpus: os.cpus().length, loadavg: os.loadavg() },
  seed,
  cases: details.numRuns,
  seconds: Math.round(seconds * 10) / 10,
  ok,
  counterexample: details.failed ? String(details.counterexample?.[0]?.toString('hex')) : null,
  error: details.failed ? String(details.errorInstance) : null,
  lines: total((s) => s.stats.lines[0]!),
  accepted: total((s) => s.stats.linesAccepted),
  parseErrors: byReason(DROP_REASONS, (s) => s.stats.parseErrors, 1),
  refused: byReason(REFUSAL_REASONS, (s) => s.stats.seriesRejectedBy),
  tagErrors: byReason(TAG_ERROR_REASONS, (s) => s.stats.tagErrors),
  promtool: checks,
};
mkdirSync(dirname(RESULTS), { recursive: true });
writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
console.log(
  JSON.stringify({ ...result, promtool: checks.map((c) => ({ ...c, unexpected: c.unexpected.length })) }),
);
process.exit(ok ? 0 : 1);
