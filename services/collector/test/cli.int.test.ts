// The built binary (dist/main.js, what the air-gapped image runs): bad flags exit 2 naming the flag;
// port 0 prints the "listening" line; SIGTERM stops receiving, flushes and exits 0.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { metrics, sendTcp, sendUdp, sum, waitFor } from '../testkit/helpers.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '../dist/main.js');

function run(args: string[], env: Record<string, string> = {}) {
  assert.ok(existsSync(BIN), `${BIN} missing: run "npm run build" first`);
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 15_000,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

describe('CLI: bad flags', () => {
  const cases: [string, string[], Record<string, string>, string[]][] = [
    ['unknown flag', ['--statsd-upd', '127.0.0.1:0'], {}, ['LAB_ERR_FLAG_UNKNOWN', '--statsd-upd']],
    ['not an integer', ['--max-series', 'lots'], {}, ['LAB_ERR_FLAG_VALUE', '--max-series', '"lots"']],
    ['below minimum', ['--max-series', '0'], {}, ['--max-series', '0']],
    ['bad size', ['--rcvbuf', '3furlongs'], {}, ['LAB_ERR_FLAG_VALUE', '--rcvbuf', '"3furlongs"']],
    ['bad address', ['--statsd-udp', 'nowhere'], {}, ['LAB_ERR_ADDRESS', '--statsd-udp', '"nowhere"']],
    ['bad duration', ['--source-ttl', 'soon'], {}, ['--source-ttl', '"soon"']],
    ['bad buckets', ['--buckets', '1,0.5'], {}, ['--buckets', 'ascending']],
    ['missing value', ['--http'], {}, ['--http', 'missing value']],
    ['bad env var', [], { COLLECTOR_MAX_SERIES: 'x' }, ['COLLECTOR_MAX_SERIES', '--max-series', '"x"']],
    ['positional argument', ['serve'], {}, ['"serve"']],
  ];
  for (const [title, args, env, mentions] of cases) {
    it(`${title}: exit 2, message names it`, () => {
      const r = run(args, env);
      assert.equal(r.status, 2, `exit status (stderr: ${r.stderr})`);
      for (const m of mentions) assert.ok(r.stderr.includes(m), `stderr mentions ${m}: ${r.stderr}`);
      assert.equal(r.stdout, '', 'nothing on stdout: no listening line');
    });
  }
  it('--help lists every flag with its env var, exit 0', () => {
    const r = run(['--help']);
    assert.equal(r.status, 0);
    for (const f of [
      '--statsd-udp',
      '--statsd-tcp',
      '--http',
      '--rcvbuf',
      '--max-series',
      '--source-tag',
      '--strict-names',
    ])
      assert.ok(r.stdout.includes(f), f);
    assert.ok(r.stdout.includes('COLLECTOR_STATSD_UDP'));
  });
});

interface Listening {
  msg: string;
  udp: string;
  tcp: string | null;
  http: string;
  otlp: string | null;
  rcvbufRequested: number;
  rcvbufGranted: number;
}

function start(
  args: string[],
): Promise<{ child: ChildProcess; listening: Listening; out: () => string; err: () => string }> {
  assert.ok(existsSync(BIN), `${BIN} missing: run "npm run build" first`);
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listening line in 10 s; stderr: ${err}`));
    }, 10_000);
    let resolved = false;
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (resolved || nl < 0) return;
      resolved = true;
      clearTimeout(timer);
      try {
        resolve({ child, listening: JSON.parse(out.slice(0, nl)), out: () => out, err: () => err });
      } catch (e) {
        reject(e);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before listening; stderr: ${err}`));
    });
  });
}

function exited(child: ChildProcess, ms = 10_000): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('did not exit'));
    }, ms);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

describe('CLI: running', () => {
  it('port 0: one JSON listening line with the bound addresses, counts traffic, SIGTERM -> exit 0', async () => {
    const p = await start([
      '--statsd-udp',
      '127.0.0.1:0',
      '--statsd-tcp',
      '127.0.0.1:0',
      '--http',
      '127.0.0.1:0',
      '--otlp-http',
      '127.0.0.1:0',
    ]);
    try {
      const l = p.listening;
      assert.equal(l.msg, 'listening');
      for (const addr of [l.udp, l.tcp!, l.http, l.otlp!]) assert.match(addr, /^127\.0\.0\.1:[1-9]\d*$/);
      assert.equal(l.rcvbufRequested, 8 << 20);
      assert.ok(l.rcvbufGranted > 0);
      if (l.rcvbufGranted < l.rcvbufRequested)
        assert.match(p.err(), /udp receive buffer capped by the kernel/, 'a capped buffer is warned about');
      await sendUdp(l.udp, ['cli_orders:2|c|#pod:p1']);
      await sendTcp(l.tcp!, ['cli_orders:3|c|#pod:p1\n']);
      assert.ok(await waitFor(async () => sum(await metrics(l.http), 'cli_orders') === 5));
      // a partial TCP line is flushed at SIGTERM
      const net = await import('node:net');
      const [h, port] = l.tcp!.split(':');
      const sock = net.connect(Number(port), h);
      sock.on('error', () => {});
      await new Promise<void>((res) => sock.once('connect', () => res()));
      await new Promise<void>((res) => sock.write('cli_orders:4|c', () => res()));
      await new Promise((r) => setTimeout(r, 100));
      p.child.kill('SIGTERM');
      assert.equal(await exited(p.child), 0);
      sock.destroy();
      const stopped = p
        .out()
        .split('\n')
        .filter((x) => x.includes('"stopped"'))
        .map((x) => JSON.parse(x))[0];
      assert.ok(stopped, `a stopped line: ${p.out()}`);
      assert.equal(stopped.linesAccepted, 3);
      assert.equal(stopped.packets.udp, 1);
    } finally {
      p.child.kill('SIGKILL');
    }
  });
  it('--statsd-tcp off: "tcp":null; env vars configure it too', async () => {
    const child = spawn(process.execPath, [BIN], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        COLLECTOR_STATSD_UDP: '127.0.0.1:0',
        COLLECTOR_STATSD_TCP: 'off',
        COLLECTOR_HTTP: '127.0.0.1:0',
        COLLECTOR_RCVBUF: '1MiB',
      },
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.once('exit', (code) => reject(new Error(`exit ${code}`)));
      });
      const l = JSON.parse(line) as Listening;
      assert.equal(l.tcp, null);
      assert.equal(l.rcvbufRequested, 1 << 20);
      assert.equal(l.rcvbufGranted, 1 << 20);
      child.kill('SIGINT');
      assert.equal(await exited(child), 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
  it('a port in use: exit 1, LAB_ERR_ADDRESS naming the flag', async () => {
    const p = await start(['--statsd-udp', '127.0.0.1:0', '--statsd-tcp', 'off', '--http', '127.0.0.1:0']);
    try {
      const r = run(['--statsd-udp', '127.0.0.1:0', '--statsd-tcp', 'off', '--http', p.listening.http]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /LAB_ERR_ADDRESS: --http: cannot listen on 127\.0\.0\.1:\d+/);
    } finally {
      p.child.kill('SIGTERM');
      await exited(p.child);
    }
  });
});
