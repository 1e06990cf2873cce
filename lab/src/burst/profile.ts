import { readFileSync } from 'node:fs';
import { LabError } from '@pushpull/common';

// The burst's workload profile: the producer's market-open profile (services/producer/profiles), fitted to
// the run's burst window. Pure apart from loading the file.

export interface ProfileShape {
  name: string;
  steadyOrdersPerSecond: number;
  peakOrdersPerSecond: number;
  rampMs: number;
  holdMs: number;
  decayMs: number;
  afterOrdersPerSecond: number;
  [k: string]: unknown;
}

export function loadProfileFile(path: string): ProfileShape {
  let p: ProfileShape;
  try {
    p = JSON.parse(readFileSync(path, 'utf8')) as ProfileShape;
  } catch (e) {
    throw new LabError('LAB_ERR_PROFILE', `cannot read the burst profile ${path}: ${(e as Error).message}`);
  }
  for (const k of ['rampMs', 'holdMs', 'decayMs', 'steadyOrdersPerSecond', 'peakOrdersPerSecond'] as const)
    if (typeof p[k] !== 'number') throw new LabError('LAB_ERR_PROFILE', `${path}: ${k} is not a number`);
  return p;
}

export function profileLengthMs(p: ProfileShape): number {
  return p.rampMs + p.holdMs + p.decayMs;
}

/**
 * Fits ramp → hold → decay into a burst window: unchanged when it fits; otherwise the ramp is kept (it is
 * the incident's 800 ms) and hold and decay shrink in proportion, so a short run still holds and decays.
 */
export function fitProfile(
  p: ProfileShape,
  windowMs: number,
): { profile: ProfileShape; fitted: boolean; factor: number } {
  if (profileLengthMs(p) <= windowMs) return { profile: p, fitted: false, factor: 1 };
  const room = Math.max(0, windowMs - p.rampMs);
  const factor = room / Math.max(1, p.holdMs + p.decayMs);
  const holdMs = Math.round(p.holdMs * factor);
  return {
    profile: { ...p, holdMs, decayMs: Math.max(0, Math.round(room - holdMs)) },
    fitted: true,
    factor,
  };
}

/** The lab's phase at `nowMs` for a burst at `t0` with this profile. */
export function burstPhaseAt(
  p: ProfileShape,
  t0: number,
  nowMs: number,
): 'scheduled' | 'ramp' | 'peak' | 'decay' | 'after' {
  const dt = nowMs - t0;
  if (dt < 0) return 'scheduled';
  if (dt < p.rampMs) return 'ramp';
  if (dt < p.rampMs + p.holdMs) return 'peak';
  if (dt < p.rampMs + p.holdMs + p.decayMs) return 'decay';
  return 'after';
}
