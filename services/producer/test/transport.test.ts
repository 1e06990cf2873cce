import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { describe, it } from 'node:test';
import { createProducer } from '../src/index.ts';
import { bindAddressFor, SharedUdp } from '../src/push/transport.ts';
import { waitFor } from './helpers.ts';

// Issue 11 item 7: the StatsD send socket binds the address family and interface of its target instead of
// 0.0.0.0:<random>. Observed from both ends: the socket's own address and the source address the receiving
// socket sees. Real sockets on loopback.

interface Arrival {
  text: string;
  from: string;
}

async function sink(type: 'udp4' | 'udp6', address: string) {
  const sock = dgram.createSocket(type);
  const got: Arrival[] = [];
  sock.on('message', (m, rinfo) => got.push({ text: m.toString('utf8'), from: rinfo.address }));
  await new Promise<void>((resolve) => sock.bind(0, address, () => resolve()));
  return {
    port: sock.address().port,
    got,
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}

describe('bindAddressFor', () => {
  const table: [string, string][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['127.0.0.53', '127.0.0.1'],
    ['10.1.2.3', '0.0.0.0'],
    ['172.18.0.4', '0.0.0.0'],
    ['::1', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fd00::4', '::'],
    ['::ffff:127.0.0.1', '::'],
    ['collector', '0.0.0.0'],
  ];
  for (const [target, bind] of table)
    it(`${target} -> ${bind}`, () => assert.equal(bindAddressFor(target), bind));
});

describe('the shared UDP send socket', () => {
  for (const [type, host, family] of [
    ['udp4', '127.0.0.1', 'IPv4'],
    ['udp6', '::1', 'IPv6'],
  ] as const) {
    it(`to ${host}: bound to ${host}, and the receiver sees datagrams from ${host}`, async () => {
      const s = await sink(type, host);
      const udp = new SharedUdp(host, s.port);
      try {
        await udp.open();
        const local = udp.localAddress();
        assert.equal(local?.address, host);
        assert.equal(local?.family, family);
        assert.ok((local?.port ?? 0) > 0);
        const sent = await new Promise<Error | null | undefined>((resolve) => udp.send('a:1|c', resolve));
        assert.equal(sent ?? null, null);
        assert.ok(await waitFor(() => s.got.length === 1));
        assert.deepEqual(s.got[0], { text: 'a:1|c', from: host });
      } finally {
        await udp.close();
        await s.close();
      }
    });
  }

  it('to a hostname that resolves to loopback (localhost): bound to 127.0.0.1', async () => {
    const s = await sink('udp4', '127.0.0.1');
    const udp = new SharedUdp('localhost', s.port);
    try {
      await udp.open();
      assert.equal(udp.localAddress()?.address, '127.0.0.1');
      await new Promise((resolve) => udp.send('b:1|c', resolve));
      assert.ok(await waitFor(() => s.got.length === 1));
      assert.equal(s.got[0]!.from, '127.0.0.1');
    } finally {
      await udp.close();
      await s.close();
    }
  });

  it("to a non-loopback target: the family's any-address (nothing is sent here)", async () => {
    for (const [host, bound] of [
      ['192.0.2.1', '0.0.0.0'],
      ['2001:db8::1', '::'],
    ] as const) {
      const udp = new SharedUdp(host, 8125);
      try {
        await udp.open();
        assert.equal(udp.localAddress()?.address, bound, host);
      } finally {
        await udp.close();
      }
    }
  });

  it('a producer pushing to udp://[::1]:PORT delivers over IPv6 loopback, counted in its ledger', async () => {
    const s = await sink('udp6', '::1');
    const p = createProducer(
      {
        pods: 2,
        name: 'v6',
        http: '127.0.0.1:0',
        statsd: `udp://[::1]:${s.port}`,
        pushMode: 'per-event',
        heartbeat: 100,
        processMetrics: false,
      },
      { autoTick: false },
    );
    try {
      await p.start();
      p.tick();
      const ledger = await p.core.quiesce();
      assert.ok(ledger.total.datagrams > 0, 'heartbeats or orders were sent');
      assert.equal(ledger.total.sendErrors, 0);
      assert.ok(await waitFor(() => s.got.length === ledger.total.datagrams));
      assert.ok(s.got.every((a) => a.from === '::1'));
    } finally {
      await p.stop();
      await s.close();
    }
  });
});
