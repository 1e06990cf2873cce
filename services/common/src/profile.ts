import { describeValue } from './describe-value.ts';
import { LabError } from './errors.ts';

// The workload profile, a wire contract: the lab sends it in POST /control/schedule and the producer runs
// it. One definition, one validator and one JSON Schema for both sides (docs/contracts.md), so they cannot
// drift apart. A profile is data: the fleet-wide order rate over time around one burst instant, plus the
// per-order distributions. validateProfile names the offending field.

export interface LatencySpec {
  /** Median of the main log-normal body, milliseconds. */
  medianMs: number;
  /** Shape of the main body (sigma of the underlying normal). */
  sigma: number;
  /** Share of orders drawn from the slow tail instead (the fat tail). */
  tailProbability: number;
  tailMedianMs: number;
  tailSigma: number;
}

export interface Profile {
  name: string;
  description: string;
  /** Fleet-wide orders/s before the burst instant (and when nothing is scheduled). */
  steadyOrdersPerSecond: number;
  /** Fleet-wide orders/s reached at the end of the ramp and held for holdMs. */
  peakOrdersPerSecond: number;
  rampMs: number;
  holdMs: number;
  /** Linear decay from peak to afterOrdersPerSecond. */
  decayMs: number;
  /** Fleet-wide orders/s once the decay is over ("done"). */
  afterOrdersPerSecond: number;
  /** Label values trading per pod: `steady` before the open, `open` more start trading during the ramp. */
  instruments: { steady: number; open: number };
  latency: LatencySpec;
  /** Probability that an order is rejected. */
  rejectRatio: number;
  /** How often each pod samples its queue depth (gauge set, and one push line in per-event mode). */
  queueDepthEveryMs: number;
}

const HOUR = 3_600_000;

function fail(field: string, message: string): never {
  throw new LabError('LAB_ERR_PROFILE', `${field}: ${message}`, { field });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(
  obj: Record<string, unknown>,
  key: string,
  where: string,
  opts: { min: number; max: number; int?: boolean; default?: number },
): number {
  const field = `${where}.${key}`;
  const v = obj[key];
  if (v === undefined) {
    if (opts.default !== undefined) return opts.default;
    fail(field, 'is required');
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, `${describeValue(v)} is not a number`);
  if (opts.int && !Number.isInteger(v)) fail(field, `${v} is not an integer`);
  if (v < opts.min) fail(field, `${v} is below the minimum ${opts.min}`);
  if (v > opts.max) fail(field, `${v} is above the maximum ${opts.max}`);
  return v;
}

function rejectUnknown(obj: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) if (!known.includes(k)) fail(`${where}.${k}`, 'unknown field');
}

const PROFILE_KEYS = [
  'name',
  'description',
  'steadyOrdersPerSecond',
  'peakOrdersPerSecond',
  'rampMs',
  'holdMs',
  'decayMs',
  'afterOrdersPerSecond',
  'instruments',
  'latency',
  'rejectRatio',
  'queueDepthEveryMs',
] as const;
const LATENCY_KEYS = ['medianMs', 'sigma', 'tailProbability', 'tailMedianMs', 'tailSigma'] as const;
const DEFAULT_LATENCY: LatencySpec = {
  medianMs: 50,
  sigma: 0.5,
  tailProbability: 0.02,
  tailMedianMs: 400,
  tailSigma: 0.7,
};
const MAX_RATE = 100_000_000;

const NAME_PATTERN = '^[A-Za-z0-9_.-]{1,64}$';
const NAME_RE = new RegExp(NAME_PATTERN);
const MAX_DESCRIPTION = 4096;
const rateSchema = { type: 'number', minimum: 0, maximum: MAX_RATE } as const;
const durationSchema = { type: 'integer', minimum: 0, maximum: HOUR } as const;

/**
 * The same rules as validateProfile, as a JSON Schema, so the HTTP framework rejects a bad profile in a
 * request body before any handler runs (and never descends into a value of the wrong shape). validateProfile
 * stays the one that builds the Profile (defaults, freezing) and the only check for files and the CLI;
 * http-server.test.ts checks both name the same field for a table of bad profiles. `required` lists the
 * fields in validateProfile's order so both name the same first missing field.
 */
export const PROFILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: [
    'name',
    'steadyOrdersPerSecond',
    'peakOrdersPerSecond',
    'rampMs',
    'holdMs',
    'decayMs',
    'afterOrdersPerSecond',
    'instruments',
  ],
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN },
    description: { type: 'string', maxLength: MAX_DESCRIPTION },
    steadyOrdersPerSecond: rateSchema,
    peakOrdersPerSecond: rateSchema,
    rampMs: durationSchema,
    holdMs: durationSchema,
    decayMs: durationSchema,
    afterOrdersPerSecond: rateSchema,
    instruments: {
      type: 'object',
      additionalProperties: false,
      required: ['steady', 'open'],
      properties: {
        steady: { type: 'integer', minimum: 1, maximum: 5000 },
        open: { type: 'integer', minimum: 0, maximum: 20000 },
      },
    },
    latency: {
      type: 'object',
      additionalProperties: false,
      properties: {
        medianMs: { type: 'number', minimum: 0.001, maximum: 60_000 },
        sigma: { type: 'number', minimum: 0, maximum: 3 },
        tailProbability: { type: 'number', minimum: 0, maximum: 1 },
        tailMedianMs: { type: 'number', minimum: 0.001, maximum: 600_000 },
        tailSigma: { type: 'number', minimum: 0, maximum: 3 },
      },
    },
    rejectRatio: { type: 'number', minimum: 0, maximum: 1 },
    queueDepthEveryMs: { type: 'integer', minimum: 100, maximum: HOUR },
  },
} as const;

/** Validates an untrusted profile (JSON) and returns a frozen copy. Errors name the field, e.g. `profile.rampMs`. */
export function validateProfile(input: unknown, where = 'profile'): Readonly<Profile> {
  if (!isRecord(input)) fail(where, `${describeValue(input)} is not an object`);
  rejectUnknown(input, PROFILE_KEYS, where);
  const name = input.name;
  if (typeof name !== 'string' || !NAME_RE.test(name))
    fail(`${where}.name`, `${describeValue(name)} is not a name ([A-Za-z0-9_.-], 1-64 chars)`);
  const description = input.description ?? '';
  if (typeof description !== 'string') fail(`${where}.description`, 'is not a string');
  if (description.length > MAX_DESCRIPTION)
    fail(`${where}.description`, `is longer than ${MAX_DESCRIPTION} characters`);
  const rate = { min: 0, max: MAX_RATE };
  const dur = { min: 0, max: HOUR, int: true };
  const steadyOrdersPerSecond = num(input, 'steadyOrdersPerSecond', where, rate);
  const peakOrdersPerSecond = num(input, 'peakOrdersPerSecond', where, rate);
  const rampMs = num(input, 'rampMs', where, dur);
  const holdMs = num(input, 'holdMs', where, dur);
  const decayMs = num(input, 'decayMs', where, dur);
  const afterOrdersPerSecond = num(input, 'afterOrdersPerSecond', where, rate);
  const inst = input.instruments;
  if (!isRecord(inst)) fail(`${where}.instruments`, 'is required and must be {"steady": N, "open": N}');
  rejectUnknown(inst, ['steady', 'open'], `${where}.instruments`);
  const iw = `${where}.instruments`;
  const instruments = {
    steady: num(inst, 'steady', iw, { min: 1, max: 5000, int: true }),
    open: num(inst, 'open', iw, { min: 0, max: 20000, int: true }),
  };
  const lat = input.latency ?? DEFAULT_LATENCY;
  if (!isRecord(lat)) fail(`${where}.latency`, 'is not an object');
  rejectUnknown(lat, LATENCY_KEYS, `${where}.latency`);
  const lw = `${where}.latency`;
  const profile: Profile = {
    name,
    description,
    steadyOrdersPerSecond,
    peakOrdersPerSecond,
    rampMs,
    holdMs,
    decayMs,
    afterOrdersPerSecond,
    instruments,
    latency: {
      medianMs: num(lat, 'medianMs', lw, { min: 0.001, max: 60_000, default: DEFAULT_LATENCY.medianMs }),
      sigma: num(lat, 'sigma', lw, { min: 0, max: 3, default: DEFAULT_LATENCY.sigma }),
      tailProbability: num(lat, 'tailProbability', lw, {
        min: 0,
        max: 1,
        default: DEFAULT_LATENCY.tailProbability,
      }),
      tailMedianMs: num(lat, 'tailMedianMs', lw, {
        min: 0.001,
        max: 600_000,
        default: DEFAULT_LATENCY.tailMedianMs,
      }),
      tailSigma: num(lat, 'tailSigma', lw, { min: 0, max: 3, default: DEFAULT_LATENCY.tailSigma }),
    },
    rejectRatio: num(input, 'rejectRatio', where, { min: 0, max: 1, default: 0.01 }),
    queueDepthEveryMs: num(input, 'queueDepthEveryMs', where, {
      min: 100,
      max: HOUR,
      int: true,
      default: 1000,
    }),
  };
  Object.freeze(profile.instruments);
  Object.freeze(profile.latency);
  return Object.freeze(profile);
}

/** Ramp + hold + decay: how long the burst lasts from its instant. */
export function profileLengthMs(p: Pick<Profile, 'rampMs' | 'holdMs' | 'decayMs'>): number {
  return p.rampMs + p.holdMs + p.decayMs;
}
