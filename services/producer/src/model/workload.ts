import type { Rng } from '@pushpull/common';
import type { Profile } from './profile.ts';
import { fleetOrdersBetween, fleetRateAt, instrumentsAt, type Phase, phaseAt } from './rate.ts';

// The pure workload model. No I/O, no timers: the producer calls it with clock readings.
//
// WorkloadModel holds the fleet-wide schedule (profile + burst instant) and the cumulative number of
// orders one pod is expected to have produced since the model started, E(t) = ∫ fleetRate / fleetPods.
// Changing the schedule re-anchors the integral at the change instant, so E stays continuous.
// Each pod emits floor(E(t) + phase_p) orders by t (phase_p in [0,1) from its own seeded stream, so pods do
// not all emit on the same tick); fractional orders are carried, counts are exact over time.

export const REGIONS = ['in-west', 'in-north', 'in-south'] as const;
/** Cumulative weights for REGIONS. */
const REGION_CDF = [0.5, 0.8, 1] as const;
export const SIDES = ['buy', 'sell'] as const;
export const REJECT_REASONS = ['risk_limit', 'price_band', 'throttle'] as const;

/** Instrument label values: equities before the open, option contracts that list at the open. */
export function instrumentName(index: number, steadyCount: number): string {
  if (index < steadyCount) return `EQ${String(index + 1).padStart(4, '0')}`;
  const k = index - steadyCount;
  const strike = 22000 + 50 * Math.floor(k / 2);
  return `NIFTY-OPT-${strike}-${k % 2 === 0 ? 'CE' : 'PE'}`;
}

export interface Order {
  region: number;
  side: number;
  instrument: number;
  latencyMs: number;
  rejected: boolean;
  rejectReason: number;
}

export function newOrder(): Order {
  return { region: 0, side: 0, instrument: 0, latencyMs: 0, rejected: false, rejectReason: 0 };
}

export interface Schedule {
  startAtMs: number;
}

export class WorkloadModel {
  private profileV: Readonly<Profile>;
  private startAtMs: number | null = null;
  private anchorMs: number;
  private anchorCum = 0;
  private quiescedAtMs: number | null = null;
  private maxInstrumentsSeen: number;
  readonly fleetPods: number;

  constructor(profile: Readonly<Profile>, fleetPods: number, nowMs: number) {
    this.profileV = profile;
    this.fleetPods = fleetPods;
    this.anchorMs = nowMs;
    this.maxInstrumentsSeen = profile.instruments.steady;
  }

  get profile(): Readonly<Profile> {
    return this.profileV;
  }
  get schedule(): Schedule | null {
    return this.startAtMs === null ? null : { startAtMs: this.startAtMs };
  }
  get quiesced(): boolean {
    return this.quiescedAtMs !== null;
  }

  /** Orders one pod is expected to have produced by t (fractional). Frozen after quiesce. */
  podCumulative(t: number): number {
    const until = this.quiescedAtMs === null ? t : Math.min(t, this.quiescedAtMs);
    if (until <= this.anchorMs) return this.anchorCum;
    return (
      this.anchorCum +
      fleetOrdersBetween(this.profileV, this.startAtMs, this.anchorMs, until) / this.fleetPods
    );
  }

  /** Replaces the schedule (and optionally the profile) from instant `nowMs` on. */
  setSchedule(startAtMs: number, profile: Readonly<Profile> | undefined, nowMs: number): void {
    this.reanchor(nowMs);
    if (profile) this.profileV = profile;
    this.startAtMs = startAtMs;
  }

  quiesce(nowMs: number): void {
    if (this.quiescedAtMs === null) {
      this.reanchor(nowMs);
      this.quiescedAtMs = nowMs;
    }
  }

  private reanchor(nowMs: number): void {
    if (nowMs > this.anchorMs) {
      this.anchorCum = this.podCumulative(nowMs);
      this.anchorMs = nowMs;
    }
  }

  phase(t: number): Phase {
    if (this.quiescedAtMs !== null) return 'quiesced';
    return phaseAt(this.profileV, this.startAtMs, t);
  }

  fleetRate(t: number): number {
    if (this.quiescedAtMs !== null) return 0;
    return fleetRateAt(this.profileV, this.startAtMs, t);
  }

  podRate(t: number): number {
    return this.fleetRate(t) / this.fleetPods;
  }

  /**
   * Instruments that new orders may pick from at t. Registries keep every series they ever listed,
   * so the count the pods have listed (maxInstrumentsSeen) never shrinks.
   */
  activeInstruments(t: number): number {
    const n = instrumentsAt(this.profileV, this.startAtMs, t);
    if (n > this.maxInstrumentsSeen) this.maxInstrumentsSeen = n;
    return n;
  }

  get listedInstruments(): number {
    return this.maxInstrumentsSeen;
  }
}

/**
 * One pod's seeded stream. Every order consumes exactly the same number of draws, so the sequence of
 * orders depends only on the seed, the pod id and the order index (and the instruments trading then).
 */
export class PodGenerator {
  readonly phaseOffset: number;
  generated = 0;
  private readonly rng: Rng;
  private readonly depthRng: Rng;

  constructor(rng: Rng) {
    this.phaseOffset = rng.next();
    this.rng = rng.fork('orders');
    this.depthRng = rng.fork('queue-depth');
  }

  /** Orders due by the pod's cumulative expectation `cum` and not yet generated. */
  due(cum: number): number {
    const n = Math.floor(cum + this.phaseOffset + 1e-9) - this.generated;
    return Math.max(n, 0);
  }

  /** Fills `out` with the next order (no allocation). */
  next(profile: Readonly<Profile>, activeInstruments: number, out: Order): Order {
    const r = this.rng;
    const u = r.next();
    out.region = u < REGION_CDF[0] ? 0 : u < REGION_CDF[1] ? 1 : 2;
    out.side = r.next() < 0.5 ? 0 : 1;
    // Skewed towards the first (most liquid) instruments, but every listed one trades.
    const v = r.next();
    out.instrument = Math.min(activeInstruments - 1, Math.floor(activeInstruments * v * v));
    const lat = profile.latency;
    const z = r.normal();
    const tail = r.next() < lat.tailProbability;
    const ms = tail ? lat.tailMedianMs * Math.exp(lat.tailSigma * z) : lat.medianMs * Math.exp(lat.sigma * z);
    out.latencyMs = Math.max(0.1, Math.round(ms * 10) / 10);
    out.rejected = r.next() < profile.rejectRatio;
    out.rejectReason = Math.min(REJECT_REASONS.length - 1, Math.floor(r.next() * REJECT_REASONS.length));
    this.generated++;
    return out;
  }

  /** Queue depth by Little's law (rate x mean latency) with noise. */
  queueDepth(podRatePerSecond: number, profile: Readonly<Profile>): number {
    const meanS =
      (profile.latency.medianMs * Math.exp((profile.latency.sigma * profile.latency.sigma) / 2)) / 1000;
    return Math.round(podRatePerSecond * meanS * (0.5 + this.depthRng.next()));
  }
}
