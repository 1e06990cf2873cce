// Time and randomness are parameters so models are testable: production code takes a Clock and an Rng,
// tests pass a manual clock and a fixed seed.

export interface Clock {
  /** Wall-clock epoch milliseconds. */
  now(): number;
  /** Monotonic high-resolution nanoseconds (for measuring costs). */
  hrtimeNs(): bigint;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  hrtimeNs: () => process.hrtime.bigint(),
};

/**
 * TEST ONLY: `base` read `offsetMs` ahead (negative: behind). Stands for a machine whose clock is off, so the
 * lab's clock measurement and open-schedule compensation can be proven on nodes that share one kernel clock.
 */
export function skewedClock(base: Clock, offsetMs: number): Clock {
  return { now: () => base.now() + offsetMs, hrtimeNs: () => base.hrtimeNs() };
}

/** The test-only clock skew env var of the producer (milliseconds; refused outside [-600000, 600000]). */
export const TEST_CLOCK_SKEW_ENV = 'PUSHPULL_TEST_CLOCK_SKEW_MS';

export class ManualClock implements Clock {
  private ms: number;
  constructor(startMs = 0) {
    this.ms = startMs;
  }
  now(): number {
    return this.ms;
  }
  hrtimeNs(): bigint {
    return BigInt(Math.round(this.ms * 1e6));
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}

/** Seeded PRNG (mulberry32): fast, 32-bit state, repeatable across runs and machines. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** Standard normal via Box–Muller. */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /** Log-normal with the given median and shape sigma. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** Derives an independent stream (e.g. one per pod) from this seed and a label. */
  fork(label: string): Rng {
    let h = this.state ^ 0x811c9dc5;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619);
    return new Rng(h >>> 0);
  }
}
