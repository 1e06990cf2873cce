import type { ProducerPhase } from '@pushpull/common';
import type { Profile } from './profile.ts';

// The fleet-wide rate is piecewise linear around the burst instant S (startAtMs):
//   t < S            steady
//   S .. S+ramp      linear steady -> peak
//   .. +hold         peak
//   .. +decay        linear peak -> after
//   later            after
// Because every piece is linear, the number of orders expected between two instants is an exact
// trapezoid integral, so order counts do not depend on how time is cut into ticks.

/** The producer's phase (a wire contract: @pushpull/common). */
export type Phase = ProducerPhase;

interface Segment {
  from: number;
  to: number;
  r0: number;
  r1: number;
}

function segments(p: Profile, startAtMs: number): Segment[] {
  const s = startAtMs;
  const a = s + p.rampMs;
  const b = a + p.holdMs;
  const c = b + p.decayMs;
  return [
    { from: -Infinity, to: s, r0: p.steadyOrdersPerSecond, r1: p.steadyOrdersPerSecond },
    { from: s, to: a, r0: p.steadyOrdersPerSecond, r1: p.peakOrdersPerSecond },
    { from: a, to: b, r0: p.peakOrdersPerSecond, r1: p.peakOrdersPerSecond },
    { from: b, to: c, r0: p.peakOrdersPerSecond, r1: p.afterOrdersPerSecond },
    { from: c, to: Infinity, r0: p.afterOrdersPerSecond, r1: p.afterOrdersPerSecond },
  ];
}

function rateIn(seg: Segment, t: number): number {
  if (seg.r0 === seg.r1 || !Number.isFinite(seg.from) || !Number.isFinite(seg.to)) return seg.r0;
  return seg.r0 + ((seg.r1 - seg.r0) * (t - seg.from)) / (seg.to - seg.from);
}

/** Fleet-wide orders per second at wall-clock instant t (epoch ms). */
export function fleetRateAt(p: Profile, startAtMs: number | null, t: number): number {
  if (startAtMs === null) return p.steadyOrdersPerSecond;
  for (const seg of segments(p, startAtMs)) {
    if (t < seg.to) return rateIn(seg, t);
  }
  return p.afterOrdersPerSecond;
}

/** Fleet-wide orders expected in [a, b) (ms), exactly (trapezoids over the linear pieces). */
export function fleetOrdersBetween(p: Profile, startAtMs: number | null, a: number, b: number): number {
  if (b <= a) return 0;
  if (startAtMs === null) return (p.steadyOrdersPerSecond * (b - a)) / 1000;
  let total = 0;
  for (const seg of segments(p, startAtMs)) {
    const lo = Math.max(a, seg.from);
    const hi = Math.min(b, seg.to);
    if (hi <= lo) continue;
    total += ((rateIn(seg, lo) + rateIn(seg, hi)) / 2) * (hi - lo);
  }
  return total / 1000;
}

export function phaseAt(p: Profile, startAtMs: number | null, t: number): Phase {
  if (startAtMs === null) return 'steady';
  if (t < startAtMs) return 'scheduled';
  if (t < startAtMs + p.rampMs) return 'ramp';
  if (t < startAtMs + p.rampMs + p.holdMs) return 'peak';
  if (t < startAtMs + p.rampMs + p.holdMs + p.decayMs) return 'decay';
  return 'done';
}

/** Instruments trading at t: the steady set, plus the open set phased in linearly over the ramp. */
export function instrumentsAt(p: Profile, startAtMs: number | null, t: number): number {
  if (startAtMs === null || t < startAtMs) return p.instruments.steady;
  const frac = p.rampMs === 0 ? 1 : Math.min(1, (t - startAtMs) / p.rampMs);
  return p.instruments.steady + Math.floor(p.instruments.open * frac);
}
