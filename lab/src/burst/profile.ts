import { readFileSync } from 'node:fs';
import { LabError, type Profile, profileLengthMs, validateProfile } from '@pushpull/common';

// The burst's workload profile: the producer's market-open profile (services/producer/profiles), fitted to
// the run's burst window. Pure apart from loading the file.

/** The producer's profile (a wire contract: @pushpull/common), as the lab fits and schedules it. */
export type ProfileShape = Readonly<Profile>;

/** Reads and validates the profile with the producer's own rules (the error names the file and field). */
export function loadProfileFile(path: string): ProfileShape {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new LabError('LAB_ERR_PROFILE', `cannot read the burst profile ${path}: ${(e as Error).message}`);
  }
  return validateProfile(raw, path);
}

export { profileLengthMs };

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
