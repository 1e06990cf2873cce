// Issue 11, item 4: TCP lock-out. 1,024 idle connections (no idle timeout) once made the collector reset
// every new TCP sender, its lines lost and counted nowhere. Now a new sender behind 1,100 idle connections
// is either counted (collector_tcp_connections_refused_total) or, once --tcp-idle-timeout has freed the
// slots, served. Real sockets on 127.0.0.1, bounded in count and time.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { parseHostPort, silentLogger } from '@pushpull/common';
import { createCollector } from '../src/index.ts';
import { metrics, sendTcp, sum, waitFor } from '../testkit/helpers.ts';

const IDLE = 1100;

async function openIdle(tcp: string, n: number): Promise<net.Socket[]> {
  const { host, port } = parseHostPort(tcp);
  const out: net.Socket[] = [];
  // In batches, so the listen backlog (511) never overflows into SYN retries of a second each.
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: Math.min(100, n - i) }, () => net.connect(port, host));
    for (const s of batch) s.on('error', () => {}); // the collector closes some: expected
    await Promise.all(batch.map((s) => new Promise((r) => s.once('connect', r).once('close', r))));
    out.push(...batch);
  }
  return out;
}

/** Connects, writes, ends; resolves when the connection is gone whatever the collector did with it. */
async function tryOnce(tcp: string, text: string): Promise<void> {
  const { host, port } = parseHostPort(tcp);
  const s = net.connect(port, host);
  s.on('error', () => {});
  s.setTimeout(3000, () => s.destroy());
  s.end(text);
  await new Promise((r) => s.once('close', r));
}

describe('TCP connection limit and idle timeout', () => {
  it('a sender behind 1,100 idle connections is counted when refused, and served once they time out', async () => {
    const c = createCollector(
      { statsdUdp: '127.0.0.1:0', statsdTcp: '127.0.0.1:0', http: '127.0.0.1:0', tcpIdleTimeout: '5s' },
      { logger: silentLogger },
    );
    const a = await c.start();
    const idle: net.Socket[] = [];
    try {
      assert.equal(c.config.maxTcpConnections, 1024, 'the default limit');
      idle.push(...(await openIdle(a.tcp!, IDLE)));
      const m = async () => metrics(a.http);
      assert.ok(
        await waitFor(
          async () => sum(await m(), 'collector_tcp_connections_refused_total') === IDLE - 1024,
          5000,
        ),
        'every connection over the limit is counted',
      );
      assert.equal(sum(await m(), 'collector_tcp_connections_open'), 1024);
      // A new sender now: refused, and counted.
      await tryOnce(a.tcp!, 'late:1|c\n');
      assert.ok(
        await waitFor(
          async () => sum(await m(), 'collector_tcp_connections_refused_total') === IDLE - 1024 + 1,
        ),
        'the locked-out sender is counted',
      );
      // After the idle timeout the slots are free: the next sender is served, its line counted.
      assert.ok(
        await waitFor(async () => sum(await m(), 'collector_tcp_connections_open') === 0, 8000),
        'idle connections closed',
      );
      assert.equal(sum(await m(), 'collector_tcp_connections_idle_closed_total'), 1024);
      await sendTcp(a.tcp!, ['late:1|c\n']);
      assert.ok(await waitFor(async () => sum(await m(), 'late') === 1), 'the new sender is served');
    } finally {
      for (const s of idle) s.destroy();
      await c.stop();
    }
  });

  it('limits are validated once: --tcp-idle-timeout 0 means never, a bad value names the flag', () => {
    assert.equal(createCollector({ tcpIdleTimeout: '0' }).config.tcpIdleTimeout, 0);
    assert.throws(() => createCollector({ tcpIdleTimeout: 'soon' }), /--tcp-idle-timeout/);
  });
});
