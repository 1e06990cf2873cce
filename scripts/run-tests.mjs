#!/usr/bin/env node
// Runs the whole suite with Node's own test runner (TypeScript loaded through tsx).
//   node scripts/run-tests.mjs            unit + integration (+ docker end-to-end when an engine answers)
//   node scripts/run-tests.mjs --unit     unit tests only (*.test.ts that are not *.int.test.ts / *.docker.test.ts)
//   node scripts/run-tests.mjs FILE...    just these files
// Docker end-to-end tests (*.docker.test.ts) need a reachable engine. Without one they are skipped with a
// loud notice, unless PUSHPULL_REQUIRE_DOCKER=1 (set by .ci/run), in which case they run and fail.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  if (unitOnly) files = files.filter((f) => !/\.(int|docker)\.test\.ts$/.test(f));
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
    console.warn('run-tests: start one (sudo bash scripts/setup.sh) to run them.');
    files = files.filter((f) => !f.endsWith('.docker.test.ts'));
  }
}
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
const reporter = process.stdout.isTTY ? [] : ['--test-reporter=spec'];
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', ...reporter, ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_OPTIONS: '' } },
);
process.exit(r.status ?? 1);
