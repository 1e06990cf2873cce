import { hostname } from 'node:os';
import {
  type FlagSpecs,
  formatHostPort,
  LabError,
  OTLP_TEMPORALITIES,
  type OtlpTemporality,
  parseDurationMs,
  parseHostPort,
  podIdsOf,
  podPrefixOf,
  TEST_CLOCK_SKEW_ENV,
  type Transport,
} from '@pushpull/common';
import { loadProfile, type Profile, validateProfile } from './model/profile.ts';
import { PUSH_MODES, type PushMode } from './push/pusher.ts';

// Configuration: flags (and env vars) for the CLI, camelCase keys for createProducer. Validated once here,
// then frozen; nothing downstream re-checks it.

export interface ProducerConfig {
  pods: number;
  http: string;
  /** `udp://HOST:PORT`, `tcp://HOST:PORT` or `otlp://HOST:PORT` (OTLP/HTTP to http://HOST:PORT/v1/metrics). */
  statsd: string;
  /** OTLP endpoint `http://HOST:PORT/PATH` (default: from an otlp:// --statsd, else --statsd's host, port 4318). */
  otlpUrl: string | null;
  otlpTemporality: OtlpTemporality;
  name: string;
  podPrefix: string;
  seed: number;
  /** `market-open`, `steady`, a path to a JSON profile, or a profile object. */
  profile: string | Profile;
  fleetPods: number;
  pushMode: PushMode;
  jitter: boolean | 'on' | 'off';
  /** Duration text (`10s`) or milliseconds. */
  flushInterval: string | number;
  /** Duration text (`5s`), `off`, or milliseconds (0 = off). */
  heartbeat: string | number;
  sdDir: string | null;
  advertise: string | null;
  // Programmatic only (no flag):
  /** Model tick period, ms. */
  tickMs: number;
  /** Time one in N orders on the pull record and push send paths. */
  costSampleEvery: number;
  /** Upper bound on orders generated per tick by the whole process; the rest waits (backlog). */
  maxOrdersPerTick: number;
  /** CPU budget of one tick, ms: past it the remaining orders wait for the next tick (backlog). */
  maxTickMs: number;
  /** prom-client default process metrics on GET /metrics. */
  processMetrics: boolean;
  /** Open HTTP connections accepted at once; 0 = 2 x pods + 64 (see maxConnectionsFor). */
  maxConnections: number;
}

export interface ResolvedConfig {
  readonly pods: number;
  readonly http: { readonly host: string; readonly port: number };
  readonly statsd: { readonly transport: Transport; readonly host: string; readonly port: number };
  readonly otlpUrl: string;
  readonly otlpTemporality: OtlpTemporality;
  readonly name: string;
  readonly podPrefix: string;
  readonly seed: number;
  readonly profile: Readonly<Profile>;
  readonly fleetPods: number;
  readonly pushMode: PushMode;
  readonly jitter: boolean;
  readonly flushIntervalMs: number;
  readonly heartbeatMs: number;
  readonly sdDir: string | null;
  readonly advertise: string | null;
  readonly tickMs: number;
  readonly costSampleEvery: number;
  readonly maxOrdersPerTick: number;
  readonly maxTickMs: number;
  readonly processMetrics: boolean;
  readonly maxConnections: number;
}

const KEYS: readonly (keyof ProducerConfig)[] = [
  'pods',
  'http',
  'statsd',
  'otlpUrl',
  'otlpTemporality',
  'name',
  'podPrefix',
  'seed',
  'profile',
  'fleetPods',
  'pushMode',
  'jitter',
  'flushInterval',
  'heartbeat',
  'sdDir',
  'advertise',
  'tickMs',
  'costSampleEvery',
  'maxOrdersPerTick',
  'maxTickMs',
  'processMetrics',
  'maxConnections',
];

export const MAX_PODS = 5000;
export const MIN_FLUSH_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 3_600_000;

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** How a field is named in messages: `--flush-interval` for the CLI, `flushInterval` for createProducer. */
type Namer = (key: keyof ProducerConfig) => string;
const camel: Namer = (k) => k;
export const flagNamer: Namer = (k) => `--${kebab(k)}`;

function bad(field: string, message: string): never {
  throw new LabError('LAB_ERR_CONFIG', `${field}: ${message}`, { field });
}

function intIn(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) bad(field, `${JSON.stringify(v)} is not an integer`);
  if (v < min || v > max) bad(field, `${v} is not in [${min}, ${max}]`);
  return v;
}

function duration(v: unknown, field: string, allowOff: boolean): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) bad(field, `${v} is not a duration in ms`);
    return Math.round(v);
  }
  if (typeof v !== 'string') bad(field, `${JSON.stringify(v)} is not a duration`);
  if (allowOff && v.trim().toLowerCase() === 'off') return 0;
  try {
    return parseDurationMs(v, field);
  } catch (e) {
    throw new LabError('LAB_ERR_CONFIG', (e as Error).message, { field });
  }
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const PREFIX_RE = /^[A-Za-z0-9_.-]{0,64}$/;

/** A hostname is not always a valid pod-id prefix (or file name); keep what is safe. */
export function defaultName(): string {
  const h = hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 64);
  return h.length > 0 ? h : 'producer';
}

export function parseStatsdTarget(
  text: string,
  field = 'statsd',
): { transport: Transport; host: string; port: number } {
  const m = /^(udp|tcp|otlp):\/\/(.+)$/.exec(text.trim());
  if (!m) bad(field, `"${text}" is not udp://HOST:PORT, tcp://HOST:PORT or otlp://HOST:PORT`);
  let hp: { host: string; port: number };
  try {
    hp = parseHostPort(m[2]!, field);
  } catch (e) {
    throw new LabError('LAB_ERR_CONFIG', (e as Error).message, { field });
  }
  if (hp.port === 0) bad(field, `"${text}": port 0 is not a destination`);
  return { transport: m[1] as Transport, ...hp };
}

/** Where an OTLP/HTTP exporter posts metrics for a receiver at host:port (the OTLP/HTTP default path). */
export function otlpMetricsUrl(host: string, port: number): string {
  return `http://${formatHostPort({ host, port })}/v1/metrics`;
}

/** The OTLP receiver's port when only a StatsD target is given: OTLP/HTTP's registered port. */
export const OTLP_DEFAULT_PORT = 4318;

/** `http://HOST:PORT[/PATH]` (path default /v1/metrics); no https, no credentials, no port 0. */
export function parseOtlpUrl(text: string, field = 'otlpUrl'): string {
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    bad(field, `"${text}" is not a URL (http://HOST:PORT/v1/metrics)`);
  }
  if (u.protocol !== 'http:') bad(field, `"${text}": only http:// is supported`);
  if (u.username !== '' || u.password !== '')
    bad(field, `"${text}": credentials are not accepted in the URL`);
  if (u.port === '' || u.port === '0') bad(field, `"${text}": give an explicit port (not 0)`);
  if (u.search !== '' || u.hash !== '') bad(field, `"${text}": no query or fragment`);
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '/v1/metrics' : u.pathname}`;
}

export const DEFAULTS: Readonly<Omit<ProducerConfig, 'name' | 'podPrefix'>> = Object.freeze({
  pods: 50,
  http: '127.0.0.1:9100',
  statsd: 'udp://127.0.0.1:8125',
  otlpUrl: null,
  otlpTemporality: 'cumulative',
  seed: 42,
  profile: 'market-open',
  fleetPods: 1400,
  pushMode: 'per-event',
  jitter: true,
  flushInterval: '10s',
  heartbeat: '5s',
  sdDir: null,
  advertise: null,
  tickMs: 10,
  costSampleEvery: 16,
  maxOrdersPerTick: 20_000,
  maxTickMs: 50,
  processMetrics: true,
  maxConnections: 0,
});

/** Validates a (partial) config once; unknown keys are rejected. Returns a frozen ResolvedConfig. */
export function resolveConfig(input: Partial<ProducerConfig>, name: Namer = camel): ResolvedConfig {
  if (typeof input !== 'object' || input === null) bad('config', 'is not an object');
  for (const k of Object.keys(input))
    if (!KEYS.includes(k as keyof ProducerConfig))
      bad(k, `unknown configuration key; known: ${KEYS.join(', ')}`);
  const c: Partial<ProducerConfig> & typeof DEFAULTS = {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
  };

  const pods = intIn(c.pods, name('pods'), 1, MAX_PODS);
  let http: { host: string; port: number };
  try {
    http = parseHostPort(String(c.http), name('http'));
  } catch (e) {
    throw new LabError('LAB_ERR_CONFIG', (e as Error).message, { field: name('http') });
  }
  const statsd = parseStatsdTarget(String(c.statsd), name('statsd'));
  const otlpUrl =
    c.otlpUrl !== null && c.otlpUrl !== ''
      ? parseOtlpUrl(String(c.otlpUrl), name('otlpUrl'))
      : otlpMetricsUrl(statsd.host, statsd.transport === 'otlp' ? statsd.port : OTLP_DEFAULT_PORT);
  if (!OTLP_TEMPORALITIES.includes(c.otlpTemporality as OtlpTemporality))
    bad(
      name('otlpTemporality'),
      `${JSON.stringify(c.otlpTemporality)} is not one of ${OTLP_TEMPORALITIES.join(', ')}`,
    );
  const nm = c.name ?? defaultName();
  if (typeof nm !== 'string' || !NAME_RE.test(nm))
    bad(name('name'), `${JSON.stringify(nm)} is not a name ([A-Za-z0-9_.-], 1-64 chars)`);
  const podPrefix = c.podPrefix ?? podPrefixOf(nm);
  if (typeof podPrefix !== 'string' || !PREFIX_RE.test(podPrefix))
    bad(
      name('podPrefix'),
      `${JSON.stringify(podPrefix)} is not a pod id prefix ([A-Za-z0-9_.-], 0-64 chars)`,
    );
  const seed = intIn(c.seed, name('seed'), 0, 2 ** 32 - 1);
  const profile =
    typeof c.profile === 'string' ? loadProfile(c.profile) : validateProfile(c.profile, 'profile');
  const fleetPods = intIn(c.fleetPods, name('fleetPods'), 1, 10_000_000);
  if (!PUSH_MODES.includes(c.pushMode as PushMode))
    bad(name('pushMode'), `"${String(c.pushMode)}" is not one of ${PUSH_MODES.join(', ')}`);
  let jitter: boolean;
  if (c.jitter === true || c.jitter === 'on') jitter = true;
  else if (c.jitter === false || c.jitter === 'off') jitter = false;
  else bad(name('jitter'), `${JSON.stringify(c.jitter)} is not on/off`);
  const flushIntervalMs = duration(c.flushInterval, name('flushInterval'), false);
  if (flushIntervalMs < MIN_FLUSH_INTERVAL_MS || flushIntervalMs > MAX_INTERVAL_MS)
    bad(
      name('flushInterval'),
      `${flushIntervalMs} ms is not in [${MIN_FLUSH_INTERVAL_MS}, ${MAX_INTERVAL_MS}]`,
    );
  const heartbeatMs = duration(c.heartbeat, name('heartbeat'), true);
  if (heartbeatMs !== 0 && (heartbeatMs < MIN_FLUSH_INTERVAL_MS || heartbeatMs > MAX_INTERVAL_MS))
    bad(
      name('heartbeat'),
      `${heartbeatMs} ms is not off or in [${MIN_FLUSH_INTERVAL_MS}, ${MAX_INTERVAL_MS}]`,
    );
  const sdDir = c.sdDir === null || c.sdDir === '' ? null : c.sdDir;
  if (sdDir !== null && typeof sdDir !== 'string') bad(name('sdDir'), 'is not a directory path');
  let advertise: string | null = null;
  if (c.advertise !== null && c.advertise !== '') {
    try {
      const a = parseHostPort(String(c.advertise), name('advertise'));
      advertise = formatHostPort(a);
    } catch (e) {
      throw new LabError('LAB_ERR_CONFIG', (e as Error).message, { field: name('advertise') });
    }
  }
  const tickMs = intIn(c.tickMs, name('tickMs'), 1, 1000);
  const costSampleEvery = intIn(c.costSampleEvery, name('costSampleEvery'), 1, 1_000_000);
  const maxOrdersPerTick = intIn(c.maxOrdersPerTick, name('maxOrdersPerTick'), 1, 10_000_000);
  const maxTickMs = intIn(c.maxTickMs, name('maxTickMs'), 1, 10_000);
  if (typeof c.processMetrics !== 'boolean') bad(name('processMetrics'), 'is not a boolean');
  const maxConnections = intIn(c.maxConnections, name('maxConnections'), 0, 1_000_000);

  return Object.freeze({
    pods,
    http: Object.freeze(http),
    statsd: Object.freeze(statsd),
    otlpUrl,
    otlpTemporality: c.otlpTemporality as OtlpTemporality,
    name: nm,
    podPrefix,
    seed,
    profile,
    fleetPods,
    pushMode: c.pushMode as PushMode,
    jitter,
    flushIntervalMs,
    heartbeatMs,
    sdDir,
    advertise,
    tickMs,
    costSampleEvery,
    maxOrdersPerTick,
    maxTickMs,
    processMetrics: c.processMetrics,
    maxConnections: maxConnections === 0 ? maxConnectionsFor(pods) : maxConnections,
  });
}

/**
 * Default connection limit. Prometheus keeps one keep-alive connection per target and every pod is a target,
 * so a fleet scraped by Prometheus and by the lab's own synchronised scraper holds up to 2 per pod; 64 more
 * for the control API, /metrics and probes. Past it the kernel's accepted connection is closed at once:
 * a scraper sees a refused scrape (counted as a failed scrape) instead of the process running out of files.
 */
export function maxConnectionsFor(pods: number): number {
  return 2 * pods + 64;
}

export function podIds(cfg: Pick<ResolvedConfig, 'pods' | 'podPrefix'>): string[] {
  return podIdsOf('', cfg.pods, cfg.podPrefix);
}

/** CLI flags (serve and job); each also an env var. Values are turned into ProducerConfig by main.ts. */
export const SERVE_FLAGS: FlagSpecs = {
  pods: { kind: 'int', env: 'PRODUCER_PODS', default: 50, min: 1, max: MAX_PODS, help: 'virtual pods' },
  http: { kind: 'string', env: 'PRODUCER_HTTP', default: '127.0.0.1:9100', help: 'HTTP listen HOST:PORT' },
  statsd: {
    kind: 'string',
    env: 'PRODUCER_STATSD',
    default: 'udp://127.0.0.1:8125',
    help: 'push target udp://HOST:PORT, tcp://HOST:PORT or otlp://HOST:PORT',
  },
  'otlp-url': {
    kind: 'string',
    env: 'PRODUCER_OTLP_URL',
    help: 'OTLP endpoint http://HOST:PORT/v1/metrics (default: from otlp:// --statsd, else its host, port 4318)',
  },
  'otlp-temporality': {
    kind: 'string',
    env: 'PRODUCER_OTLP_TEMPORALITY',
    default: 'cumulative',
    choices: OTLP_TEMPORALITIES,
    help: 'OTLP aggregation temporality',
  },
  name: { kind: 'string', env: 'PRODUCER_NAME', help: 'producer name (default: hostname)' },
  'pod-prefix': { kind: 'string', env: 'PRODUCER_POD_PREFIX', help: 'pod id prefix (default: NAME-p)' },
  seed: { kind: 'int', env: 'PRODUCER_SEED', default: 42, min: 0, max: 2 ** 32 - 1, help: 'workload seed' },
  profile: {
    kind: 'string',
    env: 'PRODUCER_PROFILE',
    default: 'market-open',
    help: 'market-open | steady | FILE.json',
  },
  'fleet-pods': {
    kind: 'int',
    env: 'PRODUCER_FLEET_PODS',
    default: 1400,
    min: 1,
    help: 'pods the fleet rate is divided by',
  },
  'push-mode': {
    kind: 'string',
    env: 'PRODUCER_PUSH_MODE',
    default: 'per-event',
    choices: PUSH_MODES,
    help: 'push mode',
  },
  jitter: {
    kind: 'bool',
    env: 'PRODUCER_JITTER',
    default: true,
    help: 'per-pod random flush offset (on|off)',
  },
  'flush-interval': {
    kind: 'string',
    env: 'PRODUCER_FLUSH_INTERVAL',
    default: '10s',
    help: 'buffered/aggregated flush interval',
  },
  heartbeat: { kind: 'string', env: 'PRODUCER_HEARTBEAT', default: '5s', help: 'heartbeat period or off' },
  'sd-dir': { kind: 'string', env: 'PRODUCER_SD_DIR', help: 'write DIR/<name>.json (Prometheus file_sd)' },
  advertise: {
    kind: 'string',
    env: 'PRODUCER_ADVERTISE',
    help: 'HOST:PORT written to the sd file (default: listen address, or first non-internal IPv4)',
  },
  help: { kind: 'bool', default: false, help: 'print this help' },
};

export const JOB_FLAGS: FlagSpecs = {
  ...SERVE_FLAGS,
  duration: { kind: 'string', env: 'PRODUCER_DURATION', default: '8s', help: 'how long the job runs' },
  pushgateway: {
    kind: 'string',
    env: 'PRODUCER_PUSHGATEWAY',
    help: 'Pushgateway URL for the final metrics (grouping key job=<name>)',
  },
};

/** TEST ONLY: PUSHPULL_TEST_CLOCK_SKEW_MS, an integer in [-600000, 600000] (0 or unset: none). */
export function testClockSkewMs(env: NodeJS.ProcessEnv): number {
  const raw = env[TEST_CLOCK_SKEW_ENV];
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || Math.abs(n) > 600_000)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `${TEST_CLOCK_SKEW_ENV}: "${raw}" is not an integer number of milliseconds in [-600000, 600000]`,
      { flag: TEST_CLOCK_SKEW_ENV, value: raw },
    );
  return n;
}
