// scripts/setup.sh on a system it does not support: a clear "Linux only" and exit 1, no package advice
// that cannot work (uname is faked on PATH; nothing is installed or checked). And as a user who is not
// root: it says whether sudo is there, and never advises `sudo` where there is none (id is faked, and PATH
// holds only the few programs the script needs, so the lab's packages look missing; nothing is installed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

/** A PATH of just bash's helpers, `id -u` answering `uid`, and a `sudo` when asked for. */
function minimalPath(uid: number, sudo: boolean): string {
  const bin = mkdtempSync(join(tmpdir(), 'pp-setup-path-'));
  for (const tool of ['uname', 'cat', 'sed'])
    symlinkSync(
      spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(),
      join(bin, tool),
    );
  writeFileSync(join(bin, 'id'), `#!/bin/sh\necho ${uid}\n`);
  chmodSync(join(bin, 'id'), 0o755);
  if (sudo) {
    writeFileSync(join(bin, 'sudo'), '#!/bin/sh\necho "fake sudo must not run" >&2; exit 99\n');
    chmodSync(join(bin, 'sudo'), 0o755);
  }
  return bin;
}

describe('scripts/setup.sh without root', () => {
  const cases: { name: string; sudo: boolean; says: RegExp; advice: RegExp; never?: RegExp }[] = [
    {
      name: 'neither root nor sudo: says so, advises su and no sudo',
      sudo: false,
      says: /needs root, and I am neither root nor is sudo installed: become root \(su -\)/,
      advice: /su -c 'apt-get install -y prometheus/,
      never: /sudo (apt-get|bash)/,
    },
    {
      name: 'sudo there: run me with sudo',
      sudo: true,
      says: /needs root: run me as root \(or with sudo\): sudo bash scripts\/setup\.sh/,
      advice: /sudo apt-get install -y prometheus/,
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const bin = minimalPath(1000, c.sudo);
      try {
        const r = spawnSync('/bin/bash', ['scripts/setup.sh', '--no-docker'], {
          cwd: repoRoot(),
          env: { PATH: bin, HOME: tmpdir() },
          encoding: 'utf8',
          timeout: 30_000,
        });
        const text = r.stdout + r.stderr;
        assert.equal(r.status, 1, text);
        assert.match(text, /setup: missing: prometheus prometheus-pushgateway/);
        assert.match(text, c.says);
        assert.match(text, c.advice);
        if (c.never) assert.doesNotMatch(text, c.never);
        assert.doesNotMatch(text, /fake sudo must not run/, 'advises sudo, never runs it');
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    });
});
