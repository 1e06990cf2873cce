import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from './helpers.ts';

// The built bundle (npm run build) as users and the lab's process runtime run it.
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' }; // no PRODUCER_* leaking in from the caller

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...ENV, ...env },
  });
}

describe('pushpull-producer CLI (dist/main.js)', () => {
  it('is built', () => assert.ok(existsSync(MAIN), `${MAIN} missing: run npm run build first`));

  const bad: [string[], Record<string, string>, string][] = [
    [['--podz', '3'], {}, '--podz'],
    [['--pods', 'many'], {}, '--pods'],
    [['--pods', '0'], {}, '--pods'],
    [['--push-mode', 'carrier-pigeon'], {}, '--push-mode'],
    [['--statsd', 'http://127.0.0.1:8125'], {}, '--statsd'],
    [['--http', 'nowhere'], {}, '--http'],
    [['--flush-interval', 'soon'], {}, '--flush-interval'],
    [['--profile', 'volcano'], {}, 'volcano'],
    [[], { PRODUCER_PODS: 'lots' }, 'PRODUCER_PODS'],
    [['job', '--duration', '8s', '--pushgateway', 'ftp://x'], {}, '--pushgateway'],
    [['serve', '--duration', '8s'], {}, '--duration'],
  ];
  for (const [args, env, named] of bad) {
    it(`exits 2 naming ${named} for ${[...args, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].join(' ')}`, () => {
      const r = run(args, env);
      assert.equal(r.status, 2, r.stderr);
      assert.ok(r.stderr.includes(named), r.stderr);
      const line = JSON.parse(r.stderr.trim().split('\n').at(-1)!);
      assert.match(line.code, /^LAB_ERR_/);
      assert.equal(r.stdout, '');
    });
  }

  it('--help exits 0 and lists the flags with their env vars', () => {
    const r = run(['--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--push-mode/);
    assert.match(r.stdout, /PRODUCER_STATSD/);
  });

  describe('serve on port 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-cli-'));
    let child: ChildProcess | null = null;
    after(() => {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    it('prints the listening line, serves, and exits 0 on SIGTERM removing its sd file', async () => {
      child = spawn(
        process.execPath,
        [MAIN, '--pods', '4', '--http', '127.0.0.1:0', '--statsd', 'udp://127.0.0.1:9', '--name', 'cli'],
        { env: { ...ENV, PRODUCER_SD_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const c = child;
      const lines = createInterface({ input: c.stdout! });
      const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no listening line within 10 s')), 10_000);
        lines.on('line', (l) => {
          const o = JSON.parse(l);
          if (o.msg === 'listening') {
            clearTimeout(t);
            resolve(o);
          }
        });
        c.once('exit', (code) => reject(new Error(`exited ${code} before listening`)));
      });
      assert.equal(listening.name, 'cli');
      assert.equal(listening.pods, 4);
      const http = String(listening.http);
      assert.match(http, /^127\.0\.0\.1:\d+$/);
      assert.notEqual(http, '127.0.0.1:0');
      assert.equal((await request(http, 'GET', '/healthz')).status, 200);
      assert.equal((await request(http, 'GET', '/pods/cli-p3/metrics')).status, 200);
      const sd = JSON.parse(readFileSync(join(dir, 'cli.json'), 'utf8'));
      assert.equal(sd.length, 4);
      assert.deepEqual(sd[0].targets, [http]);

      const exited = new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code)));
      c.kill('SIGTERM');
      const code = await Promise.race([
        exited,
        new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000)),
      ]);
      assert.equal(code, 0);
      assert.equal(existsSync(join(dir, 'cli.json')), false, 'sd file removed on SIGTERM');
    });
  });
});
