// The process runtime's partition: a relay set per producer (a TCP relay per TCP path, a UDP relay for
// StatsD datagrams) that a cut makes refuse/reset (TCP) or silently drop and count (UDP), and a heal
// restores on the same addresses. Real sockets on 127.0.0.1, port 0.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TcpRelay } from '../src/runtime/process/relay-tcp.ts';
import { UdpRelay } from '../src/runtime/process/relay-udp.ts';
import { ProducerRelays } from '../src/runtime/process/relays.ts';

const split = (addr: string) => {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
};

/** One request on its own connection (no keep-alive: each connection is one the relay counts). */
function post(addr: string): Promise<{ status: number; body: string }> {
  const { host, port } = split(addr);
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method: 'POST', path: '/v1/metrics', agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end('x');
  });
}

const waitFor = async (cond: () => boolean, ms = 2000) => {
  for (let i = 0; i < ms / 10 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  return cond();
};

/** A UDP receiver (the collector's place) that records what arrives. */
async function udpSink(): Promise<{ addr: string; got: string[]; close: () => Promise<void> }> {
  const got: string[] = [];
  const s = dgram.createSocket('udp4');
  s.on('message', (m) => got.push(m.toString()));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return {
    addr: `127.0.0.1:${s.address().port}`,
    got,
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
}

/** Sends datagrams the way the producer does: each send must succeed (no error reaches the sender). */
async function sendAll(to: string, lines: readonly string[]): Promise<void> {
  const { host, port } = split(to);
  const s = dgram.createSocket('udp4');
  for (const l of lines)
    await new Promise<void>((resolve, reject) => s.send(l, port, host, (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((r) => s.close(() => r()));
}

describe('TcpRelay (scrapes, StatsD over TCP, OTLP)', () => {
  let receiver: http.Server;
  let target = '';
  let hang: http.ServerResponse | null = null;
  before(async () => {
    receiver = http.createServer((req, res) => {
      req.resume();
      if (req.headers['x-hang'])
        hang = res; // a request in flight at the cut
      else res.end('ok');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    target = `127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  after(async () => {
    hang?.end();
    receiver.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  it('pipes to the target, resets what was open at the cut, refuses while cut, heals on the same port', async (t) => {
    const relay = new TcpRelay(target);
    t.after(() => relay.close());
    const addr = await relay.listen();
    assert.match(addr, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(await post(addr), { status: 200, body: 'ok' });

    // A request in flight when the cut comes is reset (ECONNRESET, retryable for its client).
    const { host, port } = split(addr);
    const inFlight = new Promise<string>((resolve) => {
      const req = http.request({ host, port, method: 'POST', agent: false, headers: { 'x-hang': '1' } });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.on('response', () => resolve('answered'));
      req.end('x');
    });
    assert.ok(await waitFor(() => hang !== null), 'the target got the request');
    await relay.cut();
    assert.equal(await inFlight, 'ECONNRESET');
    assert.ok(relay.isCut);
    await assert.rejects(post(addr), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');

    await relay.heal();
    assert.equal(relay.address(), addr, 'same port after the heal');
    assert.deepEqual(await post(addr), { status: 200, body: 'ok' });
    assert.deepEqual(
      { cuts: relay.stats.cuts, reset: relay.stats.resetByCut, connections: relay.stats.connections },
      { cuts: 1, reset: 1, connections: 3 },
    );
    await relay.close();
    await assert.rejects(post(addr), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
  });

  it('a target set after listening (a producer bound after its relay): resets connections until then', async (t) => {
    const relay = new TcpRelay(null, 'scrape relay');
    t.after(() => relay.close());
    const addr = await relay.listen();
    await assert.rejects(post(addr), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET');
    assert.equal(relay.stats.beforeTarget, 1);
    relay.setTarget(target);
    assert.deepEqual(await post(addr), { status: 200, body: 'ok' });
  });

  it('a raw TCP stream (StatsD over TCP) open at the cut is reset, and reconnects after the heal', async (t) => {
    const lines: string[] = [];
    const conns: net.Socket[] = [];
    const sink = net.createServer((c) => {
      conns.push(c);
      c.on('data', (d) => lines.push(...d.toString().split('\n').filter(Boolean)));
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    t.after(() => {
      for (const c of conns) c.destroy();
      sink.close();
    });
    const relay = new TcpRelay(`127.0.0.1:${(sink.address() as AddressInfo).port}`);
    t.after(() => relay.close());
    const { host, port } = split(await relay.listen());
    const stream = net.connect(port, host);
    const closed = new Promise<string>((resolve) => {
      stream.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      stream.on('close', () => resolve('closed'));
    });
    stream.write('orders:1|c\n');
    assert.ok(await waitFor(() => lines.length === 1), 'the line arrived through the relay');
    await relay.cut();
    assert.equal(await closed, 'ECONNRESET');
    await relay.heal();
    const again = net.connect(port, host);
    t.after(() => again.destroy());
    again.write('orders:2|c\n');
    assert.ok(await waitFor(() => lines.length === 2));
    assert.deepEqual(lines, ['orders:1|c', 'orders:2|c']);
  });
});

describe('UdpRelay (StatsD datagrams)', () => {
  it('forwards; during the cut drops silently and counts; heals', async (t) => {
    const sink = await udpSink();
    t.after(() => sink.close());
    const relay = new UdpRelay(sink.addr);
    t.after(() => relay.close());
    const addr = await relay.listen();
    await sendAll(addr, ['a:1|c', 'b:1|c']);
    assert.ok(await waitFor(() => sink.got.length === 2), `forwarded: ${sink.got}`);

    relay.cut();
    assert.ok(relay.isCut);
    // Every send into the cut succeeds at the sender (sendAll rejects otherwise) and nothing arrives.
    await sendAll(addr, ['c:1|c', 'd:1|c', 'e:1|c']);
    assert.ok(await waitFor(() => relay.stats.received === 5));
    assert.deepEqual(sink.got, ['a:1|c', 'b:1|c']);

    relay.heal();
    await sendAll(addr, ['f:1|c']);
    assert.ok(await waitFor(() => sink.got.length === 3));
    assert.deepEqual(sink.got, ['a:1|c', 'b:1|c', 'f:1|c']);
    assert.deepEqual(relay.stats, { received: 6, forwarded: 3, droppedInCut: 3, forwardErrors: 0, cuts: 1 });
  });
});

describe('ProducerRelays (one producer: scrape + push)', () => {
  it('udp: one cut takes both paths, counts say what was lost, one heal restores both', async (t) => {
    const sink = await udpSink();
    t.after(() => sink.close());
    const pod = http.createServer((_req, res) => res.end('orders_total 1\n'));
    await new Promise<void>((r) => pod.listen(0, '127.0.0.1', r));
    t.after(() => {
      pod.closeAllConnections();
      pod.close();
    });
    const r = await ProducerRelays.open('udp', sink.addr);
    t.after(() => r.close());
    r.scrapeTarget(`127.0.0.1:${(pod.address() as AddressInfo).port}`);
    const scrape = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const { host, port } = split(r.scrapeAddress);
        http
          .get({ host, port, path: '/pods/p0/metrics', agent: false }, (res) => {
            let b = '';
            res.on('data', (c) => {
              b += c;
            });
            res.on('end', () => resolve(b));
          })
          .on('error', reject);
      });
    assert.equal(await scrape(), 'orders_total 1\n');
    await sendAll(r.pushAddress, ['x:1|c']);
    assert.ok(await waitFor(() => sink.got.length === 1));

    await r.cut();
    await assert.rejects(scrape(), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
    await sendAll(r.pushAddress, ['y:1|c', 'z:1|c']);
    const udp = () => {
      const p = r.counts().push;
      return 'udp' in p ? p.udp : null;
    };
    assert.ok(
      await waitFor(() => udp()?.received === 3),
      'the relay received the datagrams sent into the cut',
    );

    await r.heal();
    assert.equal(await scrape(), 'orders_total 1\n');
    assert.deepEqual(r.counts(), {
      scrape: { connections: 2, resetByCut: 0 },
      push: { udp: { received: 3, forwarded: 1, droppedInCut: 2, forwardErrors: 0 } },
    });
    assert.equal(sink.got.length, 1, 'nothing sent into the cut arrived');
  });

  it('tcp and otlp push through a TCP relay', async () => {
    for (const t of ['tcp', 'otlp'] as const) {
      const r = await ProducerRelays.open(t, '127.0.0.1:9');
      assert.deepEqual(r.counts().push, { tcp: { connections: 0, resetByCut: 0 } }, t);
      await r.close();
    }
  });
});
