import { LabError, OTLP_TEMPORALITIES, type PushSettings, TRANSPORTS } from '@pushpull/common';
import { parse } from 'yaml';
import { transportOf } from '../core/transports.ts';
import { AGENT_MODE_PARAMS, checkAgentScenario } from './agents-scenario.ts'; // #29
import { checkPushAgentScenario, PUSH_AGENT_PARAMS } from './modes/push-agent-scenario.ts';
import { checkPairScenario } from './pair-scenario.ts';
import { isObj, type Obj, type Range, Reader } from './scenario-reader.ts';

// A drill scenario is data (lab/scenarios/<name>.yml): fleet, workload profile, push settings, the fault
// schedule and the expectations the integration tests assert. The measurement logic per failure mode is
// code (lab/src/drill/modes/*), selected by `mode`. Validated once here — unknown keys rejected, every
// error names the file and the field — then frozen.

export const FAILURE_MODES = [
  'target-dies',
  'network-partition',
  'short-lived-job',
  'synchronised-flush',
  'scrape-storm',
  'body-balloon',
  // #26: a whole producer node cut off / lost (swarm runtime on worker nodes `nodes up` made).
  'node-partition',
  'node-loss',
  'agent-dies', // #27
  'central-down', // #27
  'agent-partition', // #27
  'replica-dies', // #28: a replica of the Prometheus pair SIGKILLed at the peak (column pull-pair)
  'replica-paused', // #28: a replica of the Prometheus pair SIGSTOPped, then SIGCONTed (column pull-pair)
  'central-store-down', // #29: pull through per-host agents — the agents column
  'pull-agent-dies', // #29
  'pull-agent-partition', // #29
] as const;

/** The modes that act on a worker node rather than a producer: they need `nodes up` workers on swarm. */
export const NODE_MODES: readonly FailureMode[] = ['node-partition', 'node-loss'];

/** The producers' restart policies a node drill may ask for (both let swarm reschedule; `none` would not). */
export const NODE_RESTART_POLICIES = ['any', 'on-failure'] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];

export const COLUMNS = [
  'pull',
  'push-udp',
  'push-tcp',
  'push-otlp',
  'push-agent', // #27
  'pull-pair', // #28: pull through the Prometheus pair (`2 replicas`)
  'agents', // #29: pull through per-host agents (agents → remote_write)
] as const;
export type Column = (typeof COLUMNS)[number];

export type FaultAction = 'kill' | 'pause' | 'resume' | 'partition' | 'heal' | 'restart';

export interface Fault {
  atMs: number;
  action: FaultAction;
  /** Producer member index (0-based) the fault hits. */
  producer: number;
  /** #28: the pull replica (1-based, its `replica` label) the fault hits instead of a producer (pair modes). */
  replica?: number;
}

/** A variant's push settings: the producer's own (wire contract, @pushpull/common). */
export type { PushSettings };

export interface Variant {
  name: string;
  column: Column;
  push: PushSettings;
}

export interface Expectation {
  column: Column;
  variant?: string;
  /** detectedWithinMs: detection time ≤ value; never: no detection in the window; lostAtMost/lostAtLeast in %. */
  detectedWithinMs?: number;
  never?: boolean;
  lostPctAtMost?: number;
  lostPctAtLeast?: number;
  /** Mode-specific numeric fact (e.g. peakRatio for synchronised flush), compared with >=. */
  metricAtLeast?: { name: string; value: number };
}

export interface Scenario {
  name: string;
  title: string;
  mode: FailureMode;
  description: string;
  pods: number;
  podsPerProducer: number;
  scrapeIntervalMs: number;
  profile: 'steady' | 'market-open';
  warmupMs: number;
  observeMs: number;
  variants: Variant[];
  faults: Fault[];
  /** Mode-specific knobs, kept as written (the mode interprets them); names and ranges checked here. */
  params: Record<string, number | string | boolean>;
  expect: Expectation[];
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Every duration and number a scenario sets has a range, checked at load time. The bounds are sane rather
 * than tight — each shipped scenario sits well inside them — and follow the tools that later consume the
 * value: the scrape interval the CLI's --scrape-interval range, push intervals the producer's 100 ms floor.
 * A drill window longer than an hour is a typo, not a drill.
 */
const LIMITS = {
  scrapeInterval: { min: SECOND, max: 5 * MINUTE },
  warmup: { min: 0, max: HOUR },
  observe: { min: SECOND, max: HOUR },
  pushInterval: { min: 100, max: 5 * MINUTE },
  detectedWithin: { min: SECOND, max: HOUR },
  jobDuration: { min: SECOND, max: 10 * MINUTE },
  bodySizeLimit: { min: 0, max: 1 << 30 },
  otlpMaxInflight: { min: 1024, max: 1 << 30 },
} as const satisfies Record<string, Range>;

/** The knobs each mode reads from `params` (all others are typos), each with its check. */
const MODE_PARAMS: Record<FailureMode, Record<string, (r: Reader, key: string) => unknown>> = {
  'target-dies': {},
  'network-partition': {},
  'short-lived-job': { jobDuration: (r, k) => r.durationIn(k, LIMITS.jobDuration) },
  // The OTLP receiver's in-flight byte budget (collector --otlp-max-inflight-bytes) for the whole stack.
  'synchronised-flush': { otlpMaxInflight: (r, k) => r.sizeIn(k, LIMITS.otlpMaxInflight) },
  'scrape-storm': {},
  // 0 is Prometheus' own "no limit" for both.
  'body-balloon': {
    sampleLimit: (r, k) => r.int(k, 0, 10_000_000),
    bodySizeLimit: (r, k) => r.sizeIn(k, LIMITS.bodySizeLimit),
  },
  'node-partition': { restart: (r, k) => r.choice(k, NODE_RESTART_POLICIES) },
  'node-loss': { restart: (r, k) => r.choice(k, NODE_RESTART_POLICIES) },
  'agent-dies': PUSH_AGENT_PARAMS['agent-dies'], // #27
  'central-down': PUSH_AGENT_PARAMS['central-down'], // #27
  'agent-partition': PUSH_AGENT_PARAMS['agent-partition'], // #27
  'replica-dies': {}, // #28
  'replica-paused': {}, // #28
  ...AGENT_MODE_PARAMS, // #29
};

const PUSH_KEYS = ['mode', 'transport', 'jitter', 'heartbeat', 'flushInterval', 'temporality'] as const;

function readPush(r: Reader, base?: PushSettings): PushSettings {
  const push: PushSettings = {
    mode: r.has('mode')
      ? r.choice('mode', ['per-event', 'buffered', 'aggregated', 'off'])
      : (base?.mode ?? 'per-event'),
    transport: r.has('transport') ? r.choice('transport', TRANSPORTS) : (base?.transport ?? 'udp'),
    jitter: r.has('jitter') ? r.bool('jitter', true) : (base?.jitter ?? true),
    heartbeatMs: r.has('heartbeat')
      ? r.durationOrOffIn('heartbeat', LIMITS.pushInterval, '5s')
      : (base?.heartbeatMs ?? 5000),
    flushIntervalMs: r.has('flushInterval')
      ? r.durationIn('flushInterval', LIMITS.pushInterval)
      : (base?.flushIntervalMs ?? 10_000),
  };
  // OTLP only (the export's aggregation temporality); absent = the SDK's default, cumulative.
  const temporality = r.has('temporality')
    ? r.choice('temporality', OTLP_TEMPORALITIES)
    : base?.otlpTemporality;
  if (temporality !== undefined) {
    if (!transportOf(push.transport).sdk) r.fail('temporality', 'applies to transport otlp only');
    push.otlpTemporality = temporality;
  }
  return push;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

const TOP_KEYS = [
  'name',
  'title',
  'mode',
  'description',
  'fleet',
  'scrapeInterval',
  'profile',
  'warmup',
  'observe',
  'push',
  'variants',
  'faults',
  'params',
  'expect',
] as const;

const EXPECT_KEYS = [
  'column',
  'variant',
  'detectedWithin',
  'never',
  'lostPctAtMost',
  'lostPctAtLeast',
  'metricAtLeast',
] as const;

function readYaml(text: string, file: string): Obj {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new LabError('LAB_ERR_SCENARIO', `${file}: not valid YAML: ${(e as Error).message}`);
  }
  if (!isObj(doc)) throw new LabError('LAB_ERR_SCENARIO', `${file}: top level must be a mapping`);
  return doc;
}

function readFleet(r: Reader): { pods: number; podsPerProducer: number; producers: number } {
  const fleet = r.child('fleet', ['pods', 'podsPerProducer']);
  const pods = fleet.int('pods', 1, 20_000);
  const podsPerProducer = fleet.int('podsPerProducer', 1, 2000, Math.min(pods, 50));
  return { pods, podsPerProducer, producers: Math.ceil(pods / podsPerProducer) };
}

/** The grid columns: at least one, names unique; each variant's push overrides the scenario's. */
function readVariants(r: Reader, basePush: PushSettings): Variant[] {
  const variants: Variant[] = r.list('variants').map((v, i) => {
    const vr = r.at('variants', i, v, ['name', 'column', 'push']);
    const variant: Variant = {
      name: vr.str('name'),
      column: vr.choice('column', COLUMNS),
      push: readPush(vr.child('push', PUSH_KEYS), basePush),
    };
    // The OTLP column is the OTLP transport and nothing else: a cell must say which path it measured.
    if ((variant.column === 'push-otlp') !== (transportOf(variant.push.transport).column === 'push-otlp'))
      vr.fail(
        'column',
        variant.column === 'push-otlp'
          ? 'column push-otlp needs push.transport otlp'
          : `transport otlp belongs in column push-otlp, not ${variant.column}`,
      );
    return variant;
  });
  if (variants.length === 0) r.fail('variants', 'at least one variant (a grid column) is required');
  const names = new Set<string>();
  for (const v of variants) {
    if (names.has(v.name)) r.fail('variants', `duplicate variant name "${v.name}"`);
    names.add(v.name);
  }
  return variants;
}

function readFaults(r: Reader, observeMs: number, producers: number): Fault[] {
  return r.list('faults').map((f, i) => {
    const fr = r.at('faults', i, f, ['at', 'action', 'producer', 'replica']);
    const atMs = fr.duration('at');
    if (atMs > observeMs)
      fr.fail('at', `fault at ${atMs} ms is after the observation window (${observeMs} ms)`);
    return {
      atMs,
      action: fr.choice('action', ['kill', 'pause', 'resume', 'partition', 'heal', 'restart']),
      producer: fr.int('producer', 0, producers - 1, 0),
      ...(fr.has('replica') ? { replica: fr.int('replica', 1, 2) } : {}), // #28
    };
  });
}

function readParams(r: Reader): Scenario['params'] {
  const paramsRaw = r.raw('params') ?? {};
  if (!isObj(paramsRaw)) r.fail('params', 'must be a mapping');
  const params: Record<string, number | string | boolean> = {};
  for (const [k, v] of Object.entries(paramsRaw)) {
    if (typeof v !== 'number' && typeof v !== 'string' && typeof v !== 'boolean')
      r.fail(`params.${k}`, 'must be a number, string or boolean');
    params[k] = v;
  }
  return params;
}

/** Only the knobs the mode reads, each in its range (params were type-checked by readParams). */
function checkModeParams(r: Reader, mode: FailureMode): void {
  const checks = MODE_PARAMS[mode];
  const pr = r.child('params', Object.keys(checks));
  for (const [key, check] of Object.entries(checks)) if (pr.has(key)) check(pr, key);
}

function readExpectation(er: Reader, variantNames: ReadonlySet<string>): Expectation {
  const x: Expectation = { column: er.choice('column', COLUMNS) };
  if (er.has('variant')) {
    x.variant = er.str('variant');
    if (!variantNames.has(x.variant)) er.fail('variant', `no variant named "${x.variant}"`);
  }
  if (er.has('detectedWithin')) x.detectedWithinMs = er.durationIn('detectedWithin', LIMITS.detectedWithin);
  if (er.has('never')) x.never = er.bool('never', true);
  if (er.has('lostPctAtMost')) x.lostPctAtMost = er.numIn('lostPctAtMost', 0, 100);
  if (er.has('lostPctAtLeast')) x.lostPctAtLeast = er.numIn('lostPctAtLeast', 0, 100);
  if (er.has('metricAtLeast')) {
    const mr = er.child('metricAtLeast', ['name', 'value']);
    x.metricAtLeast = { name: mr.str('name'), value: mr.num('value') };
  }
  return x;
}

/** Parses and validates one scenario file's text. `file` is only used in messages. */
export function parseScenario(text: string, file: string): Scenario {
  const r = new Reader(file, '', readYaml(text, file), TOP_KEYS);
  // The order of the reads is the order errors are found in: fleet first, the header fields last.
  const { pods, podsPerProducer, producers } = readFleet(r);
  const basePush = readPush(r.child('push', PUSH_KEYS));
  const variants = readVariants(r, basePush);
  const variantNames = new Set(variants.map((v) => v.name));
  const observeMs = r.durationIn('observe', LIMITS.observe);
  const faults = readFaults(r, observeMs, producers);
  const params = readParams(r);
  const expect = r
    .list('expect')
    .map((e, i) => readExpectation(r.at('expect', i, e, EXPECT_KEYS), variantNames));
  const scenario: Scenario = {
    name: r.str('name'),
    title: r.str('title'),
    mode: r.choice('mode', FAILURE_MODES),
    description: r.str('description'),
    pods,
    podsPerProducer,
    scrapeIntervalMs: r.durationIn('scrapeInterval', LIMITS.scrapeInterval, '15s'),
    profile: r.choice('profile', ['steady', 'market-open'], 'steady'),
    warmupMs: r.durationIn('warmup', LIMITS.warmup, '10s'),
    observeMs,
    variants,
    faults,
    params,
    expect,
  };
  checkModeParams(r, scenario.mode);
  checkPushAgentScenario(r, scenario, producers); // #27
  checkPairScenario(r, scenario); // #28
  checkAgentScenario(r, scenario); // #29
  return deepFreeze(scenario);
}
