import { OTLP_TEMPORALITIES, TRANSPORTS } from '@pushpull/common';
import { MAX_INTERVAL_MS, MIN_FLUSH_INTERVAL_MS } from '../config.ts';
import { PROFILE_SCHEMA } from '../model/profile.ts';
import { PUSH_MODES } from '../push/pusher.ts';

// JSON Schemas of the control bodies, checked by the framework (Ajv) before a handler runs: a body of the
// wrong shape, with unknown keys, or nested where nothing may be nested is a 400 naming the field, and no
// code of ours walks it. They state the shape; the pure parsers in control.ts still run after them and own
// what a schema cannot say (a start at most 24 h after now; a heartbeat of 0 or >= 100 ms) and the typed
// result, so programmatic callers get the same checks. Bounds come from the same constants as those parsers.

export const SCHEDULE_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['startAtMs'],
  properties: {
    startAtMs: { type: 'integer', minimum: 0 },
    profile: PROFILE_SCHEMA,
  },
} as const;

/** An absent body means "change nothing", hence null. */
export const PUSH_BODY = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    mode: { enum: [...PUSH_MODES] },
    jitter: { enum: [true, false, 'on', 'off'] },
    transport: { enum: [...TRANSPORTS] },
    otlpTemporality: { enum: [...OTLP_TEMPORALITIES] },
    heartbeatMs: { type: 'integer', minimum: 0, maximum: MAX_INTERVAL_MS },
    flushIntervalMs: { type: 'integer', minimum: MIN_FLUSH_INTERVAL_MS, maximum: MAX_INTERVAL_MS },
  },
} as const;

/** quiesce takes no parameters: no body, or an empty object (what the lab sends). */
export const QUIESCE_BODY = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {},
} as const;

/**
 * Ajv options for these schemas. Fastify's defaults would coerce ("5" -> 5, 1 -> true) and silently REMOVE
 * unknown keys, where the contract is a 400 naming them; verbose puts the offending value into each error.
 */
export const AJV_OPTIONS = {
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: false,
  allErrors: false,
  verbose: true,
} as const;
