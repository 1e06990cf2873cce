import { type FlagSpecs, LabError, parseArgs, parseDurationMs } from '@pushpull/common';
import type { BurstConfig, PushMode, Transport } from '../burst/types.ts';
import { FACT_HELP, parseFailOn } from './failon.ts';

// Flags of every verb, validated once at the boundary. Unknown flag / bad value → LabError naming it
// (exit code 2).

/** Incident facts: 1,400 pods; the lab's default fleet is 1/10 of it with the same per-pod load. */
export const INCIDENT_FLEET_PODS = 1400;
export const DEFAULT_PODS = 140;

const common: FlagSpecs = {
  runtime: {
    kind: 'string',
    env: 'LAB_RUNTIME',
    default: 'auto',
    choices: ['auto', 'docker', 'process'],
    help: 'where the stack runs: docker (containers), process (local binaries), auto (docker if usable)',
  },
  'state-dir': {
    kind: 'string',
    env: 'LAB_STATE_DIR',
    help: 'where `up` records the running stack for status/scale/down (default <repo>/.lab)',
  },
  help: { kind: 'bool', help: 'show help' },
};

const podsFlag: FlagSpecs = {
  pods: {
    kind: 'int',
    env: 'LAB_PODS',
    default: DEFAULT_PODS,
    min: 1,
    max: 20_000,
    help: `virtual pods (the incident had ${INCIDENT_FLEET_PODS}; per-pod load is always the incident's)`,
  },
};

const fleet: FlagSpecs = {
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
    choices: ['per-event', 'buffered', 'aggregated', 'off'],
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
    choices: ['udp', 'tcp'],
    help: 'push transport',
  },
  seed: { kind: 'int', env: 'LAB_SEED', default: 42, min: 0, max: 2 ** 32 - 1, help: 'workload seed' },
};

const stack: FlagSpecs = {
  'scrape-interval': {
    kind: 'string',
    env: 'LAB_SCRAPE_INTERVAL',
    default: '15s',
    help: 'Prometheus scrape interval (the incident: 15s)',
  },
  'node-exporter': {
    kind: 'string',
    env: 'LAB_NODE_EXPORTER',
    default: 'on',
    choices: ['on', 'off'],
    help: "node-exporter for the kernel's UDP counters (process runtime: it reads the host's namespace)",
  },
};

export const UP_FLAGS: FlagSpecs = { ...common, ...podsFlag, ...fleet, ...stack };
export const BASIC_FLAGS: FlagSpecs = { ...common };
/** `scale <pods>`: the pod count is the positional argument. */
export const SCALE_FLAGS: FlagSpecs = { ...common, ...fleet };

export const BURST_FLAGS: FlagSpecs = {
  ...common,
  ...podsFlag,
  ...fleet,
  ...stack,
  duration: {
    kind: 'string',
    env: 'LAB_DURATION',
    help: "burst window from the open (T0) to quiesce, e.g. 60, 90s, 2m (default: the profile's ramp+hold+decay, ~121 s; shorter windows compress hold and decay)",
  },
  out: { kind: 'string', env: 'LAB_OUT', help: 'record and report directory (default runs/<timestamp>)' },
  'fail-on': {
    kind: 'string',
    env: 'LAB_FAIL_ON',
    help: `exit 3 when the expression holds, e.g. "push.lossPct>1" (facts: ${Object.keys(FACT_HELP).join(', ')})`,
  },
};

function durationFlag(name: string, raw: unknown, minMs: number, maxMs: number): number {
  const ms = parseDurationMs(String(raw), `--${name}`);
  if (ms < minMs || ms > maxMs)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--${name}: "${String(raw)}" is out of range (${minMs / 1000}s..${maxMs / 1000}s)`,
      { flag: name, value: raw },
    );
  return ms;
}

export interface FleetFlags {
  runtime: 'docker' | 'process' | 'auto';
  pods: number;
  podsPerProducer: number;
  producers: number;
  pushMode: PushMode;
  jitter: boolean;
  transport: Transport;
  scrapeIntervalMs: number;
  seed: number;
  nodeExporter: boolean;
  stateDir: string | null;
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
    scrapeIntervalMs:
      flags['scrape-interval'] === undefined
        ? 15_000
        : durationFlag('scrape-interval', flags['scrape-interval'], 1000, 300_000),
    seed: Number(flags.seed ?? 42),
    nodeExporter: (flags['node-exporter'] ?? 'on') === 'on',
    stateDir: typeof flags['state-dir'] === 'string' ? flags['state-dir'] : null,
  };
}

export function parseBurstFlags(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): {
  config: BurstConfig;
  help: boolean;
  stateDir: string | null;
} {
  const { flags, positionals } = parseArgs(argv, BURST_FLAGS, env);
  if (positionals.length > 0)
    throw new LabError('LAB_ERR_FLAG_VALUE', `burst: unexpected argument "${positionals[0]}"`, {
      value: positionals[0],
    });
  const f = fleetFlags(flags);
  const durationMs =
    flags.duration === undefined ? 0 : durationFlag('duration', flags.duration, 10_000, 3_600_000);
  const failOn = typeof flags['fail-on'] === 'string' ? flags['fail-on'] : null;
  if (failOn !== null) parseFailOn(failOn);
  const config: BurstConfig = {
    runtime: f.runtime,
    pods: f.pods,
    podsPerProducer: f.podsPerProducer,
    producers: f.producers,
    pushMode: f.pushMode,
    jitter: f.jitter,
    transport: f.transport,
    scrapeIntervalMs: f.scrapeIntervalMs,
    durationMs,
    profile: null,
    seed: f.seed,
    out: typeof flags.out === 'string' ? flags.out : '',
    failOn,
    nodeExporter: f.nodeExporter,
    heartbeatMs: 5000,
    flushIntervalMs: 10_000,
    fleetPods: INCIDENT_FLEET_PODS,
    leadMs: 3000,
  };
  return { config: Object.freeze(config), help: flags.help === true, stateDir: f.stateDir };
}
