import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isLabError, ManualClock, Rng } from '@pushpull/common';
import {
  BUILTIN_PROFILES,
  CostHistogram,
  createProducer,
  fleetOrdersBetween,
  fleetRateAt,
  loadProfile,
  PodAggregator,
  PodGenerator,
  type Producer,
  type ProducerConfig,
  phaseAt,
  rateRoundTrips,
  splitCount,
  validateProfile,
  WorkloadModel,
} from '../src/index.ts';

const T0 = 1_700_000_000_000;
const MO = BUILTIN_PROFILES['market-open']!;

function manual(config: Partial<ProducerConfig>, start = T0): { p: Producer; clock: ManualClock } {
  const clock = new ManualClock(start);
  const p = createProducer(
    { http: '127.0.0.1:0', pushMode: 'off', processMetrics: false, ...config },
    { clock, autoTick: false },
  );
  return { p, clock };
}

/** Advances the clock to `until` in steps of `stepMs`, ticking after each step (bounded by the span). */
function runUntil(p: Producer, clock: ManualClock, until: number, stepMs: number): void {
  const steps = Math.ceil((until - clock.now()) / stepMs);
  for (let i = 0; i < steps; i++) {
    clock.set(Math.min(until, clock.now() + stepMs));
    p.tick();
  }
}

describe('profiles', () => {
  it('the built-ins validate and describe the market open', () => {
    assert.equal(MO.steadyOrdersPerSecond, 4000);
    assert.equal(MO.peakOrdersPerSecond, 380000);
    assert.equal(MO.rampMs, 800);
    assert.ok(MO.holdMs > 0 && MO.decayMs > 0);
    assert.equal(BUILTIN_PROFILES.steady!.peakOrdersPerSecond, 4000);
  });

  const bad: [string, (p: Record<string, unknown>) => void, string][] = [
    ['negative ramp', (p) => (p.rampMs = -5), 'profile.rampMs'],
    ['string rate', (p) => (p.peakOrdersPerSecond = 'lots'), 'profile.peakOrdersPerSecond'],
    ['missing steady rate', (p) => delete p.steadyOrdersPerSecond, 'profile.steadyOrdersPerSecond'],
    ['fractional hold', (p) => (p.holdMs = 1.5), 'profile.holdMs'],
    [
      'zero steady instruments',
      (p) => (p.instruments = { steady: 0, open: 10 }),
      'profile.instruments.steady',
    ],
    [
      'unknown instruments key',
      (p) => (p.instruments = { steady: 1, open: 1, x: 1 }),
      'profile.instruments.x',
    ],
    ['sigma too large', (p) => (p.latency = { ...MO.latency, sigma: 9 }), 'profile.latency.sigma'],
    ['reject ratio above 1', (p) => (p.rejectRatio = 2), 'profile.rejectRatio'],
    ['unknown top-level key', (p) => (p.burst = true), 'profile.burst'],
    ['bad name', (p) => (p.name = 'has spaces'), 'profile.name'],
  ];
  for (const [what, mutate, field] of bad) {
    it(`rejects ${what}, naming ${field}`, () => {
      const p: Record<string, unknown> = JSON.parse(JSON.stringify(MO));
      mutate(p);
      assert.throws(
        () => validateProfile(p),
        (e) =>
          isLabError(e, 'LAB_ERR_PROFILE') && e.message.startsWith(`${field}:`) && e.details?.field === field,
      );
    });
  }

  it('loads a JSON file and names file and field on errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-profile-'));
    try {
      const good = join(dir, 'good.json');
      writeFileSync(good, JSON.stringify({ ...MO, name: 'custom', peakOrdersPerSecond: 100000 }));
      assert.equal(loadProfile(good).peakOrdersPerSecond, 100000);
      const badFile = join(dir, 'bad.json');
      writeFileSync(badFile, JSON.stringify({ ...MO, decayMs: 'soon' }));
      assert.throws(
        () => loadProfile(badFile),
        (e) => isLabError(e, 'LAB_ERR_PROFILE') && e.message.includes(`${badFile}.decayMs`),
      );
      assert.throws(
        () => loadProfile('no-such-profile'),
        (e) => isLabError(e, 'LAB_ERR_PROFILE') && e.message.includes('no-such-profile'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fleet rate', () => {
  const S = T0 + 60_000;
  const table: [number, number, string][] = [
    [S - 1, 4000, 'scheduled'],
    [S, 4000, 'ramp'],
    [S + 400, 192000, 'ramp'],
    [S + 800, 380000, 'peak'],
    [S + 800 + MO.holdMs - 1, 380000, 'peak'],
    [S + 800 + MO.holdMs + MO.decayMs / 2, (380000 + 40000) / 2, 'decay'],
    [S + 800 + MO.holdMs + MO.decayMs, 40000, 'done'],
  ];
  for (const [t, rate, phase] of table) {
    it(`at S${t - S >= 0 ? '+' : ''}${t - S} ms: ${rate}/s, ${phase}`, () => {
      assert.equal(fleetRateAt(MO, S, t), rate);
      assert.equal(phaseAt(MO, S, t), phase);
    });
  }
  it('without a schedule it stays steady', () => {
    assert.equal(fleetRateAt(MO, null, S + 400), 4000);
    assert.equal(phaseAt(MO, null, S + 400), 'steady');
  });

  it('integrates exactly: the ramp holds (4000+380000)/2 x 0.8 s orders, and integrals add up', () => {
    assert.equal(fleetOrdersBetween(MO, S, S, S + 800), ((4000 + 380000) / 2) * 0.8);
    const a = S - 5000;
    const b = S + 800 + MO.holdMs + MO.decayMs + 5000;
    const whole = fleetOrdersBetween(MO, S, a, b);
    let pieces = 0;
    for (let t = a; t < b; t += 777) pieces += fleetOrdersBetween(MO, S, t, Math.min(b, t + 777));
    assert.ok(Math.abs(whole - pieces) < 1e-6 * whole, `${whole} vs ${pieces}`);
    // Riemann check against the rate function itself.
    let riemann = 0;
    for (let t = a; t < b; t += 1) riemann += fleetRateAt(MO, S, t + 0.5) / 1000;
    assert.ok(Math.abs(whole - riemann) / whole < 1e-4, `${whole} vs ${riemann}`);
  });
});

describe('order generation', () => {
  it('carries fractional orders: each pod emits floor(E(t) + phase) whatever the tick size', () => {
    const model = new WorkloadModel(MO, 1400, T0);
    const gens = [1, 2, 3].map((i) => new PodGenerator(new Rng(7).fork(`p${i}`)));
    const order = { region: 0, side: 0, instrument: 0, latencyMs: 0, rejected: false, rejectReason: 0 };
    let t = T0;
    const steps = [7, 10, 33, 100, 1, 250];
    for (let i = 0; i < 3000; i++) {
      t += steps[i % steps.length]!;
      const cum = model.podCumulative(t);
      for (const g of gens) {
        const n = g.due(cum);
        for (let k = 0; k < n; k++) g.next(MO, 37, order);
        assert.equal(g.generated, Math.floor(cum + g.phaseOffset + 1e-9));
      }
    }
    // 4000/1400 orders/s per pod over the elapsed time, to within one order.
    const expected = ((t - T0) / 1000) * (4000 / 1400);
    for (const g of gens) assert.ok(Math.abs(g.generated - expected) <= 1, `${g.generated} vs ${expected}`);
  });

  it('counts are exact and independent of the tick size, through the ramp', () => {
    const S = T0 + 2000;
    const end = S + 3000;
    const runs = [10, 37, 250].map((step) => {
      const { p, clock } = manual({ pods: 4, seed: 9, fleetPods: 1400 });
      p.core.schedule(S);
      runUntil(p, clock, end, step);
      return p.ledger();
    });
    for (const id of Object.keys(runs[0]!.pods)) {
      assert.equal(runs[1]!.pods[id]!.orders, runs[0]!.pods[id]!.orders, id);
      assert.equal(runs[2]!.pods[id]!.orders, runs[0]!.pods[id]!.orders, id);
    }
    // And the total is the integral of the profile / fleetPods, per pod, to within one order per pod.
    const perPod = fleetOrdersBetween(MO, S, T0, end) / 1400;
    for (const c of Object.values(runs[0]!.pods)) assert.ok(Math.abs(c.orders - perPod) <= 1);
  });

  it('ramps at the scheduled instant, not before', () => {
    const { p, clock } = manual({ pods: 2, fleetPods: 2 });
    const S = T0 + 1000;
    p.core.schedule(S);
    runUntil(p, clock, S, 10);
    assert.equal(p.state().phase, 'ramp');
    const atS = p.ledger().total.orders;
    // Before S: steady 4000/s across 2 pods for 1 s = 4000 orders (± 1 per pod).
    assert.ok(Math.abs(atS - 4000) <= 2, `${atS}`);
    clock.set(S - 1);
    assert.equal(p.state().phase, 'scheduled');
    clock.set(S);
    runUntil(p, clock, S + 400, 10);
    assert.equal(p.state().fleetOrdersPerSecond, 192000);
    assert.equal(p.state().podOrdersPerSecond, 96000);
    runUntil(p, clock, S + 800, 10);
    assert.equal(p.state().phase, 'peak');
    const ramp = p.ledger().total.orders - atS;
    assert.ok(Math.abs(ramp - ((4000 + 380000) / 2) * 0.8) <= 2, `${ramp}`);
  });

  it('is repeatable for a seed and differs across seeds', async () => {
    const bodies = async (seed: number) => {
      const { p, clock } = manual({ pods: 3, seed });
      p.core.schedule(T0 + 500);
      runUntil(p, clock, T0 + 2500, 20);
      return Promise.all(p.core.podIds.map((id) => p.core.pod(id)!.render()));
    };
    const a = await bodies(42);
    const b = await bodies(42);
    const c = await bodies(43);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.notEqual(a[0], a[1], 'pods have their own streams');
  });

  it('draws latency log-normal around 50 ms with a fat tail, and ~1% rejects', () => {
    const g = new PodGenerator(new Rng(1));
    const order = { region: 0, side: 0, instrument: 0, latencyMs: 0, rejected: false, rejectReason: 0 };
    const lat: number[] = [];
    let rejects = 0;
    for (let i = 0; i < 20000; i++) {
      g.next(MO, 37, order);
      lat.push(order.latencyMs);
      if (order.rejected) rejects++;
    }
    lat.sort((x, y) => x - y);
    const q = (f: number) => lat[Math.floor(f * lat.length)]!;
    assert.ok(q(0.5) > 42 && q(0.5) < 58, `median ${q(0.5)}`);
    assert.ok(q(0.999) > 6 * q(0.5), `p99.9 ${q(0.999)} should be far out (fat tail)`);
    assert.ok(rejects > 120 && rejects < 280, `${rejects} rejects`);
  });
});

describe('/metrics body size', () => {
  it('grows from ~18 KB before the open to ~240 KB at the peak (market-open, one pod)', async () => {
    const { p, clock } = manual({ pods: 1 });
    const S = T0 + 60_000;
    p.core.schedule(S);
    runUntil(p, clock, S - 1, 100);
    const pod = p.core.pod(p.core.podIds[0]!)!;
    const before = Buffer.byteLength(await pod.render());
    runUntil(p, clock, S + MO.rampMs + MO.holdMs, 100);
    const peak = Buffer.byteLength(await pod.render());
    assert.ok(before >= 15_000 && before <= 21_000, `steady body ${before} B, want ~18 KB`);
    assert.ok(peak >= 215_000 && peak <= 265_000, `peak body ${peak} B, want ~240 KB`);
  });
});

describe('cost histogram', () => {
  it('reports p50/p99/mean within its 4.4% resolution', () => {
    const h = new CostHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i * 10);
    const s = h.summary();
    assert.equal(s.count, 1000);
    assert.ok(Math.abs(s.p50 - 5000) / 5000 < 0.05, `p50 ${s.p50}`);
    assert.ok(Math.abs(s.p99 - 9900) / 9900 < 0.05, `p99 ${s.p99}`);
    assert.equal(s.mean, 5005);
  });
});

describe('aggregation', () => {
  it('splits counts so every sample rate reads back exactly', () => {
    for (let n = 1; n <= 5000; n++) {
      const parts = splitCount(n);
      assert.equal(
        parts.reduce((a, b) => a + b, 0),
        n,
      );
      for (const c of parts) assert.ok(rateRoundTrips(c), `${c}`);
      assert.ok(parts.length <= 3, `${n} -> ${parts}`);
    }
    assert.deepEqual(splitCount(100), [100]);
    assert.ok(!rateRoundTrips(49));
    assert.equal(splitCount(49).length, 2);
  });

  it('sums counters, summarises timings by bucket with count in the sample rate, keeps the last gauge', () => {
    const a = new PodAggregator();
    const t1 = ['region:in-west', 'side:buy', 'instrument:EQ0001'];
    const r1 = ['region:in-west'];
    for (let i = 0; i < 100; i++) {
      a.order(t1);
      a.timing(r1, 50);
    }
    a.timing(r1, 500);
    a.gauge(3);
    a.gauge(7);
    a.heartbeat();
    const d = a.drain();
    assert.equal(d.orders, 100);
    assert.equal(d.heartbeats, 1);
    const lines = d.lines.map((l) => `${l.stat}:${l.value}|${l.type}${l.rate < 1 ? `|@${l.rate}` : ''}`);
    assert.ok(lines.includes('orders:100|c'));
    assert.ok(lines.includes('order.latency_ms:50|ms|@0.01'));
    assert.ok(lines.includes('order.latency_ms:500|ms'));
    assert.ok(lines.includes('order.queue_depth:7|g'));
    assert.ok(lines.includes('heartbeat:1|c'));
    assert.equal(a.drain().lines.length, 0, 'drain resets');
  });
});
