import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { linesOf, request, sumSamples, sumStat, udpSink, waitFor } from './helpers.ts';

// `pushpull-producer job` against a real Pushgateway (Debian's prometheus-pushgateway) and a UDP sink.
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const PUSHGATEWAY = '/usr/bin/prometheus-pushgateway';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('job subcommand with a real Pushgateway', () => {
  let gw: ChildProcess | null = null;
  let gwAddr = '';

  before(async () => {
    assert.ok(existsSync(PUSHGATEWAY), `${PUSHGATEWAY} missing (apt-get install prometheus-pushgateway)`);
    assert.ok(existsSync(MAIN), `${MAIN} missing: run npm run build first`);
    const port = await freePort();
    gwAddr = `127.0.0.1:${port}`;
    gw = spawn(PUSHGATEWAY, [`--web.listen-address=${gwAddr}`, '--persistence.file='], { stdio: 'ignore' });
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      ready = await request(gwAddr, 'GET', '/-/ready').then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(ready, 'pushgateway did not become ready in 10 s');
  });

  after(() => {
    gw?.kill('SIGTERM');
  });

  it('runs one pod for --duration, pushes final metrics under job=<name> and StatsD, exits 0', async () => {
    const sink = await udpSink();
    try {
      const child = spawn(
        process.execPath,
        [
          MAIN,
          'job',
          '--duration',
          '1500ms',
          '--pushgateway',
          `http://${gwAddr}`,
          '--statsd',
          `udp://127.0.0.1:${sink.port}`,
          '--name',
          'nightly-batch',
          '--fleet-pods',
          '20',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } },
      );
      let out = '';
      let err = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (err += d));
      const code = await new Promise<number | null>((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(null);
        }, 20_000);
        child.once('exit', (c) => {
          clearTimeout(t);
          resolve(c);
        });
      });
      assert.equal(code, 0, err);
      const done = out
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l))
        .find((o) => o.msg === 'job done');
      assert.ok(done, out);
      const orders: number = done.total.orders;
      // 4000/s / 20 pods = 200/s for 1.5 s
      assert.ok(orders >= 290 && orders <= 310, `${orders} orders`);

      const metrics = (await request(gwAddr, 'GET', '/metrics')).text;
      const mine = metrics
        .split('\n')
        .filter((l) => l.startsWith('orders_total{') && l.includes('job="nightly-batch"'))
        .join('\n');
      assert.equal(sumSamples(mine, 'orders_total'), orders, 'final registry pushed under job=nightly-batch');
      assert.ok(await waitFor(() => linesOf(sink.datagrams).length >= done.total.pushEvents, 2000));
      assert.equal(sumStat(linesOf(sink.datagrams), 'orders'), done.total.ordersPushed);
    } finally {
      await sink.close();
    }
  });
});
