import { hostname } from 'node:os';
import {
  type FlagSpecs,
  type FlagValues,
  formatHostPort,
  LabError,
  MAX_INTERVAL_MS,
  MAX_PODS,
  MIN_FLUSH_INTERVAL_MS,
  type OtlpTemporality,
  PRODUCER_OPTION_KEYS,
  PRODUCER_OPTIONS,
  type ProducerOptionDef,
  type ProducerOptionKey,
  parseDurationMs,
  parseHostPort,
  podIdsOf,
  podPrefixOf,
  producerFlagSpecs,
  TEST_CLOCK_SKEW_ENV,
  TRANSPORTS,
  type Transport,
} from '@pushpull/common';
import { loadProfile, type Profile, validateProfile } from './model/profile.ts';
import type { PushMode } from './push/pusher.ts';

// Configuration: the options table (@pushpull/common PRODUCER_OPTIONS) declares every option once; the
// config type, DEFAULTS, the CLI flags and their env vars derive from it, and resolveConfig validates each
// option by its kind, once, then freezes. Nothing downstream re-checks it.

type InputOf<D> = D extends { kind: 'int' }
  ? number
  : D extends { kind: 'bool' }
    ? boolean | 'on' | 'off'
    : D extends { kind: 'duration' | 'duration-or-off' }
      ? /** Duration text (`10s`; `off` where allowed) or milliseconds (0 = off). */ string | number
      : D extends { kind: 'choice'; choices: readonly (infer C)[] }
        ? C
        : D extends { kind: 'profile' }
          ? /** `market-open`, `steady`, a path to a JSON profile, or a profile object. */ string | Profile
          : D extends { default: null }
            ? string | null
            : string;

/** What createProducer takes (every key of the table; camelCase). */
export type ProducerConfig = {
  -readonly [K in ProducerOptionKey]: InputOf<(typeof PRODUCER_OPTIONS)[K]>;
};
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

export { MAX_INTERVAL_MS, MAX_PODS, MIN_FLUSH_INTERVAL_MS };

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
  const m = /^([a-z]+):\/\/(.+)$/.exec(text.trim());
  const transport = TRANSPORTS.find((t) => t === m?.[1]);
  if (!m || transport === undefined)
    bad(field, `"${text}" is not ${TRANSPORTS.map((t) => `${t}://HOST:PORT`).join(', ')}`);
  let hp: { host: string; port: number };
  try {
    hp = parseHostPort(m[2]!, field);
  } catch (e) {
    throw new LabError('LAB_ERR_CONFIG', (e as Error).message, { field });
  }
  if (hp.port === 0) bad(field, `"${text}": port 0 is not a destination`);
  return { transport, ...hp };
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

/** Each option's default (the table's; `name`, `podPrefix`, `otlpUrl` … derive from others when absent). */
export const DEFAULTS: Readonly<Partial<ProducerConfig>> = Object.freeze(
  Object.fromEntries(
    PRODUCER_OPTION_KEYS.filter((k) => PRODUCER_OPTIONS[k].default !== null).map((k) => [
      k,
      PRODUCER_OPTIONS[k].default,
    ]),
  ),
);

/** Reads and checks one option of the merged input by its table entry (limits, choices). */
class Fields {
  constructor(
    private readonly c: Partial<ProducerConfig>,
    private readonly name: Namer,
  ) {}
  private raw(k: ProducerOptionKey): unknown {
    return this.c[k] ?? null;
  }
  int(k: ProducerOptionKey): number {
    const o: ProducerOptionDef = PRODUCER_OPTIONS[k];
    return intIn(this.raw(k), this.name(k), o.min ?? 0, o.max ?? Number.MAX_SAFE_INTEGER);
  }
  bool(k: ProducerOptionKey): boolean {
    const v = this.raw(k);
    if (v === true || v === 'on') return true;
    if (v === false || v === 'off') return false;
    return bad(this.name(k), `${JSON.stringify(v)} is not on/off`);
  }
  choice<K extends 'otlpTemporality' | 'pushMode'>(k: K): ProducerConfig[K] {
    const v = this.raw(k);
    const choices: readonly unknown[] = PRODUCER_OPTIONS[k].choices;
    if (!choices.includes(v)) bad(this.name(k), `${JSON.stringify(v)} is not one of ${choices.join(', ')}`);
    return v as ProducerConfig[K];
  }
  /** null when absent (or empty) and the table has no default. */
  address(k: 'http' | 'advertise'): { host: string; port: number } | null {
    const v = this.raw(k);
    if (v === null || v === '') return null;
    try {
      return parseHostPort(String(v), this.name(k));
    } catch (e) {
      throw new LabError('LAB_ERR_CONFIG', (e as Error).message, { field: this.name(k) });
    }
  }
  text(k: 'name' | 'podPrefix' | 'sdDir', re: RegExp, what: string): string | null {
    const v = this.raw(k);
    if (v === null || (k === 'sdDir' && v === '')) return null;
    if (typeof v !== 'string' || !re.test(v)) bad(this.name(k), `${JSON.stringify(v)} is not ${what}`);
    return v;
  }
  duration(k: 'flushInterval' | 'heartbeat'): number {
    const o: ProducerOptionDef = PRODUCER_OPTIONS[k];
    const off = o.kind === 'duration-or-off';
    const ms = duration(this.raw(k), this.name(k), off);
    if ((off && ms === 0) || (ms >= (o.min ?? 0) && ms <= (o.max ?? Number.MAX_SAFE_INTEGER))) return ms;
    return bad(this.name(k), `${ms} ms is not ${off ? 'off or ' : ''}in [${o.min}, ${o.max}]`);
  }
  statsd(): ResolvedConfig['statsd'] {
    return parseStatsdTarget(String(this.raw('statsd')), this.name('statsd'));
  }
  otlpUrl(statsd: ResolvedConfig['statsd']): string {
    const v = this.raw('otlpUrl');
    if (v !== null && v !== '') return parseOtlpUrl(String(v), this.name('otlpUrl'));
    return otlpMetricsUrl(statsd.host, statsd.transport === 'otlp' ? statsd.port : OTLP_DEFAULT_PORT);
  }
  profile(): Readonly<Profile> {
    const v = this.raw('profile');
    return typeof v === 'string' ? loadProfile(v) : validateProfile(v, 'profile');
  }
}

function checkInput(input: Partial<ProducerConfig>): Partial<ProducerConfig> {
  if (typeof input !== 'object' || input === null) bad('config', 'is not an object');
  for (const k of Object.keys(input))
    if (!(PRODUCER_OPTION_KEYS as string[]).includes(k))
      bad(k, `unknown configuration key; known: ${PRODUCER_OPTION_KEYS.join(', ')}`);
  return { ...DEFAULTS, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };
}

/** Validates a (partial) config once; unknown keys are rejected. Returns a frozen ResolvedConfig. */
export function resolveConfig(input: Partial<ProducerConfig>, name: Namer = camel): ResolvedConfig {
  const f = new Fields(checkInput(input), name);
  const pods = f.int('pods');
  const statsd = f.statsd();
  const nm = f.text('name', NAME_RE, 'a name ([A-Za-z0-9_.-], 1-64 chars)') ?? defaultName();
  const advertise = f.address('advertise');
  const maxConnections = f.int('maxConnections');
  return Object.freeze({
    pods,
    http: Object.freeze(f.address('http') ?? bad(name('http'), 'is required')),
    statsd: Object.freeze(statsd),
    otlpUrl: f.otlpUrl(statsd),
    otlpTemporality: f.choice('otlpTemporality'),
    name: nm,
    podPrefix:
      f.text('podPrefix', PREFIX_RE, 'a pod id prefix ([A-Za-z0-9_.-], 0-64 chars)') ?? podPrefixOf(nm),
    seed: f.int('seed'),
    profile: f.profile(),
    fleetPods: f.int('fleetPods'),
    pushMode: f.choice('pushMode'),
    jitter: f.bool('jitter'),
    flushIntervalMs: f.duration('flushInterval'),
    heartbeatMs: f.duration('heartbeat'),
    sdDir: f.text('sdDir', /^/, 'a directory path'),
    advertise: advertise === null ? null : formatHostPort(advertise),
    tickMs: f.int('tickMs'),
    costSampleEvery: f.int('costSampleEvery'),
    maxOrdersPerTick: f.int('maxOrdersPerTick'),
    maxTickMs: f.int('maxTickMs'),
    processMetrics: f.bool('processMetrics'),
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

/** CLI flags (serve and job), from the options table; each also an env var. main.ts maps them back by table. */
const HELP_FLAG: FlagSpecs = { help: { kind: 'bool', default: false, help: 'print this help' } };

export const SERVE_FLAGS: FlagSpecs = { ...producerFlagSpecs('serve'), ...HELP_FLAG };

/** Parsed flag values (by flag name) as config input (by key). */
export function inputFromFlags(flags: FlagValues): Partial<ProducerConfig> {
  const input: Record<string, unknown> = {};
  for (const key of PRODUCER_OPTION_KEYS) {
    const flag: string | undefined = (PRODUCER_OPTIONS[key] as ProducerOptionDef).flag;
    if (flag !== undefined && flags[flag] !== undefined) input[key] = flags[flag];
  }
  return input as Partial<ProducerConfig>;
}

export const JOB_FLAGS: FlagSpecs = { ...producerFlagSpecs('job'), ...HELP_FLAG };

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
