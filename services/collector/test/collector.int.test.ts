// The running collector on real loopback sockets (port 0): UDP, TCP, HTTP, stop.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { parseHostPort, silentLogger } from '@pushpull/common';
import { type Collector, type CollectorAddresses, createCollector } from '../src/index.ts';
import { metrics, parseExposition, scrape, sendTcp, sendUdp, sum, waitFor } from '../testkit/helpers.ts';

describe('collector on loopback', () => {
  let c: Collector;
  let a: CollectorAddresses;

  before(async () => {
    c = createCollector(
      { statsdUdp: '127.0.0.1:0', statsdTcp: '127.0.0.1:0', http: '127.0.0.1:0', maxLineSize: 256 },
      { logger: silentLogger },
    );
    a = await c.start();
  });
  after(async () => {
    await c.stop();
  });

  it('binds real ports and reports the receive buffer it got', () => {
    for (const addr of [a.udp, a.tcp!, a.http]) assert.ok(parseHostPort(addr).port > 0, addr);
    assert.equal(a.rcvbufRequested, 8 << 20);
    assert.ok(a.rcvbufGranted !== null && a.rcvbufGranted > 0 && a.rcvbufGranted <= 8 << 20);
  });

  it('UDP: aggregates the contract lines and exposes them under statsd_exporter names', async () => {
    await sendUdp(a.udp, [
      'orders:1|c|#region:ap-south-1a,side:buy,instrument:NIFTY,pod:p1\norders:1|c|#region:ap-south-1a,side:buy,instrument:NIFTY,pod:p1',
      'order.latency_ms:47.2|ms|#region:ap-south-1a,pod:p1\norder.rejects:1|c|#region:ap-south-1a,pod:p1',
      'order.queue_depth:12|g|#pod:p1\nheartbeat:1|c|#pod:p1',
    ]);
    assert.ok(
      await waitFor(
        async () => sum(await metrics(a.http), 'collector_packets_total', { transport: 'udp' }) >= 3,
      ),
    );
    const m = await metrics(a.http);
    assert.equal(sum(m, 'orders', { pod: 'p1', side: 'buy', instrument: 'NIFTY', region: 'ap-south-1a' }), 2);
    assert.equal(sum(m, 'order_latency_ms_count', { pod: 'p1' }), 1);
    assert.equal(sum(m, 'order_latency_ms_sum', { pod: 'p1' }), 0.0472);
    assert.equal(sum(m, 'order_latency_ms_bucket', { pod: 'p1', le: '0.05' }), 1);
    assert.equal(sum(m, 'order_latency_ms_bucket', { pod: 'p1', le: '0.025' }), 0);
    assert.equal(sum(m, 'order_rejects', { pod: 'p1' }), 1);
    assert.equal(sum(m, 'order_queue_depth', { pod: 'p1' }), 12);
    assert.equal(sum(m, 'heartbeat', { pod: 'p1' }), 1);
    const seen = m.find(
      (s) => s.name === 'collector_source_last_seen_timestamp_seconds' && s.labels.source === 'p1',
    );
    assert.ok(seen && Math.abs(seen.value - Date.now() / 1000) < 60, 'source p1 seen just now');
    assert.equal(sum(m, 'collector_sources_active'), 1);
    assert.equal(sum(m, 'collector_lines_total', { transport: 'udp' }), 6);
  });

  it('TCP: newline-delimited lines, split anywhere across reads, last line at EOF', async () => {
    const before = sum(await metrics(a.http), 'tcp_orders');
    await sendTcp(a.tcp!, ['tcp_orders:1|c\ntcp_ord', 'ers:2|c\n', 'tcp_o', 'rders:4|c']);
    assert.ok(await waitFor(async () => sum(await metrics(a.http), 'tcp_orders') - before === 7));
    const m = await metrics(a.http);
    assert.ok(sum(m, 'collector_lines_total', { transport: 'tcp' }) >= 3);
    assert.ok(sum(m, 'collector_tcp_connections_total') >= 1);
  });

  it('TCP: a line over --max-line-size is dropped and counted, the stream goes on', async () => {
    const errs = sum(await metrics(a.http), 'collector_parse_errors_total', { reason: 'line_too_long' });
    await sendTcp(a.tcp!, [`tcp_long:1|c|#x:${'y'.repeat(300)}`, `${'z'.repeat(300)}\ntcp_after:1|c\n`]);
    assert.ok(await waitFor(async () => sum(await metrics(a.http), 'tcp_after') === 1));
    const m = await metrics(a.http);
    assert.equal(sum(m, 'collector_parse_errors_total', { reason: 'line_too_long' }) - errs, 1);
    assert.equal(sum(m, 'tcp_long'), 0);
  });

  it('bad input over UDP becomes counted drops, the collector keeps answering', async () => {
    const m0 = await metrics(a.http);
    await sendUdp(a.udp, [
      'no colon here\norders:abc|c\n:1|c',
      Buffer.from([0xff, 0xfe, 0x3a, 0x7c]),
      '',
      'good_after:1|c',
    ]);
    assert.ok(await waitFor(async () => sum(await metrics(a.http), 'good_after') === 1));
    const m = await metrics(a.http);
    const d = (reason: string) =>
      sum(m, 'collector_parse_errors_total', { reason }) -
      sum(m0, 'collector_parse_errors_total', { reason });
    assert.equal(d('malformed_line'), 1);
    assert.equal(d('bad_value'), 1);
    assert.equal(d('empty_name'), 1);
    assert.equal(d('invalid_utf8'), 1);
    const errors = m
      .filter((s) => s.name === 'collector_parse_errors_total')
      .reduce((x, s) => x + s.value, 0);
    const lines = sum(m, 'collector_lines_total');
    assert.equal(
      lines,
      sum(m, 'collector_lines_accepted_total') + errors + sum(m, 'collector_series_rejected_total'),
    );
  });

  it('HTTP: /metrics content type, /healthz, 404 and 405', async () => {
    const r = await scrape(a.http);
    assert.equal(r.type, 'text/plain; version=0.0.4; charset=utf-8');
    const { host, port } = parseHostPort(a.http);
    const h = await fetch(`http://${host}:${port}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(await h.text(), 'ok');
    assert.equal((await fetch(`http://${host}:${port}/nope`)).status, 404);
    const p = await fetch(`http://${host}:${port}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(p.status, 405);
    assert.equal(p.headers.get('allow'), 'GET, HEAD');
    const head = await fetch(`http://${host}:${port}/metrics`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const big = await fetch(`http://${host}:${port}/metrics`, { method: 'POST', body: 'x'.repeat(4096) });
    assert.ok(big.status === 405 || big.status === 413, `a body over the limit is refused (${big.status})`);
  });

  it('HTTP: /metrics/self has the self-metrics and no sender series', async () => {
    const { host, port } = parseHostPort(a.http);
    const r = await fetch(`http://${host}:${port}/metrics/self`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const self = parseExposition(await r.text());
    const full = await metrics(a.http);
    assert.ok(self.length > 20);
    for (const x of self) assert.ok(x.name.startsWith('collector_'), x.name);
    assert.ok(
      full.some((x) => !x.name.startsWith('collector_')),
      'the full exposition has sender series',
    );
    assert.equal(sum(self, 'collector_lines_total'), sum(full, 'collector_lines_total'));
  });
});

describe('collector stop', () => {
  it('stops receiving, flushes a partial TCP line, closes every port', async () => {
    const c = createCollector(
      { statsdUdp: '127.0.0.1:0', statsdTcp: '127.0.0.1:0', http: '127.0.0.1:0' },
      { logger: silentLogger },
    );
    const a = await c.start();
    const { host, port } = parseHostPort(a.tcp!);
    const net = await import('node:net');
    const sock = net.connect(port, host);
    await new Promise<void>((res) => sock.once('connect', () => res()));
    sock.on('error', () => {});
    await new Promise<void>((res) => sock.write('pending_line:5|c', () => res()));
    assert.ok(await waitFor(() => c.ingest.stats.packets[1]! >= 1));
    await c.stop();
    const s = c.summary();
    assert.equal(s.linesAccepted, 1, 'the partial line was flushed at stop');
    assert.equal(c.render().includes('pending_line 5'), true);
    // every port is closed now
    const h = parseHostPort(a.http);
    await assert.rejects(fetch(`http://${h.host}:${h.port}/healthz`));
    const u = parseHostPort(a.udp);
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((res, rej) => probe.bind(u.port, u.host, () => res()).once('error', rej));
    probe.close();
    await c.stop(); // idempotent
    sock.destroy();
  });
  it('SO_RCVBUF: a request is read back (capped by rmem_max, warned), 0 keeps the kernel default', async () => {
    const { readFileSync } = await import('node:fs');
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    const rmemDefault = Number(readFileSync('/proc/sys/net/core/rmem_default', 'utf8'));
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => void warnings.push(m) };
    for (const [rcvbuf, expected] of [
      [1 << 20, Math.min(1 << 20, rmemMax)],
      [rmemMax * 2, rmemMax],
      [0, rmemDefault],
    ] as const) {
      warnings.length = 0;
      const c = createCollector(
        { statsdUdp: '127.0.0.1:0', statsdTcp: 'off', http: '127.0.0.1:0', rcvbuf },
        { logger },
      );
      const a = await c.start();
      await c.stop();
      assert.equal(a.rcvbufGranted, expected, `rcvbuf ${rcvbuf}`);
      assert.equal(
        warnings.includes('udp receive buffer capped by the kernel'),
        rcvbuf > rmemMax,
        `warned only when capped (rcvbuf ${rcvbuf})`,
      );
    }
  });
  it('drops before the socket are visible: packets counted + socket drops = datagrams sent', async () => {
    // A tiny receive buffer and a blocked event loop: the kernel must drop, and the collector must say so.
    const c = createCollector(
      { statsdUdp: '127.0.0.1:0', statsdTcp: 'off', http: '127.0.0.1:0', rcvbuf: 8192 },
      { logger: silentLogger },
    );
    const a = await c.start();
    try {
      const u = parseHostPort(a.udp);
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((res) => sock.connect(u.port, u.host, () => res()));
      const SENT = 3000;
      const payload = Buffer.from('dropped:1|c|#pod:p1');
      for (let i = 0; i < SENT; i++) sock.send(payload); // synchronous: the collector cannot read meanwhile
      await new Promise<void>((res) => sock.close(() => res()));
      const all = async () => {
        const m = await metrics(a.http);
        return {
          got: sum(m, 'collector_packets_total', { transport: 'udp' }),
          drops: sum(m, 'collector_udp_socket_drops_total'),
          orders: sum(m, 'dropped'),
        };
      };
      assert.ok(
        await waitFor(async () => {
          const x = await all();
          return x.got + x.drops === SENT;
        }),
        `counted + dropped = sent: ${JSON.stringify(await all())}`,
      );
      const x = await all();
      assert.ok(x.drops > 0, 'the kernel dropped some');
      assert.equal(x.orders, x.got, 'every datagram that got through was aggregated');
    } finally {
      await c.stop();
    }
  });
  it('a port already in use is a LAB_ERR_ADDRESS naming the flag, and nothing stays bound', async () => {
    const first = createCollector(
      { statsdUdp: '127.0.0.1:0', statsdTcp: 'off', http: '127.0.0.1:0' },
      { logger: silentLogger },
    );
    const a = await first.start();
    assert.equal(a.tcp, null);
    const second = createCollector(
      { statsdUdp: '127.0.0.1:0', statsdTcp: 'off', http: a.http },
      { logger: silentLogger },
    );
    await assert.rejects(
      second.start(),
      (e: Error & { code?: string }) => e.code === 'LAB_ERR_ADDRESS' && e.message.includes('--http'),
    );
    await first.stop();
  });
});
