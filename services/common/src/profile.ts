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

/** A numeric field's bounds (and default, when it may be left out): checked by num, stated by numberSchema. */
interface NumberRule {
  min: number;
  max: number;
  int?: boolean;
  default?: number;
}

function num(obj: Record<string, unknown>, key: string, where: string, opts: NumberRule): number {
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

/** Every field of `rules`, in its order, checked by num. */
function nums<K extends string>(
  obj: Record<string, unknown>,
  rules: Readonly<Record<K, NumberRule>>,
  where: string,
): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const k of Object.keys(rules) as K[]) out[k] = num(obj, k, where, rules[k]);
  return out;
}

function numberSchema(r: NumberRule) {
  return { type: r.int ? 'integer' : 'number', minimum: r.min, maximum: r.max } as const;
}

/** The JSON Schema properties of a table of rules, in its order. */
function numberSchemas<K extends string>(rules: Readonly<Record<K, NumberRule>>) {
  return Object.fromEntries(
    Object.entries<NumberRule>(rules).map(([k, r]) => [k, numberSchema(r)]),
  ) as Record<K, ReturnType<typeof numberSchema>>;
}

function rejectUnknown(obj: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) if (!known.includes(k)) fail(`${where}.${k}`, 'unknown field');
}

// Every bound once: validateProfile checks these tables and PROFILE_SCHEMA is built from them.
const MAX_RATE = 100_000_000;
const RATE: NumberRule = { min: 0, max: MAX_RATE };
const DURATION: NumberRule = { min: 0, max: HOUR, int: true };
/** The burst's curve, all required, in the order validateProfile checks them. */
const CURVE_RULES = {
  steadyOrdersPerSecond: RATE,
  peakOrdersPerSecond: RATE,
  rampMs: DURATION,
  holdMs: DURATION,
  decayMs: DURATION,
  afterOrdersPerSecond: RATE,
} as const satisfies Record<string, NumberRule>;
const INSTRUMENT_RULES = {
  steady: { min: 1, max: 5000, int: true },
  open: { min: 0, max: 20000, int: true },
} as const satisfies Record<keyof Profile['instruments'], NumberRule>;
const LATENCY_RULES = {
  medianMs: { min: 0.001, max: 60_000, default: 50 },
  sigma: { min: 0, max: 3, default: 0.5 },
  tailProbability: { min: 0, max: 1, default: 0.02 },
  tailMedianMs: { min: 0.001, max: 600_000, default: 400 },
  tailSigma: { min: 0, max: 3, default: 0.7 },
} as const satisfies Record<keyof LatencySpec, NumberRule>;
const REJECT_RATIO: NumberRule = { min: 0, max: 1, default: 0.01 };
const QUEUE_DEPTH_EVERY_MS: NumberRule = { min: 100, max: HOUR, int: true, default: 1000 };

const LATENCY_KEYS = Object.keys(LATENCY_RULES);
const DEFAULT_LATENCY = Object.fromEntries(
  Object.entries(LATENCY_RULES).map(([k, r]) => [k, r.default]),
) as unknown as LatencySpec;

const NAME_PATTERN = '^[A-Za-z0-9_.-]{1,64}$';
const NAME_RE = new RegExp(NAME_PATTERN);
const MAX_DESCRIPTION = 4096;

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
  required: ['name', ...(Object.keys(CURVE_RULES) as (keyof typeof CURVE_RULES)[]), 'instruments'],
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN },
    description: { type: 'string', maxLength: MAX_DESCRIPTION },
    ...numberSchemas(CURVE_RULES),
    instruments: {
      type: 'object',
      additionalProperties: false,
      required: ['steady', 'open'],
      properties: numberSchemas(INSTRUMENT_RULES),
    },
    latency: {
      type: 'object',
      additionalProperties: false,
      properties: numberSchemas(LATENCY_RULES),
    },
    rejectRatio: numberSchema(REJECT_RATIO),
    queueDepthEveryMs: numberSchema(QUEUE_DEPTH_EVERY_MS),
  },
} as const;

const PROFILE_KEYS = Object.keys(PROFILE_SCHEMA.properties);

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
  const curve = nums(input, CURVE_RULES, where);
  const inst = input.instruments;
  if (!isRecord(inst)) fail(`${where}.instruments`, 'is required and must be {"steady": N, "open": N}');
  rejectUnknown(inst, Object.keys(INSTRUMENT_RULES), `${where}.instruments`);
  const instruments = nums(inst, INSTRUMENT_RULES, `${where}.instruments`);
  const lat = input.latency ?? DEFAULT_LATENCY;
  if (!isRecord(lat)) fail(`${where}.latency`, 'is not an object');
  rejectUnknown(lat, LATENCY_KEYS, `${where}.latency`);
  const profile: Profile = {
    name,
    description,
    ...curve,
    instruments,
    latency: nums(lat, LATENCY_RULES, `${where}.latency`),
    rejectRatio: num(input, 'rejectRatio', where, REJECT_RATIO),
    queueDepthEveryMs: num(input, 'queueDepthEveryMs', where, QUEUE_DEPTH_EVERY_MS),
  };
  Object.freeze(profile.instruments);
  Object.freeze(profile.latency);
  return Object.freeze(profile);
}

/** Ramp + hold + decay: how long the burst lasts from its instant. */
export function profileLengthMs(p: Pick<Profile, 'rampMs' | 'holdMs' | 'decayMs'>): number {
  return p.rampMs + p.holdMs + p.decayMs;
}
