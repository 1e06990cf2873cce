import { type FlagSpecs, LabError, PUSH_MODES, parseArgs, TRANSPORTS } from '@pushpull/common';
import {
  COMMON_FLAGS,
  durationFlag,
  FLEET_FLAGS,
  INCIDENT_FLEET_PODS,
  RESOURCE_FLAGS,
  resourceFlags,
  thisHost,
} from '../core/flags.ts';
import type { BurstConfig, PushMode, Transport } from '../core/record.ts';
import { checkPlan, type ResourcePlan } from '../core/resources.ts';
import { type Criteria, DEFAULT_CRITERIA } from './criteria.ts';
import { DEFAULT_SCALING_CORES, planAt } from './scaling.ts';

// `capacity` flags → one frozen CapacityConfig, validated at the boundary (a bad flag fails in a second,
// not twenty minutes in).

export const CAPACITY_PATHS = ['pull', 'push', 'pushgateway'] as const;
export type CapacityPath = (typeof CAPACITY_PATHS)[number];

export const CAPACITY_FLAGS: FlagSpecs = {
  ...COMMON_FLAGS,
  ...RESOURCE_FLAGS,
  paths: {
    kind: 'string',
    env: 'LAB_CAPACITY_PATHS',
    default: 'pull,push,pushgateway',
    placeholder: 'LIST',
    help: 'the paths to size, comma-separated: pull (Prometheus scrapes the pods; push off), push (StatsD to the collector; the pods not scraped), pushgateway (a rate-driven pusher)',
  },
  budget: {
    kind: 'string',
    env: 'LAB_BUDGET',
    default: '20m',
    placeholder: 'D',
    help: 'hard stop for the whole search, split evenly across the paths (time a path leaves unused goes to the next); capacity.json is written within 60 s after it',
  },
  out: {
    kind: 'string',
    env: 'LAB_OUT',
    placeholder: 'DIR',
    defaultText: 'runs/capacity-<run id>',
    help: "output directory: capacity.json/.md/.html and one trial-NN-<path>-<load>/ per trial (each burst trial's run.json)",
  },
  'trial-duration': {
    kind: 'string',
    env: 'LAB_TRIAL_DURATION',
    default: '30s',
    placeholder: 'D',
    help: "each burst trial's window from the open (the profile's hold and decay compressed into it; the 800 ms ramp kept)",
  },
  'scrape-interval': {
    kind: 'string',
    env: 'LAB_SCRAPE_INTERVAL',
    default: '5s',
    placeholder: 'D',
    help: 'Prometheus scrape interval of every trial (timeout = min(10 s, interval))',
  },
  'start-pods': {
    kind: 'int',
    env: 'LAB_START_PODS',
    default: 20,
    min: 1,
    max: 20_000,
    help: 'first trial of each burst path',
  },
  'max-pods': {
    kind: 'int',
    env: 'LAB_MAX_PODS',
    default: INCIDENT_FLEET_PODS,
    min: 1,
    max: 20_000,
    help: 'largest fleet a trial may have (reaching it held: limitedBy "config")',
  },
  'pods-per-producer': FLEET_FLAGS['pods-per-producer']!,
  precision: {
    kind: 'number',
    env: 'LAB_PRECISION',
    default: 10,
    min: 1,
    max: 100,
    help: 'split the bracket until smallest failed / largest held ≤ 1 + this %',
  },
  replicates: {
    kind: 'int',
    env: 'LAB_REPLICATES',
    default: 3,
    min: 1,
    max: 9,
    help: 'K: trials per load level near the knee (a level holds when ⌈K/2⌉ hold; levels far from it get one)',
  },
  'push-mode': {
    kind: 'string',
    env: 'LAB_PUSH_MODE',
    default: 'per-event',
    choices: PUSH_MODES.filter((m) => m !== 'off'),
    help: 'how pods push StatsD in push trials',
  },
  transport: {
    kind: 'string',
    env: 'LAB_TRANSPORT',
    default: 'udp',
    choices: TRANSPORTS,
    help: 'push transport in push trials',
  },
  'max-push-loss': {
    kind: 'number',
    env: 'LAB_MAX_PUSH_LOSS',
    default: DEFAULT_CRITERIA.maxPushLossPct,
    min: 0,
    max: 100,
    help: 'push holds while it loses ≤ this % of orders',
  },
  'max-scrape-p99': {
    kind: 'number',
    env: 'LAB_MAX_SCRAPE_P99',
    default: DEFAULT_CRITERIA.maxScrapeP99Fraction,
    min: 0.01,
    max: 1,
    help: "pull (and the Pushgateway's scrape) holds while scrape p99 ≤ this fraction of the scrape timeout",
  },
  'max-visibility-lag': {
    kind: 'number',
    env: 'LAB_MAX_VISIBILITY_LAG',
    default: DEFAULT_CRITERIA.maxVisibilityIntervals,
    min: 0.1,
    max: 100,
    help: 'pull holds while stored data trails the orders by ≤ this many scrape intervals (p90)',
  },
  'max-unsent': {
    kind: 'number',
    env: 'LAB_MAX_UNSENT',
    default: DEFAULT_CRITERIA.maxUnsentPct,
    min: 0,
    max: 100,
    help: 'machine-limited when the load generator leaves more than this % of scheduled orders (pushes) unsent',
  },
  'min-host-mem': {
    kind: 'number',
    env: 'LAB_MIN_HOST_MEM',
    default: 1,
    min: 0,
    max: 1024,
    help: "machine-limited when the host's MemAvailable drops under this many GiB",
  },
  'max-push-latency': {
    kind: 'string',
    env: 'LAB_MAX_PUSH_LATENCY',
    default: '1s',
    placeholder: 'D',
    help: 'Pushgateway: holds while push latency p99 ≤ D',
  },
  'pgw-start-rate': {
    kind: 'int',
    env: 'LAB_PGW_START_RATE',
    default: 20,
    min: 1,
    max: 100_000,
    help: 'Pushgateway: first rate tried, pushes/s',
  },
  'pgw-max-rate': {
    kind: 'int',
    env: 'LAB_PGW_MAX_RATE',
    default: 40_000,
    min: 1,
    max: 100_000,
    help: 'Pushgateway: largest rate tried, pushes/s',
  },
  'pgw-step': {
    kind: 'string',
    env: 'LAB_PGW_STEP',
    default: '15s',
    placeholder: 'D',
    help: 'Pushgateway: how long each rate is held',
  },
  'pgw-groups': {
    kind: 'int',
    env: 'LAB_PGW_GROUPS',
    default: INCIDENT_FLEET_PODS,
    min: 1,
    max: 100_000,
    help: 'Pushgateway: distinct groups (pods) pushed, round robin',
  },
  'pgw-series': {
    kind: 'int',
    env: 'LAB_PGW_SERIES',
    default: 40,
    min: 1,
    max: 10_000,
    help: "Pushgateway: series per pushed group (a pod's steady order counters)",
  },
  scaling: {
    kind: 'string',
    env: 'LAB_SCALING',
    default: 'off',
    placeholder: 'off|on|CORES',
    help: 'pods per core: search each burst path at two receiver CPU budgets (on = 0.25,0.5 core for Prometheus on pull, the collector on push), report pods per budgeted core and linearity; the extrapolation uses pods per core where linear',
  },
  'fresh-stack': {
    kind: 'bool',
    env: 'LAB_FRESH_STACK',
    default: false,
    help: 'a fresh stack per burst trial (the behaviour before #25); by default each search keeps Prometheus, the collector and the Pushgateway up across its trials and restarts only the fleet',
  },
  'pgw-consistency-check': {
    kind: 'string',
    env: 'LAB_PGW_CONSISTENCY_CHECK',
    default: 'on',
    choices: ['on', 'off'],
    help: 'Pushgateway: off starts it with --push.disable-consistency-check (each push is then not checked against every group it holds)',
  },
  'fleet-pods': {
    kind: 'int',
    env: 'LAB_FLEET_PODS',
    default: INCIDENT_FLEET_PODS,
    min: 1,
    max: 1_000_000,
    help: 'the fleet the extrapolation sizes (the incident: 1,400 pods)',
  },
  seed: { kind: 'int', env: 'LAB_SEED', default: 42, min: 0, max: 2 ** 32 - 1, help: 'workload seed' },
};

export interface CapacityConfig {
  runtime: BurstConfig['runtime'];
  paths: CapacityPath[];
  budgetMs: number;
  out: string | null;
  trialDurationMs: number;
  scrapeIntervalMs: number;
  startPods: number;
  maxPods: number;
  podsPerProducer: number;
  precision: number;
  /** K: replicates per level near the knee. */
  replicates: number;
  pushMode: PushMode;
  transport: Transport;
  criteria: Criteria;
  pushgateway: {
    startRate: number;
    maxRate: number;
    stepMs: number;
    groups: number;
    seriesPerGroup: number;
    /** false: the Pushgateway runs with --push.disable-consistency-check. */
    consistencyCheck: boolean;
  };
  fleetPods: number;
  /** --scaling: the receiver budgets (cores, ascending) each burst path is searched at; null = off. */
  scaling: number[] | null;
  /** --fresh-stack: a new stack per burst trial instead of one per search (capacity/stack.ts). */
  freshStack: boolean;
  seed: number;
  stateDir: string | null;
  /** Every trial's CPU and memory plan (--cpus, --cpuset, --memory) and --throttled-share. */
  resources: ResourcePlan;
  throttledShare: number;
}

/** `--paths pull,push`: known names, no repeats, at least one. */
export function parsePaths(raw: string): CapacityPath[] {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = names.find((n) => !(CAPACITY_PATHS as readonly string[]).includes(n));
  if (bad !== undefined || names.length === 0 || new Set(names).size !== names.length)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--paths: "${raw}" must list one or more of ${CAPACITY_PATHS.join(', ')}, comma-separated, each once`,
      { flag: 'paths', value: raw },
    );
  return CAPACITY_PATHS.filter((p) => names.includes(p));
}

/** `--scaling off|on|0.25,0.5`: null, the default budgets, or two or more distinct budgets in cores. */
export function parseScaling(raw: string): number[] | null {
  const t = raw.trim();
  if (t === 'off') return null;
  if (t === 'on') return [...DEFAULT_SCALING_CORES];
  const cores = t.split(',').map((x) => Number(x.trim()));
  if (cores.length < 2 || cores.some((x) => !(x >= 0.05 && x <= 64)) || new Set(cores).size !== cores.length)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--scaling: "${raw}" must be off, on, or two or more distinct receiver budgets in cores (0.05..64), e.g. 0.25,0.5`,
      { flag: 'scaling', value: raw },
    );
  return cores.sort((a, b) => a - b);
}

export function parseCapacityFlags(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): { config: CapacityConfig; help: boolean } {
  const { flags, positionals } = parseArgs(argv, CAPACITY_FLAGS, env);
  if (positionals.length > 0)
    throw new LabError('LAB_ERR_FLAG_VALUE', `capacity: unexpected argument "${positionals[0]}"`, {
      value: positionals[0],
    });
  const num = (k: string) => Number(flags[k]);
  const startPods = num('start-pods');
  const maxPods = num('max-pods');
  if (startPods > maxPods)
    throw new LabError('LAB_ERR_FLAG_VALUE', `--start-pods ${startPods} is above --max-pods ${maxPods}`, {
      flag: 'start-pods',
      value: startPods,
    });
  if (num('pgw-start-rate') > num('pgw-max-rate'))
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--pgw-start-rate ${num('pgw-start-rate')} is above --pgw-max-rate ${num('pgw-max-rate')}`,
      { flag: 'pgw-start-rate', value: num('pgw-start-rate') },
    );
  const config: CapacityConfig = {
    runtime: flags.runtime as CapacityConfig['runtime'],
    paths: parsePaths(String(flags.paths)),
    budgetMs: durationFlag('budget', flags.budget, 30_000, 24 * 3_600_000),
    out: typeof flags.out === 'string' ? flags.out : null,
    trialDurationMs: durationFlag('trial-duration', flags['trial-duration'], 10_000, 600_000),
    scrapeIntervalMs: durationFlag('scrape-interval', flags['scrape-interval'], 1000, 60_000),
    startPods,
    maxPods,
    podsPerProducer: num('pods-per-producer'),
    precision: num('precision') / 100,
    replicates: num('replicates'),
    pushMode: flags['push-mode'] as PushMode,
    transport: flags.transport as Transport,
    criteria: Object.freeze({
      maxPushLossPct: num('max-push-loss'),
      maxScrapeP99Fraction: num('max-scrape-p99'),
      maxVisibilityIntervals: num('max-visibility-lag'),
      maxUnsentPct: num('max-unsent'),
      minHostMemAvailableBytes: num('min-host-mem') * 2 ** 30,
      maxPushLatencyP99S: durationFlag('max-push-latency', flags['max-push-latency'], 1, 60_000) / 1000,
    }),
    pushgateway: Object.freeze({
      startRate: num('pgw-start-rate'),
      maxRate: num('pgw-max-rate'),
      stepMs: durationFlag('pgw-step', flags['pgw-step'], 2000, 600_000),
      groups: num('pgw-groups'),
      seriesPerGroup: num('pgw-series'),
      consistencyCheck: flags['pgw-consistency-check'] !== 'off',
    }),
    fleetPods: num('fleet-pods'),
    scaling: parseScaling(String(flags.scaling)),
    freshStack: flags['fresh-stack'] === true,
    seed: num('seed'),
    stateDir: typeof flags['state-dir'] === 'string' ? flags['state-dir'] : null,
    ...resourceFlags(flags),
  };
  // Each --scaling plan is checked now (a bad plan fails in a second, not twenty minutes in).
  for (const cores of config.scaling ?? [])
    for (const path of config.paths)
      if (path !== 'pushgateway') checkPlan(planAt(config.resources, path, cores), thisHost());
  return { config: Object.freeze(config), help: flags.help === true };
}
