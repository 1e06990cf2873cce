import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveFirstFailures } from '../src/analysis/failures.ts';
import { type collector, ledger, node, pull, sample, series, T0 } from './fixtures.ts';

/** The fixture's healthy collector snapshot at `sec`, with overrides (keeps the datagram counts consistent). */
const coll = (sec: number, o: Parameters<typeof collector>[0]) => ({ ...sample(sec).collector!, ...o });

const opts = { burstAtMs: T0, scrapeTimeoutSeconds: 10, scrapeIntervalSeconds: 15 };

describe('firstFailures (pure, from the probe series)', () => {
  it('a healthy run has none', () => {
    assert.deepEqual(deriveFirstFailures(series(-10, 30), opts), []);
  });

  it('first kernel UDP drop, with seconds after the open', () => {
    const s = series(-5, 10, (sec) =>
      sec >= 1 ? { node: node({ inErrors: 5 + sec * 10, rcvbufErrors: 5 + sec * 10 }) } : {},
    );
    const f = deriveFirstFailures(s, opts);
    assert.equal(f.length, 1);
    assert.equal(f[0]!.path, 'push');
    assert.equal(f[0]!.signal, 'kernel-udp-drop');
    assert.equal(f[0]!.secondsAfterBurst, 1);
    assert.match(f[0]!.detail, /\+10 UDP datagrams/);
  });

  it("falls back to the collector's kernel counters without node-exporter", () => {
    const s = series(-3, 5, (sec) => ({
      node: null,
      collector: coll(sec, { kernelInErrors: sec >= 2 ? 50 : 5, kernelRcvbufErrors: sec >= 2 ? 50 : 5 }),
    }));
    const f = deriveFirstFailures(s, opts);
    assert.equal(f[0]?.signal, 'kernel-udp-drop');
    assert.equal(f[0]?.secondsAfterBurst, 2);
    assert.match(f[0]!.detail, /collector_kernel_udp/);
  });

  it('orders several signals by time, pull and push, alerts after same-tick signals', () => {
    const s = series(-5, 20, (sec) => ({
      node: node({ inErrors: sec >= 3 ? 100 : 5 }),
      pull: pull({
        targetsUp: sec >= 7 ? 8 : 10,
        sampleLimitExceeded: sec >= 9 ? 4 : 0,
        scrapeMax: sec >= 5 ? 6 : 0.1,
      }),
      alerts: sec >= 3 ? [{ name: 'UdpReceiveErrors', state: 'firing', count: 1 }] : [],
      collector: coll(sec, { parseErrors: sec >= 12 ? 3 : 0, seriesRejected: sec >= 12 ? 5 : 0 }),
    }));
    const f = deriveFirstFailures(s, opts);
    assert.deepEqual(
      f.map((x) => [x.path, x.signal, x.secondsAfterBurst]),
      [
        ['push', 'kernel-udp-drop', 3],
        ['push', 'alert:UdpReceiveErrors', 3],
        ['pull', 'slow-scrape', 5],
        ['pull', 'failed-scrape', 7],
        ['pull', 'sample-limit', 9],
        ['push', 'collector-drop', 12],
      ],
    );
    assert.match(f.find((x) => x.signal === 'failed-scrape')!.detail, /2 of 10 pod targets/);
    assert.match(
      f.find((x) => x.signal === 'collector-drop')!.detail,
      /\+8 lines dropped by the collector: 3 parse errors, 5 series rejected/,
    );
  });

  it('slow scrape is relative to the scrape timeout Prometheus reports (half of it)', () => {
    const s = series(0, 4, (sec) => ({ pull: pull({ scrapeTimeout: 2, scrapeMax: sec === 3 ? 1.2 : 0.9 }) }));
    const f = deriveFirstFailures(s, opts);
    assert.equal(f.length, 1);
    assert.equal(f[0]!.signal, 'slow-scrape');
    assert.equal(f[0]!.secondsAfterBurst, 3);
  });

  it('uses the configured timeout when scrape_timeout_seconds is absent', () => {
    const s = series(0, 3, (sec) => ({
      pull: pull({ scrapeTimeout: null, scrapeMax: sec === 2 ? 5.5 : 4.5 }),
    }));
    assert.equal(deriveFirstFailures(s, opts)[0]?.secondsAfterBurst, 2);
  });

  it('pending alerts are not failures; each firing alert counts once', () => {
    const s = series(0, 6, (sec) => ({
      alerts:
        sec < 3
          ? [{ name: 'InstanceDown', state: 'pending', count: 2 }]
          : [{ name: 'InstanceDown', state: 'firing', count: 2 }],
    }));
    const f = deriveFirstFailures(s, opts);
    assert.deepEqual(
      f.map((x) => [x.path, x.signal, x.secondsAfterBurst]),
      [['pull', 'alert:InstanceDown', 3]],
    );
  });

  it('a failure before the open has negative seconds', () => {
    const s = series(-8, 2, (sec) => ({
      ledger: undefined as never,
      ...(sec >= -4 ? { pull: pull({ targetsUp: 9 }) } : {}),
    }));
    const f = deriveFirstFailures(s, opts);
    assert.equal(f[0]?.signal, 'failed-scrape');
    assert.equal(f[0]?.secondsAfterBurst, -4);
  });

  it('a counter reset re-baselines instead of counting as an increase', () => {
    const values = [10, 10, 2, 2, 2, 7];
    const s = values.map(
      (v, i) => series(i, i, () => ({ node: node({ inErrors: v, rcvbufErrors: v }) }))[0]!,
    );
    const f = deriveFirstFailures(s, opts);
    assert.equal(f.length, 1);
    assert.equal(f[0]!.secondsAfterBurst, 5);
  });

  it('missing probe values (skipped ticks) neither trigger nor hide a signal', () => {
    const s = series(0, 6, (sec) => ({
      node: sec === 2 || sec === 3 ? null : node({ inErrors: sec >= 4 ? 9 : 5 }),
    }));
    assert.equal(deriveFirstFailures(s, opts)[0]?.secondsAfterBurst, 4);
  });
});

describe('firstFailures: dead components', () => {
  it('a dead collector is a push failure, a dead producer fails both paths', () => {
    const s = series(0, 6, (sec) => ({
      dead: sec >= 4 ? ['collector', 'producer-1'] : sec >= 2 ? ['producer-1'] : [],
    }));
    const f = deriveFirstFailures(s, opts);
    assert.deepEqual(
      f.map((x) => [x.path, x.signal, x.secondsAfterBurst]),
      [
        ['pull', 'died:producer-1', 2],
        ['push', 'died:producer-1', 2],
        ['push', 'died:collector', 4],
      ],
    );
  });
});

describe("firstFailures: this run's own datagrams vs the host's kernel counters", () => {
  // 1000 datagrams/s sent; from +3 s the collector receives only half of what is sent.
  const lossy = (sec: number) => {
    const sent = (sec + 30) * 1000;
    const got = sec >= 3 ? 33_000 + (sec - 3) * 500 : sent;
    return {
      ledger: ledger({ orders: sent / 2, ordersPushed: sent / 2, datagrams: sent }),
      collector: coll(sec, { packetsUdp: got }),
      // the host's counters also move at -6 s (someone else's socket) and from +3 s (ours)
      node: node({ inErrors: sec >= 3 ? 900 + sec * 500 : sec >= -6 ? 900 : 5 }),
      alerts: sec >= -5 ? [{ name: 'UdpReceiveErrors', state: 'firing' as const, count: 1 }] : [],
    };
  };

  it('own datagram loss is found from ledgers vs collector, beyond the in-flight allowance', () => {
    const f = deriveFirstFailures(series(-10, 10, lossy), opts);
    const own = f.find((x) => x.signal === 'datagram-loss')!;
    assert.equal(own.path, 'push');
    assert.equal(
      own.secondsAfterBurst,
      6,
      'deficit 1000 at +5 is within the allowance (1000), 1500 at +6 is not',
    );
  });

  it('a one-tick blip over the allowance (reads taken at different moments) is not a loss', async () => {
    const { firstOwnDatagramLoss } = await import('../src/analysis/failures.ts');
    const blip = series(0, 6, (sec) => ({
      ledger: ledger({ datagrams: 10_000 + sec * 1000 }),
      collector: coll(sec, { packetsUdp: 10_000 + sec * 1000 - (sec === 3 ? 1500 : 0) }),
    }));
    assert.equal(firstOwnDatagramLoss(blip), null);
    // slow reads widen the allowance: 1000/s × (0.25 + 2 s of reads) = 2250
    const slow = series(0, 6, (sec) => ({
      ledger: ledger({ datagrams: 10_000 + sec * 1000 }),
      collector: coll(sec, { packetsUdp: 10_000 + sec * 1000 - 2000 }),
      probeMs: { ledgers: 1200, collector: 800 },
    }));
    assert.equal(firstOwnDatagramLoss(slow), null);
  });

  it('docker (own namespace): every kernel drop is the collector’s', () => {
    const f = deriveFirstFailures(series(-10, 10, lossy), opts);
    assert.equal(f[0]!.signal, 'kernel-udp-drop');
    assert.equal(f[0]!.secondsAfterBurst, -6);
  });

  it('process runtime (shared namespace): host noise before this run lost anything is discounted, with the reason', () => {
    const discounted: { signal: string; reason: string }[] = [];
    const f = deriveFirstFailures(series(-10, 10, lossy), { ...opts, sharedNetns: true, discounted });
    const kernel = f.find((x) => x.signal === 'kernel-udp-drop')!;
    assert.ok(
      kernel.secondsAfterBurst >= 0 && kernel.secondsAfterBurst <= 6,
      `kernel drop attributed at ${kernel.secondsAfterBurst}`,
    );
    assert.deepEqual(discounted.map((d) => d.signal).sort(), ['alert:UdpReceiveErrors', 'kernel-udp-drop']);
    assert.match(discounted[0]!.reason, /another process/);
    assert.equal(
      f.find((x) => x.signal === 'alert:UdpReceiveErrors'),
      undefined,
      'already firing from host noise: it says nothing about this run',
    );
    // An alert that starts firing only once this run loses datagrams does count.
    const quietHost = (sec: number) => ({
      ...lossy(sec),
      node: node({ inErrors: sec >= 3 ? 900 + sec * 500 : 5 }),
      alerts: sec >= 7 ? [{ name: 'UdpReceiveErrors', state: 'firing' as const, count: 1 }] : [],
    });
    const g = deriveFirstFailures(series(-10, 10, quietHost), { ...opts, sharedNetns: true, discounted: [] });
    assert.equal(g.find((x) => x.signal === 'alert:UdpReceiveErrors')?.secondsAfterBurst, 7);
  });

  it('process runtime with no own loss: all kernel signals discounted', () => {
    const discounted: { signal: string; reason: string }[] = [];
    const noisy = (sec: number) => ({ node: node({ inErrors: sec >= 0 ? 99 : 5 }) });
    const f = deriveFirstFailures(series(-5, 5, noisy), { ...opts, sharedNetns: true, discounted });
    assert.deepEqual(f, []);
    assert.equal(discounted[0]?.signal, 'kernel-udp-drop');
    assert.match(discounted[0]!.reason, /none of this run's datagrams was lost/);
  });

  it('samples after quiesce (untilMs) do not count', () => {
    const s = series(0, 10, (sec) => ({
      alerts: sec >= 8 ? [{ name: 'PushHeartbeatAbsent', state: 'firing' as const, count: 140 }] : [],
    }));
    assert.equal(deriveFirstFailures(s, opts).length, 1);
    assert.deepEqual(deriveFirstFailures(s, { ...opts, untilMs: T0 + 8000 }), []);
  });
});

describe("firstFailures: the collector's own socket drops", () => {
  it('are the kernel-drop signal, exact per socket; host noise before them is discounted on a shared namespace', () => {
    const discounted: { signal: string; reason: string }[] = [];
    const s = series(-10, 10, (sec) => ({
      collector: coll(sec, { socketDrops: sec >= 2 ? 40 * sec : 0 }),
      node: node({ inErrors: sec >= -7 ? 5000 + sec * 100 : 5 }),
    }));
    const f = deriveFirstFailures(s, { ...opts, sharedNetns: true, discounted });
    const k = f.find((x) => x.signal === 'kernel-udp-drop')!;
    assert.equal(k.secondsAfterBurst, 2);
    assert.match(k.detail, /\+80 datagrams dropped by the kernel on the collector's socket/);
    assert.equal(discounted[0]?.signal, 'kernel-udp-drop');
    assert.match(discounted[0]!.reason, /before the collector's own socket dropped anything/);
  });

  it('no socket drop: host-wide drops are all discounted even without ledger datagrams', () => {
    const discounted: { signal: string; reason: string }[] = [];
    const s = series(-5, 5, (sec) => ({
      collector: coll(sec, { socketDrops: 0 }),
      ledger: ledger({ datagrams: 0 }),
      node: node({ inErrors: sec >= 0 ? 99 : 5 }),
    }));
    assert.deepEqual(deriveFirstFailures(s, { ...opts, sharedNetns: true, discounted }), []);
    assert.match(discounted[0]!.reason, /the collector's own socket dropped nothing/);
  });
});

describe('firstFailures: components that stop answering', () => {
  it('Prometheus not answering the probe (after it had) is a pull failure; the collector a push one', () => {
    const s = series(0, 8, (sec) => ({
      probeMs: { prometheus: 40, collector: 30 },
      failedProbes: [...(sec >= 3 ? ['prometheus'] : []), ...(sec >= 6 ? ['collector'] : [])],
    }));
    const f = deriveFirstFailures(s, opts);
    assert.deepEqual(
      f.map((x) => [x.path, x.signal, x.secondsAfterBurst]),
      [
        ['pull', 'prometheus-unresponsive', 3],
        ['push', 'collector-unresponsive', 6],
      ],
    );
  });
  it('a probe that never answered (not started yet) is not a failure', () => {
    const s = series(0, 3, () => ({ probeMs: { prometheus: 40 }, failedProbes: ['prometheus'] }));
    assert.deepEqual(deriveFirstFailures(s, opts), []);
  });
});

describe("firstFailures: #27 the agents' own socket drops", () => {
  it("are their own signal, at the second the agents' drops grew, whatever the central socket did", () => {
    const s = series(-5, 10, (sec) => ({
      collector: coll(sec, { socketDrops: 0 }),
      pushAgentDrops: sec < -2 ? null : sec >= 3 ? 70 * sec : 0,
    }));
    const f = deriveFirstFailures(s, opts);
    assert.deepEqual(
      f.map((x) => [x.path, x.signal, x.secondsAfterBurst]),
      [['push', 'agent-udp-drop', 3]],
    );
    assert.match(f[0]!.detail, /\+210 datagrams dropped by the kernel on the agents' sockets/);
  });
  it('nothing without the agent tier (no readings) or without growth', () => {
    assert.deepEqual(
      deriveFirstFailures(
        series(-5, 10, () => ({ pushAgentDrops: null })),
        opts,
      ),
      [],
    );
    assert.deepEqual(
      deriveFirstFailures(
        series(-5, 10, () => ({ pushAgentDrops: 12 })),
        opts,
      ),
      [],
    );
  });
});
