#!/usr/bin/env node
// Runs benchmarks: every bench/*.bench.ts of the named workspaces (all workspaces when none is named),
// one file at a time, each in its own Node process with TypeScript loaded through tsx, from the repo root.
//   node scripts/run-bench.mjs                  all workspaces' benches
//   node scripts/run-bench.mjs collector        a workspace by folder name, path or package name
//   node scripts/run-bench.mjs collector -- --x  extra arguments after -- go to every bench file
// Results are each bench's business (by convention JSON under bench/results/ at the repo root).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const names = dash >= 0 ? argv.slice(0, dash) : argv;
const passThrough = dash >= 0 ? argv.slice(dash + 1) : [];

const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces ?? [];
const known = workspaces.map((dir) => {
  let pkg = '';
  try {
    pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).name ?? '';
  } catch {
    /* a workspace without package.json has no benches either */
  }
  return { dir, pkg };
});

const selected =
  names.length === 0
    ? known
    : names.map((n) => {
        const w = known.find((k) => k.dir === n || basename(k.dir) === n || k.pkg === n);
        if (!w) {
          console.error(
            `run-bench: unknown workspace "${n}"; known: ${known.map((k) => basename(k.dir)).join(', ')}`,
          );
          process.exit(2);
        }
        return w;
      });

const files = [];
for (const w of selected) {
  const dir = join(root, w.dir, 'bench');
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).sort()) if (f.endsWith('.bench.ts')) files.push(join(dir, f));
}
if (files.length === 0) {
  console.error(`run-bench: no bench/*.bench.ts in ${selected.map((w) => w.dir).join(', ')}`);
  process.exit(names.length === 0 ? 0 : 1);
}

let failed = 0;
for (const f of files) {
  console.error(`run-bench: ${relative(root, f)}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', f, ...passThrough], {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (r.status !== 0) {
    failed++;
    console.error(`run-bench: ${relative(root, f)} failed (exit ${r.status ?? r.signal})`);
  }
}
process.exit(failed > 0 ? 1 : 0);
