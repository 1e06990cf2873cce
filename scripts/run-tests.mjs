#!/usr/bin/env node
// Runs the whole suite with Node's own test runner (TypeScript loaded through tsx).
//   node scripts/run-tests.mjs            unit + integration (+ docker end-to-end when an engine answers)
//   node scripts/run-tests.mjs --unit     unit tests only (*.test.ts that are not *.int.test.ts / *.docker.test.ts)
//   node scripts/run-tests.mjs FILE...    just these files
// Unit test files run concurrently (one Node process per file, as many at once as the machine has cores, or
// PUSHPULL_TEST_JOBS); integration and end-to-end files (*.int.test.ts, *.docker.test.ts) run one after the
// other, since they start real stacks and time real traffic. Each file's output is printed whole when it
// ends; at the end a table of each file's wall time, slowest first (also written to PUSHPULL_TEST_TIMES
// when set, so .ci/run can print it last).
// Docker end-to-end tests (*.docker.test.ts) need a reachable engine. Without one they are skipped with a
// loud notice, unless PUSHPULL_REQUIRE_DOCKER=1 (set by .ci/run), in which case they run and fail.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as times from './test-times.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const explicit = args.filter((a) => !a.startsWith('--'));

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function dockerReachable() {
  const r = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], {
    encoding: 'utf8',
    timeout: 10000,
  });
  return r.status === 0 && r.stdout.trim().length > 0;
}

let files = explicit.length > 0 ? explicit.map((f) => join(process.cwd(), f)) : [];
if (files.length === 0) {
  for (const base of ['services/common', 'services/collector', 'services/producer', 'lab'])
    walk(join(root, base, 'test'), files);
  files.sort();
  if (unitOnly) files = files.filter((f) => !times.isSerial(f));
  const dockerFiles = files.filter((f) => f.endsWith('.docker.test.ts'));
  if (dockerFiles.length > 0 && !dockerReachable()) {
    if (process.env.PUSHPULL_REQUIRE_DOCKER === '1') {
      console.error('run-tests: PUSHPULL_REQUIRE_DOCKER=1 but no Docker engine answers `docker version`.');
      process.exit(1);
    }
    console.warn(
      `run-tests: NOTICE: no Docker engine answers; skipping ${dockerFiles.length} docker end-to-end file(s):`,
    );
    for (const f of dockerFiles) console.warn(`  - ${relative(root, f)}`);
    console.warn('run-tests: start one (as root: bash scripts/setup.sh) to run them.');
    files = files.filter((f) => !f.endsWith('.docker.test.ts'));
  }
}
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

const jobs = Math.max(1, Number(process.env.PUSHPULL_TEST_JOBS) || availableParallelism());
const reporter = ['--test-reporter=spec'];

/** One test file in its own `node --test`; resolves with its exit code, wall time and captured output. */
function runFile(file) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', ...reporter, file], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    child.on('close', (code, signal) => {
      const output = Buffer.concat(chunks).toString('utf8');
      resolve({ file: relative(root, file), code: code ?? 1, signal, ms: performance.now() - t0, output });
    });
  });
}

const results = [];
function report(r) {
  process.stdout.write(`\n### ${r.file} (${(r.ms / 1000).toFixed(1)} s)\n${r.output}`);
  if (r.code !== 0) process.stdout.write(`### ${r.file}: FAILED (exit ${r.signal ?? r.code})\n`);
  results.push(r);
}

/** Runs `list` with at most `limit` files at a time, reporting each as it ends. */
async function pool(list, limit) {
  let next = 0;
  const worker = async () => {
    while (next < list.length) report(await runFile(list[next++]));
  };
  await Promise.all(Array.from({ length: Math.min(limit, list.length) }, worker));
}

const t0 = performance.now();
const concurrent = files.filter((f) => !times.isSerial(f));
const serial = files.filter((f) => times.isSerial(f));
await pool(concurrent, jobs);
await pool(serial, 1);
const wallMs = performance.now() - t0;

const counts = times.parseCounts(results.map((r) => r.output));
const failed = results.filter((r) => r.code !== 0);
// The round's budget for one end-to-end test is 3 minutes: name every test over it under the table.
const SLOW_MS = 180_000;
const slow = results.flatMap((r) => times.slowTests(r.output, SLOW_MS).map((t) => `  - ${r.file}: ${t}`));
const table = [
  times.formatTimes(
    results.map((r) => ({ file: r.file, ms: r.ms, ok: r.code === 0 })),
    { wallMs, jobs, concurrent: concurrent.length, serial: serial.length },
  ),
  ...(slow.length > 0
    ? [`Tests over ${SLOW_MS / 1000} s (the budget of one end-to-end test):`, ...slow]
    : []),
].join('\n');
console.log(`\n${table}`);
console.log(
  `run-tests: ${results.length} file(s), tests ${counts.tests}, pass ${counts.pass}, fail ${counts.fail}, skipped ${counts.skipped}, todo ${counts.todo}`,
);
// Skips are loud: every skipped test with its reason, at the end where nobody scrolls past it.
const skipped = results.flatMap((r) => times.skippedTests(r.output).map((t) => `  - ${r.file}: ${t}`));
if (skipped.length > 0)
  console.warn(`run-tests: NOTICE: ${skipped.length} test(s) SKIPPED:\n${skipped.join('\n')}`);
// What failed and why, once more at the very end (and in PUSHPULL_TEST_TIMES, which .ci/run prints last):
// a CI log is read from its tail, and a file's own output may be thousands of lines above it.
const failures = failed.map((r) => {
  const why = times.failureSummary(r.output);
  return `  - ${r.file}${why.length > 0 ? `\n${why.map((w) => w.replace(/^/gm, '      ')).join('\n')}` : ` (exit ${r.signal ?? r.code}, no failing test reported)`}`;
});
const failedText = failed.length > 0 ? `run-tests: FAILED files:\n${failures.join('\n')}` : '';
if (failedText) console.log(failedText);
if (process.env.PUSHPULL_TEST_TIMES)
  writeFileSync(process.env.PUSHPULL_TEST_TIMES, `${table}\n${failedText ? `${failedText}\n` : ''}`);
process.exit(failed.length > 0 ? 1 : 0);
