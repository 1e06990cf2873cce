import { availableParallelism } from 'node:os';
import { type FlagSpecs, LabError, PUSH_MODES, parseDurationMs } from '@pushpull/common';
import { hostMemory } from './host.ts';
import {
  type BurstConfig,
  type OtlpTemporality,
  type PushMode,
  RUNTIME_CHOICES,
  STORE_MODES,
  type StoreMode,
  type Transport,
} from './record.ts';
import {
  DEFAULT_THROTTLED_SHARE,
  defaultPlan,
  type HostResources,
  planLines,
  RESOURCE_COMPONENTS,
  type ResourcePlan,
  resolvePlan,
} from './resources.ts';

/** The push transports the lab drives end to end. */
export const LAB_TRANSPORTS: Transport[] = ['udp', 'tcp', 'otlp'];

// Flag specs shared by the verbs (each verb's cli.ts composes its own set), validated once at the
// boundary. Unknown flag / bad value → LabError naming it
// (exit code 2).

/**
 * Incident facts: 1,400 pods. The lab's default fleet (the same per-pod load) is sized so the generator holds
 * the profile's peak under the default resource plan on a 2-core machine: with 0.8 cores the producers
 * generated ~20k orders/s at the peak (2026-12-07; 140 pods fell 45% behind at the peak, 90 pods 17%), and
 * 60 pods schedule 16.3k/s there.
 */
export const INCIDENT_FLEET_PODS = 1400;
export const DEFAULT_PODS = 60;

export const COMMON_FLAGS: FlagSpecs = {
  runtime: {
    kind: 'string',
    env: 'LAB_RUNTIME',
    default: 'auto',
    choices: [...RUNTIME_CHOICES],
    help: 'where the stack runs: docker (containers), process (local binaries), swarm (a Docker Swarm; never chosen by auto), auto (docker if usable)',
  },
  'state-dir': {
    kind: 'string',
    env: 'LAB_STATE_DIR',
    placeholder: 'DIR',
    defaultText: '<repo>/.lab',
    help: 'where `up` records the running stack for status/scale/down',
  },
  help: { kind: 'bool', help: 'show help' },
};

export const PODS_FLAG: FlagSpecs = {
  pods: {
    kind: 'int',
    env: 'LAB_PODS',
    default: DEFAULT_PODS,
    min: 1,
    max: 20_000,
    help: `virtual pods (the incident had ${INCIDENT_FLEET_PODS}; per-pod load is always the incident's)`,
  },
};

export const FLEET_FLAGS: FlagSpecs = {
  'pods-per-producer': {
    kind: 'int',
    env: 'LAB_PODS_PER_PRODUCER',
    default: 50,
    min: 1,
    max: 2000,
    help: 'virtual pods hosted by one producer process/container',
  },
  'push-mode': {
    kind: 'string',
    env: 'LAB_PUSH_MODE',
    default: 'per-event',
    choices: [...PUSH_MODES],
    help: 'how pods push StatsD',
  },
  jitter: {
    kind: 'string',
    env: 'LAB_JITTER',
    default: 'on',
    choices: ['on', 'off'],
    help: 'random per-pod flush offset (off = every pod flushes on the same boundary)',
  },
  transport: {
    kind: 'string',
    env: 'LAB_TRANSPORT',
    default: 'udp',
    choices: LAB_TRANSPORTS,
    help: 'push transport: StatsD over UDP or TCP, or OTLP/HTTP (the OpenTelemetry SDK, one export per flush interval)',
  },
  'otlp-temporality': {
    kind: 'string',
    env: 'LAB_OTLP_TEMPORALITY',
    default: 'cumulative',
    choices: ['cumulative', 'delta'],
    help: 'OTLP sums and histograms (--transport otlp): cumulative heals a failed export with the next one; delta loses it',
  },
  seed: { kind: 'int', env: 'LAB_SEED', default: 42, min: 0, max: 2 ** 32 - 1, help: 'workload seed' },
};

export const STACK_FLAGS: FlagSpecs = {
  'scrape-interval': {
    kind: 'string',
    env: 'LAB_SCRAPE_INTERVAL',
    default: '15s',
    placeholder: 'D',
    help: 'Prometheus scrape interval (the incident: 15s); D is 800ms, 15s, 2m or bare seconds',
  },
  'node-exporter': {
    kind: 'string',
    env: 'LAB_NODE_EXPORTER',
    default: 'on',
    choices: ['on', 'off'],
    help: "node-exporter for the kernel's UDP counters (process runtime: it reads the host's namespace)",
  },
  store: {
    kind: 'string',
    env: 'LAB_STORE',
    default: 'per-path',
    choices: [...STORE_MODES],
    help: "per-path: pull's Prometheus scrapes the pods, push's own Prometheus (prometheus-push) the collector and Pushgateway; shared: one Prometheus stores both (smaller machines, comparison)",
  },
};

const COMPONENT_LIST = RESOURCE_COMPONENTS.join(', ');

/** CPU and memory per component (core/resources.ts), over the host's default plan. */
export const RESOURCE_FLAGS: FlagSpecs = {
  cpus: {
    kind: 'string',
    env: 'LAB_CPUS',
    placeholder: 'C=N,...',
    defaultText: "the host's plan (below)",
    help: `CPU quota in cores per component (${COMPONENT_LIST}), e.g. collector=0.2; "off" = no quotas`,
  },
  cpuset: {
    kind: 'string',
    env: 'LAB_CPUSET',
    placeholder: 'C=LIST,...',
    defaultText: "the host's plan (below)",
    help: 'cores per component, e.g. producers=0,collector=1; "off" = any core',
  },
  memory: {
    kind: 'string',
    env: 'LAB_MEMORY',
    placeholder: 'C=SIZE,...',
    defaultText: "the host's plan (below)",
    help: 'memory limit per component, e.g. collector=2GiB; "off" = no limits',
  },
  'throttled-share': {
    kind: 'number',
    env: 'LAB_THROTTLED_SHARE',
    default: DEFAULT_THROTTLED_SHARE,
    min: 0.01,
    max: 1,
    help: 'a component throttled in more than this share of its CFS periods ran out of its CPU budget',
  },
};

/** Every verb that starts a stack and a fleet (`up`, `burst`) takes these. */
export const STACK_START_FLAGS: FlagSpecs = {
  ...COMMON_FLAGS,
  ...PODS_FLAG,
  ...FLEET_FLAGS,
  ...STACK_FLAGS,
  ...RESOURCE_FLAGS,
};

/** This machine's cores and memory, for the default plan and the oversubscription checks. */
export function thisHost(): HostResources {
  return { cores: availableParallelism(), memoryBytes: hostMemory()?.totalBytes ?? 4 * 2 ** 30 };
}

/** `-h`: the default plan on this machine and why. */
export function planHelp(host: HostResources = thisHost()): string {
  return [
    `Resources on this machine (${host.cores} cores, ${Math.round(host.memoryBytes / 2 ** 30)} GiB) unless --cpus/--cpuset/--memory say otherwise:`,
    ...planLines(defaultPlan(host)).map((l) => `  ${l}`),
    '  Each path gets the same CPU and memory in total (pull: Prometheus; push: the collector and',
    '  prometheus-push; with --store shared: Prometheus and the collector); the generator',
    "  (producers) and the observer (lab) run on cores of their own, so neither side takes the other's CPU.",
  ].join('\n');
}

/** The resource plan from --cpus/--cpuset/--memory over the host's default (a usage error names the offender). */
export function resourceFlags(
  flags: Record<string, unknown>,
  host: HostResources = thisHost(),
): { resources: ResourcePlan; throttledShare: number } {
  const str = (k: string) => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
  return {
    resources: resolvePlan(
      { cpus: str('cpus'), cpuset: str('cpuset'), memory: str('memory') },
      host,
      storeFlag(flags),
    ),
    throttledShare: Number(flags['throttled-share'] ?? DEFAULT_THROTTLED_SHARE),
  };
}

export function durationFlag(name: string, raw: unknown, minMs: number, maxMs: number): number {
  const ms = parseDurationMs(String(raw), `--${name}`);
  if (ms < minMs || ms > maxMs)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--${name}: "${String(raw)}" is out of range (${minMs / 1000}s..${maxMs / 1000}s)`,
      { flag: name, value: raw },
    );
  return ms;
}

/** The fleet and stack flags every verb that starts a stack shares: the burst config's own fields. */
export type FleetFlags = Pick<
  BurstConfig,
  | 'runtime'
  | 'pods'
  | 'podsPerProducer'
  | 'producers'
  | 'pushMode'
  | 'jitter'
  | 'transport'
  | 'otlpTemporality'
  | 'scrapeIntervalMs'
  | 'seed'
  | 'nodeExporter'
> & { stateDir: string | null; resources: ResourcePlan; throttledShare: number; store: StoreMode };

/**
 * `--store` (validated by the flag's choices; its default is per-path). A verb without the flag (drill,
 * capacity) starts one shared store, so its plan is the shared one.
 */
export function storeFlag(flags: Record<string, unknown>): StoreMode {
  return flags.store === 'per-path' ? 'per-path' : 'shared';
}

export function fleetFlags(flags: Record<string, unknown>): FleetFlags {
  const pods = Number(flags.pods ?? DEFAULT_PODS);
  const podsPerProducer = Math.min(Number(flags['pods-per-producer'] ?? 50), pods);
  return {
    runtime: (flags.runtime ?? 'auto') as FleetFlags['runtime'],
    pods,
    podsPerProducer,
    producers: Math.ceil(pods / podsPerProducer),
    pushMode: (flags['push-mode'] ?? 'per-event') as PushMode,
    jitter: (flags.jitter ?? 'on') === 'on',
    transport: (flags.transport ?? 'udp') as Transport,
    otlpTemporality: (flags['otlp-temporality'] ?? 'cumulative') as OtlpTemporality,
    scrapeIntervalMs:
      flags['scrape-interval'] === undefined
        ? 15_000
        : durationFlag('scrape-interval', flags['scrape-interval'], 1000, 300_000),
    seed: Number(flags.seed ?? 42),
    nodeExporter: (flags['node-exporter'] ?? 'on') === 'on',
    stateDir: typeof flags['state-dir'] === 'string' ? flags['state-dir'] : null,
    store: storeFlag(flags),
    ...resourceFlags(flags),
  };
}
