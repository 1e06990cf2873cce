import { OTLP_TEMPORALITIES, type OtlpTemporality, PUSH_MODES, type PushMode } from './control.ts';
import { LabError } from './errors.ts';
import type { FlagSpec, FlagSpecs } from './flags.ts';

// The producer's options, declared once: flag, env var, default, limits, help. The producer derives its
// config type, defaults, CLI flags and validation from this table (services/producer/src/config.ts); the lab
// renders producer command lines from it (renderProducerArgs) and takes its shared limits from it, so a flag
// is spelled, bounded and stringified in one place.

export type ProducerOptionKind =
  | 'int'
  | 'bool'
  | 'address'
  | 'target'
  | 'url'
  | 'choice'
  | 'name'
  | 'prefix'
  | 'profile'
  | 'duration'
  | 'duration-or-off'
  | 'dir';

export interface ProducerOptionDef {
  kind: ProducerOptionKind;
  /** The CLI flag (without `--`); absent: a programmatic option (createProducer only). */
  flag?: string;
  env?: string;
  /** null: none, or derived from other options (see help). */
  default: string | number | boolean | null;
  help: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
}

export const MAX_PODS = 5000;
export const MIN_FLUSH_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 3_600_000;

export const PRODUCER_OPTIONS = {
  pods: {
    kind: 'int',
    flag: 'pods',
    env: 'PRODUCER_PODS',
    default: 50,
    min: 1,
    max: MAX_PODS,
    help: 'virtual pods',
  },
  http: {
    kind: 'address',
    flag: 'http',
    env: 'PRODUCER_HTTP',
    default: '127.0.0.1:9100',
    help: 'HTTP listen HOST:PORT',
  },
  statsd: {
    kind: 'target',
    flag: 'statsd',
    env: 'PRODUCER_STATSD',
    default: 'udp://127.0.0.1:8125',
    help: 'push target udp://HOST:PORT, tcp://HOST:PORT or otlp://HOST:PORT',
  },
  otlpUrl: {
    kind: 'url',
    flag: 'otlp-url',
    env: 'PRODUCER_OTLP_URL',
    default: null,
    help: 'OTLP endpoint http://HOST:PORT/v1/metrics (default: from otlp:// --statsd, else its host, port 4318)',
  },
  otlpTemporality: {
    kind: 'choice',
    flag: 'otlp-temporality',
    env: 'PRODUCER_OTLP_TEMPORALITY',
    default: 'cumulative',
    choices: OTLP_TEMPORALITIES,
    help: 'OTLP aggregation temporality',
  },
  name: {
    kind: 'name',
    flag: 'name',
    env: 'PRODUCER_NAME',
    default: null,
    help: 'producer name (default: hostname)',
  },
  podPrefix: {
    kind: 'prefix',
    flag: 'pod-prefix',
    env: 'PRODUCER_POD_PREFIX',
    default: null,
    help: 'pod id prefix (default: NAME-p)',
  },
  seed: {
    kind: 'int',
    flag: 'seed',
    env: 'PRODUCER_SEED',
    default: 42,
    min: 0,
    max: 2 ** 32 - 1,
    help: 'workload seed',
  },
  profile: {
    kind: 'profile',
    flag: 'profile',
    env: 'PRODUCER_PROFILE',
    default: 'market-open',
    help: 'market-open | steady | FILE.json',
  },
  fleetPods: {
    kind: 'int',
    flag: 'fleet-pods',
    env: 'PRODUCER_FLEET_PODS',
    default: 1400,
    min: 1,
    max: 10_000_000,
    help: 'pods the fleet rate is divided by',
  },
  pushMode: {
    kind: 'choice',
    flag: 'push-mode',
    env: 'PRODUCER_PUSH_MODE',
    default: 'per-event',
    choices: PUSH_MODES,
    help: 'push mode',
  },
  jitter: {
    kind: 'bool',
    flag: 'jitter',
    env: 'PRODUCER_JITTER',
    default: true,
    help: 'per-pod random flush offset (on|off)',
  },
  flushInterval: {
    kind: 'duration',
    flag: 'flush-interval',
    env: 'PRODUCER_FLUSH_INTERVAL',
    default: '10s',
    min: MIN_FLUSH_INTERVAL_MS,
    max: MAX_INTERVAL_MS,
    help: 'buffered/aggregated flush interval',
  },
  heartbeat: {
    kind: 'duration-or-off',
    flag: 'heartbeat',
    env: 'PRODUCER_HEARTBEAT',
    default: '5s',
    min: MIN_FLUSH_INTERVAL_MS,
    max: MAX_INTERVAL_MS,
    help: 'heartbeat period or off',
  },
  sdDir: {
    kind: 'dir',
    flag: 'sd-dir',
    env: 'PRODUCER_SD_DIR',
    default: null,
    help: 'write DIR/<name>.json (Prometheus file_sd)',
  },
  advertise: {
    kind: 'address',
    flag: 'advertise',
    env: 'PRODUCER_ADVERTISE',
    default: null,
    help: 'HOST:PORT written to the sd file (default: listen address, or first non-internal IPv4)',
  },
  tickMs: { kind: 'int', default: 10, min: 1, max: 1000, help: 'model tick period, ms' },
  costSampleEvery: {
    kind: 'int',
    default: 16,
    min: 1,
    max: 1_000_000,
    help: 'time one in N orders on the pull record and push send paths',
  },
  maxOrdersPerTick: {
    kind: 'int',
    default: 20_000,
    min: 1,
    max: 10_000_000,
    help: 'upper bound on orders generated per tick by the whole process; the rest waits (backlog)',
  },
  maxTickMs: {
    kind: 'int',
    default: 50,
    min: 1,
    max: 10_000,
    help: 'CPU budget of one tick, ms: past it the remaining orders wait for the next tick (backlog)',
  },
  processMetrics: {
    kind: 'bool',
    default: true,
    help: 'prom-client default process metrics on GET /metrics',
  },
  maxConnections: {
    kind: 'int',
    default: 0,
    min: 0,
    max: 1_000_000,
    help: 'open HTTP connections accepted at once; 0 = 2 x pods + 64',
  },
} as const satisfies Record<string, ProducerOptionDef>;

/** The `job` command's own options (a short-lived producer): flags only, beside the table above. */
export const PRODUCER_JOB_OPTIONS = {
  duration: {
    kind: 'duration',
    flag: 'duration',
    env: 'PRODUCER_DURATION',
    default: '8s',
    help: 'how long the job runs',
  },
  pushgateway: {
    kind: 'url',
    flag: 'pushgateway',
    env: 'PRODUCER_PUSHGATEWAY',
    default: null,
    help: 'Pushgateway URL for the final metrics (grouping key job=<name>)',
  },
} as const satisfies Record<string, ProducerOptionDef>;

export type ProducerOptionKey = keyof typeof PRODUCER_OPTIONS;
export const PRODUCER_OPTION_KEYS = Object.keys(PRODUCER_OPTIONS) as ProducerOptionKey[];
type Def<K extends ProducerOptionKey> = (typeof PRODUCER_OPTIONS)[K];

/** The options that have a flag. */
export type ProducerFlagKey = {
  [K in ProducerOptionKey]: Def<K> extends { flag: string } ? K : never;
}[ProducerOptionKey];

/** A value as a caller holds it before rendering: ints and ms as numbers, switches as booleans. */
type ArgValue<D> = D extends { kind: 'int' | 'duration' | 'duration-or-off' }
  ? number
  : D extends { kind: 'bool' }
    ? boolean
    : D extends { kind: 'choice'; choices: readonly (infer C)[] }
      ? C
      : string;

/** What renderProducerArgs takes: any subset of the flagged options (durations in ms; heartbeat 0 = off). */
export type ProducerArgValues = { [K in ProducerFlagKey]?: ArgValue<Def<K>> } & {
  [K in keyof typeof PRODUCER_JOB_OPTIONS]?: ArgValue<(typeof PRODUCER_JOB_OPTIONS)[K]>;
};

export type { OtlpTemporality, PushMode };

/** The FlagSpec of one option (for parseArgs), optionally under another env var and help (the lab's). */
export function producerFlagSpec(
  key: ProducerOptionKey | keyof typeof PRODUCER_JOB_OPTIONS,
  over: Partial<FlagSpec> = {},
): FlagSpec {
  const o: ProducerOptionDef =
    key in PRODUCER_JOB_OPTIONS
      ? PRODUCER_JOB_OPTIONS[key as keyof typeof PRODUCER_JOB_OPTIONS]
      : PRODUCER_OPTIONS[key as ProducerOptionKey];
  const spec: FlagSpec = {
    kind: o.kind === 'int' ? 'int' : o.kind === 'bool' ? 'bool' : 'string',
    help: o.help,
    ...(o.env ? { env: o.env } : {}),
    ...(o.default !== null ? { default: o.default } : {}),
    ...(o.kind === 'int' ? { min: o.min, max: o.max } : {}),
    ...(o.choices ? { choices: o.choices } : {}),
  };
  return { ...spec, ...over };
}

/** Every flagged option as parseArgs specs, keyed by flag name (with the job's own: `job`). */
export function producerFlagSpecs(command: 'serve' | 'job' = 'serve'): FlagSpecs {
  const specs: FlagSpecs = {};
  for (const key of PRODUCER_OPTION_KEYS) {
    const o: ProducerOptionDef = PRODUCER_OPTIONS[key];
    if (o.flag !== undefined) specs[o.flag] = producerFlagSpec(key);
  }
  if (command === 'job')
    for (const key of Object.keys(PRODUCER_JOB_OPTIONS) as (keyof typeof PRODUCER_JOB_OPTIONS)[])
      specs[PRODUCER_JOB_OPTIONS[key].flag] = producerFlagSpec(key);
  return specs;
}

function outOfRange(o: ProducerOptionDef, value: unknown, why: string): LabError {
  return new LabError('LAB_ERR_FLAG_VALUE', `--${o.flag}: ${JSON.stringify(value)} ${why}`, {
    flag: o.flag,
    value,
  });
}

function renderValue(o: ProducerOptionDef, v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw outOfRange(o, v, 'is not an integer');
    if (o.kind === 'duration-or-off' && v === 0) return 'off';
    if ((o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max))
      throw outOfRange(o, v, `is not in [${o.min}, ${o.max}]`);
    return o.kind === 'int' ? String(v) : `${v}ms`;
  }
  if (o.choices && !o.choices.includes(v)) throw outOfRange(o, v, `is not one of ${o.choices.join(', ')}`);
  return v;
}

/**
 * A producer command line (`--flag value` pairs, in table order) from typed values, checked against the
 * table's limits: the one place a producer option becomes text. Undefined values are left out.
 */
export function renderProducerArgs(values: ProducerArgValues): string[] {
  const out: string[] = [];
  const table: Record<string, ProducerOptionDef> = { ...PRODUCER_OPTIONS, ...PRODUCER_JOB_OPTIONS };
  for (const [key, o] of Object.entries(table)) {
    const v = (values as Record<string, string | number | boolean | undefined>)[key];
    if (v === undefined || o.flag === undefined) continue;
    out.push(`--${o.flag}`, renderValue(o, v));
  }
  return out;
}
