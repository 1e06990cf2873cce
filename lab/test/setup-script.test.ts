// scripts/setup.sh on a system it does not support: a clear "Linux only" and exit 1, no package advice
// that cannot work (uname is faked on PATH; nothing is installed or checked).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../src/core/paths.ts';

describe('scripts/setup.sh off Linux', () => {
  for (const os of ['Darwin', 'MINGW64_NT-10.0'])
    it(`${os}: says the lab is Linux-only and exits 1`, () => {
      const bin = mkdtempSync(join(tmpdir(), 'pp-uname-'));
      try {
        writeFileSync(join(bin, 'uname'), `#!/bin/sh\necho ${os}\n`);
        chmodSync(join(bin, 'uname'), 0o755);
        const r = spawnSync('bash', ['scripts/setup.sh', '--check'], {
          cwd: repoRoot(),
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
          encoding: 'utf8',
          timeout: 30_000,
        });
        assert.equal(r.status, 1);
        assert.match(r.stderr, new RegExp(`${os} is not supported: the lab runs on Linux only`));
        assert.doesNotMatch(r.stdout + r.stderr, /brew/);
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    });
});
