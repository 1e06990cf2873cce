// The committed bin entries npm links into node_modules/.bin (pushpull-lab, -collector, -producer): they run
// the built bundle, pass argv and the exit code through, and say "run npm run build" when there is none.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertBuilt, ROOT } from './cli-helpers.ts';

const BINS = {
  'pushpull-lab': 'lab',
  'pushpull-collector': 'services/collector',
  'pushpull-producer': 'services/producer',
} as const;

const node = (file: string, args: string[]) =>
  spawnSync(process.execPath, [file, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });

describe('bin entries', () => {
  it('each workspace declares its committed bin entry', () => {
    for (const [name, dir] of Object.entries(BINS)) {
      const pkg = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as {
        bin: Record<string, string>;
      };
      assert.equal(pkg.bin[name], `bin/${name}.js`, name);
    }
  });
  it('run the built bundle: --version and -h exit 0, bad usage exits 2', () => {
    assertBuilt();
    const v = node(join(ROOT, 'lab/bin/pushpull-lab.js'), ['--version']);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /^pushpull-lab \d+\.\d+\.\d+\n$/);
    for (const [name, dir] of Object.entries(BINS)) {
      const h = node(join(ROOT, dir, 'bin', `${name}.js`), ['-h']);
      assert.equal(h.status, 0, `${name} -h: ${h.stderr}`);
      assert.match(h.stdout, new RegExp(`${name}`));
    }
    const bad = node(join(ROOT, 'lab/bin/pushpull-lab.js'), ['help', 'nosuch']);
    assert.equal(bad.status, 2);
  });
  it('without a build: says to run npm run build, exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-bin-'));
    try {
      mkdirSync(join(dir, 'bin'));
      copyFileSync(join(ROOT, 'lab/bin/pushpull-lab.js'), join(dir, 'bin', 'pushpull-lab.js'));
      const r = node(join(dir, 'bin', 'pushpull-lab.js'), ['--version']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /lab\/dist\/main\.js is not built yet: run `npm run build`/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
