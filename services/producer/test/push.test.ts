import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { ManualClock } from '@pushpull/common';
import { createProducer, type Ledger, type Producer, type ProducerConfig } from '../src/index.ts';
import { linesOf, steadyTestProfile, sumStat, tcpSink, udpSink, waitFor } from './helpers.ts';

// Real sockets on 127.0.0.1: the producer's pods push through hot-shots into a UDP (or TCP) socket the test
// reads. Rates are low and the test yields after every tick, so nothing is lost and every count must match.

const T0 = 1_700_000_000_000; // a multiple of 1000: jitter-off boundaries fall on whole seconds

const steadyProfile = (rate: number) => steadyTestProfile(rate, 37);

interface Run {
  p: Producer;
  clock: ManualClock;
  datagrams: string[];
  /** datagrams received per tick (index = tick number) */
  perTick: string[][];
  ledger: Ledger;
}

async function start(config: Partial<ProducerConfig>): Promise<{ p: Producer; clock: ManualClock }> {
  const clock = new ManualClock(T0);
  const p = createProducer(
    {
      pods: 4,
      fleetPods: 4,
      http: '127.0.0.1:0',
      processMetrics: false,
      flushInterval: 1000,
      heartbeat: 1000,
      profile: steadyProfile(80),
      ...config,
    },
    { clock, autoTick: false },
  );
  await p.start();
  return { p, clock };
}

/** Ticks `ticks` x `stepMs`; after each tick waits until the sink has everything the ledger says was sent. */
async function drive(
  p: Producer,
  clock: ManualClock,
  received: () => number,
  ticks: number,
  stepMs = 100,
  onTick?: (i: number) => void,
): Promise<void> {
  for (let i = 0; i < ticks; i++) {
    clock.advance(stepMs);
    p.tick();
    const ok = await waitFor(() => received() >= p.ledger().total.datagrams, 2000);
    assert.ok(ok, `tick ${i}: received ${received()} of ${p.ledger().total.datagrams} datagrams`);
    onTick?.(i);
  }
}

async function udpRun(config: Partial<ProducerConfig>, ticks = 50): Promise<Run> {
  const sink = await udpSink();
  try {
    const { p, clock } = await start({ statsd: `udp://127.0.0.1:${sink.port}`, ...config });
    const perTick: string[][] = [];
    let seen = 0;
    await drive(
      p,
      clock,
      () => sink.datagrams.length,
      ticks,
      100,
      () => {
        perTick.push(sink.datagrams.slice(seen));
        seen = sink.datagrams.length;
      },
    );
    const ledger = await p.core.quiesce();
    assert.ok(await waitFor(() => sink.datagrams.length >= ledger.total.datagrams, 2000));
    await p.stop();
    return { p, clock, datagrams: [...sink.datagrams], perTick, ledger };
  } finally {
    await sink.close();
  }
}

function podOf(line: string): string {
  const m = /[#,]pod:([^,|]+)/.exec(line);
  return m ? m[1]! : '?';
}

describe('push modes over a real UDP socket', () => {
  const results = new Map<string, Run>();

  for (const mode of ['per-event', 'buffered', 'aggregated'] as const) {
    it(`${mode}: the collector side receives exactly what the ledger says was sent`, async () => {
      const r = await udpRun({ pushMode: mode });
      results.set(mode, r);
      const t = r.ledger.total;
      const lines = linesOf(r.datagrams);
      assert.ok(t.orders >= 390 && t.orders <= 410, `orders ${t.orders} (20/s x 4 pods x 5 s)`);
      assert.equal(r.datagrams.length, t.datagrams, 'datagrams');
      assert.equal(
        r.datagrams.reduce((a, d) => a + Buffer.byteLength(d), 0),
        t.bytes,
        'bytes',
      );
      assert.equal(lines.length, t.pushEvents, 'lines = push events');
      assert.equal(t.ordersPushed, t.orders, 'quiesce flushed everything');
      assert.equal(sumStat(lines, 'orders'), t.ordersPushed, 'orders');
      assert.equal(sumStat(lines, 'order.rejects'), t.rejects, 'rejects');
      assert.equal(sumStat(lines, 'order.latency_ms'), t.orders, 'one latency observation per order');
      assert.equal(sumStat(lines, 'heartbeat'), t.heartbeats, 'heartbeats');
      assert.ok(t.heartbeats >= 16, `4 pods x 1/s x 5 s, got ${t.heartbeats}`);
      assert.equal(t.sendErrors, 0);
      for (const id of r.p.core.podIds) {
        const mine = lines.filter((l) => podOf(l) === id);
        assert.equal(sumStat(mine, 'orders'), r.ledger.pods[id]!.ordersPushed, `per-pod ledger ${id}`);
      }
      for (const d of r.datagrams) assert.ok(Buffer.byteLength(d) <= 1432, `datagram of ${d.length} B`);
      if (mode === 'per-event') {
        assert.equal(r.datagrams.length, lines.length, 'one metric per datagram');
      } else {
        assert.ok(
          r.datagrams.length * 5 < lines.length,
          `${r.datagrams.length} datagrams for ${lines.length} lines`,
        );
      }
    });
  }

  it('per-event sends far more datagrams than buffered; aggregated sends the fewest lines', () => {
    const n = (m: string) => results.get(m)!.ledger.total.datagrams;
    assert.ok(n('per-event') > 5 * n('buffered'), `${n('per-event')} vs ${n('buffered')}`);
    // At 20 orders/s per pod and a 1 s interval both fit in ~2 datagrams per pod per flush.
    assert.ok(n('buffered') >= n('aggregated'), `${n('buffered')} vs ${n('aggregated')}`);
    const lines = (m: string) => results.get(m)!.ledger.total.pushEvents;
    assert.ok(
      lines('aggregated') < lines('buffered'),
      `aggregated ${lines('aggregated')} vs ${lines('buffered')} lines`,
    );
  });

  it('aggregated timings carry the observation count in the sample rate', () => {
    const lines = linesOf(results.get('aggregated')!.datagrams);
    assert.ok(
      lines.some((l) => /^order\.latency_ms:[\d.]+\|ms\|@0\.\d+\|#/.test(l)),
      'sampled timing lines',
    );
  });
});

describe('flush boundaries', () => {
  /** Ticks (100 ms) at which each pod's datagrams arrived; buffers never fill at this rate. */
  async function flushTicks(jitter: boolean): Promise<Map<string, Set<number>>> {
    const r = await udpRun({ pushMode: 'buffered', jitter, heartbeat: 'off', profile: steadyProfile(8) }, 50);
    const byPod = new Map<string, Set<number>>();
    r.perTick.forEach((ds, i) => {
      for (const d of ds) {
        const pod = podOf(d.split('\n')[0]!);
        if (!byPod.has(pod)) byPod.set(pod, new Set());
        byPod.get(pod)!.add(i);
      }
    });
    assert.equal(byPod.size, 4, 'every pod flushed');
    return byPod;
  }

  it('jitter off: every pod flushes on the same wall-clock boundary', async () => {
    const byPod = await flushTicks(false);
    const all = [...byPod.values()];
    // tick i ends at T0 + (i+1) * 100 ms; whole seconds are ticks 9, 19, 29, ...
    for (const ticks of all) {
      assert.deepEqual(
        [...ticks].sort((a, b) => a - b),
        [9, 19, 29, 39, 49],
      );
    }
  });

  it('jitter on: pods flush at their own offsets inside the interval', async () => {
    const byPod = await flushTicks(true);
    const offsets = new Set([...byPod.values()].map((ticks) => Math.min(...ticks) % 10));
    assert.ok(offsets.size >= 2, `flush offsets ${[...offsets]}`);
    for (const ticks of byPod.values()) {
      const sorted = [...ticks].sort((a, b) => a - b);
      for (let i = 1; i < sorted.length; i++)
        assert.equal(sorted[i]! - sorted[i - 1]!, 10, 'once per second');
    }
  });
});

describe('runtime switching and TCP', () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup) await c();
  });

  it('switches per-event -> aggregated -> buffered -> tcp without losing or double counting an order', async () => {
    const tcp = await tcpSink();
    cleanup.push(() => tcp.close());
    // UDP sink on the same port number as the TCP one, so one --statsd address serves both transports.
    const dgram = await import('node:dgram');
    const usock = dgram.createSocket('udp4');
    const udp: string[] = [];
    usock.on('message', (m) => udp.push(m.toString()));
    await new Promise<void>((resolve, reject) => {
      usock.once('error', reject);
      usock.bind(tcp.port, '127.0.0.1', () => resolve());
    });
    cleanup.push(() => new Promise<void>((resolve) => usock.close(() => resolve())));

    const { p, clock } = await start({ statsd: `udp://127.0.0.1:${tcp.port}`, pushMode: 'per-event' });
    const tcpLines = () =>
      tcp
        .text()
        .split('\n')
        .filter((l) => l.length > 0);
    await drive(p, clock, () => udp.length, 20);
    await p.core.setPush({ mode: 'aggregated' });
    await drive(p, clock, () => udp.length, 20);
    await p.core.setPush({ mode: 'buffered', jitter: false });
    await drive(p, clock, () => udp.length, 20);
    const udpDatagrams = p.ledger().total.datagrams;
    await p.core.setPush({ transport: 'tcp', mode: 'per-event' });
    assert.ok(await waitFor(() => udp.length >= udpDatagrams));
    for (let i = 0; i < 20; i++) {
      clock.advance(100);
      p.tick();
      await waitFor(() => tcp.text().endsWith('\n'), 500);
    }
    const ledger = await p.core.quiesce();
    const t = ledger.total;
    assert.ok(await waitFor(() => linesOf(udp).length + tcpLines().length >= t.pushEvents, 3000));
    const lines = [...linesOf(udp), ...tcpLines()];
    assert.equal(lines.length, t.pushEvents);
    assert.equal(sumStat(lines, 'orders'), t.orders);
    assert.equal(t.ordersPushed, t.orders);
    assert.equal(tcp.connections, 1, 'one shared TCP connection for all pods');
    assert.ok(tcpLines().length > 0);
    assert.equal(p.state().push.transport, 'tcp');
    await p.stop();
  });

  it('counts send errors through the hot-shots errorHandler when the collector is down (tcp)', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const { p, clock } = await start({ statsd: `tcp://127.0.0.1:${closedPort}`, pushMode: 'per-event' });
    for (let i = 0; i < 10; i++) {
      clock.advance(100);
      p.tick();
    }
    const t = p.ledger().total;
    assert.ok(t.orders > 0);
    assert.ok(t.sendErrors >= t.ordersPushed, `${t.sendErrors} errors for ${t.ordersPushed} orders`);
    assert.equal(t.datagrams, 0, 'nothing reached a socket');
    await p.stop();
  });
});
