import {
  isLabError,
  LabError,
  OTLP_TEMPORALITIES,
  type OtlpTemporality,
  TRANSPORTS,
  type Transport,
} from '@pushpull/common';
import { MAX_INTERVAL_MS, MIN_FLUSH_INTERVAL_MS } from '../config.ts';
import type { PushSettings } from '../core.ts';
import { describeValue } from '../describe-value.ts';
import { type Profile, validateProfile } from '../model/profile.ts';
import { PUSH_MODES, type PushMode } from '../push/pusher.ts';

// Validation of control request bodies (pure). Every error is a LabError LAB_ERR_CONTROL whose details
// carry the offending `field`; the HTTP layer turns it into a 4xx JSON body and the workload is untouched
// because nothing is applied before the whole body validated.

export interface ScheduleRequest {
  startAtMs: number;
  profile?: Readonly<Profile>;
}

function controlError(field: string | null, message: string, status = 400): LabError {
  return new LabError('LAB_ERR_CONTROL', field ? `${field}: ${message}` : message, { field, status });
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw controlError(null, `the body must be a JSON object, got ${describeValue(body)}`);
  return body as Record<string, unknown>;
}

function rejectUnknown(obj: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(obj))
    if (!known.includes(k)) throw controlError(k, `unknown field; known: ${known.join(', ')}`);
}

/** Latest start instant accepted, relative to now: a day ahead is a typo, not a schedule. */
export const MAX_SCHEDULE_AHEAD_MS = 86_400_000;

export function parseScheduleRequest(body: unknown, nowMs: number): ScheduleRequest {
  const o = asObject(body);
  rejectUnknown(o, ['startAtMs', 'profile']);
  const s = o.startAtMs;
  if (s === undefined) throw controlError('startAtMs', 'is required (absolute epoch milliseconds)');
  if (typeof s !== 'number' || !Number.isFinite(s) || !Number.isInteger(s) || s < 0)
    throw controlError('startAtMs', `${describeValue(s)} is not an epoch time in integer milliseconds`);
  if (s > nowMs + MAX_SCHEDULE_AHEAD_MS)
    throw controlError('startAtMs', `${s} is more than 24 h after now (${nowMs})`);
  if (o.profile === undefined) return { startAtMs: s };
  try {
    return { startAtMs: s, profile: validateProfile(o.profile, 'profile') };
  } catch (e) {
    if (isLabError(e, 'LAB_ERR_PROFILE'))
      throw new LabError('LAB_ERR_CONTROL', e.message, { field: e.details?.field ?? 'profile', status: 400 });
    throw e;
  }
}

function intervalMs(v: unknown, field: string, allowZero: boolean): number {
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw controlError(field, `${describeValue(v)} is not an integer number of milliseconds`);
  if (allowZero && v === 0) return 0;
  if (v < MIN_FLUSH_INTERVAL_MS || v > MAX_INTERVAL_MS)
    throw controlError(
      field,
      `${v} is not ${allowZero ? '0 (off) or ' : ''}in [${MIN_FLUSH_INTERVAL_MS}, ${MAX_INTERVAL_MS}]`,
    );
  return v;
}

export function parsePushRequest(body: unknown): Partial<PushSettings> {
  const o = asObject(body);
  rejectUnknown(o, ['mode', 'jitter', 'transport', 'heartbeatMs', 'flushIntervalMs', 'otlpTemporality']);
  const out: Partial<PushSettings> = {};
  if (o.mode !== undefined) {
    if (typeof o.mode !== 'string' || !PUSH_MODES.includes(o.mode as PushMode))
      throw controlError('mode', `${describeValue(o.mode)} is not one of ${PUSH_MODES.join(', ')}`);
    out.mode = o.mode as PushMode;
  }
  if (o.jitter !== undefined) {
    if (o.jitter === true || o.jitter === 'on') out.jitter = true;
    else if (o.jitter === false || o.jitter === 'off') out.jitter = false;
    else throw controlError('jitter', `${describeValue(o.jitter)} is not true/false (or "on"/"off")`);
  }
  if (o.transport !== undefined) {
    if (typeof o.transport !== 'string' || !TRANSPORTS.includes(o.transport as Transport))
      throw controlError('transport', `${describeValue(o.transport)} is not one of ${TRANSPORTS.join(', ')}`);
    out.transport = o.transport as Transport;
  }
  if (o.otlpTemporality !== undefined) {
    const t = o.otlpTemporality;
    if (typeof t !== 'string' || !OTLP_TEMPORALITIES.includes(t as OtlpTemporality))
      throw controlError(
        'otlpTemporality',
        `${describeValue(t)} is not one of ${OTLP_TEMPORALITIES.join(', ')}`,
      );
    out.otlpTemporality = t as OtlpTemporality;
  }
  if (o.heartbeatMs !== undefined) out.heartbeatMs = intervalMs(o.heartbeatMs, 'heartbeatMs', true);
  if (o.flushIntervalMs !== undefined)
    out.flushIntervalMs = intervalMs(o.flushIntervalMs, 'flushIntervalMs', false);
  return out;
}

export { controlError };
