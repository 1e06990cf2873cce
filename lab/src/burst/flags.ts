import { type FlagSpecs, LabError, parseArgs, parseBytes } from '@pushpull/common';
import { FACT_HELP, parseFailOn } from '../analysis/failon.ts';
import { durationFlag, fleetFlags, INCIDENT_FLEET_PODS, STACK_START_FLAGS } from '../core/flags.ts';
import type { BurstConfig } from '../core/record.ts';
import { PULL_TOPOLOGIES, type PullTopology } from '../core/record-agents.ts';
import { PUSH_TOPOLOGIES } from '../core/record-push-agents.ts';
import { PROMETHEUS_REPLICA_CHOICES } from '../core/record-replicas.ts';
import { transportOf } from '../core/transports.ts';

// `burst` flags → one frozen BurstConfig, validated at the boundary (a bad --fail-on is rejected before
// anything starts).

export const BURST_FLAGS: FlagSpecs = {
  ...STACK_START_FLAGS,
  duration: {
    kind: 'string',
    env: 'LAB_DURATION',
    placeholder: 'D',
    defaultText: "the profile's ramp+hold+decay",
    help: 'burst window from the open (T0) to quiesce, e.g. 60, 90s, 2m; shorter windows compress hold and decay (the 800 ms ramp is kept)',
  },
  out: {
    kind: 'string',
    env: 'LAB_OUT',
    placeholder: 'DIR',
    defaultText: 'runs/<run id>',
    help: 'record and report directory',
  },
  'series-budget': {
    kind: 'string',
    env: 'LAB_SERIES_BUDGET',
    default: 'unlimited',
    placeholder: 'N|unlimited',
    help: "series both paths may hold, alike: the collector's --max-series N and Prometheus' sample_limit ceil(N / pods) per pod target",
  },
  repeat: {
    kind: 'int',
    env: 'LAB_REPEAT',
    default: 1,
    min: 1,
    max: 20,
    help: 'run the burst N times (a fresh stack each) and write one aggregated record and report beside each run',
  },
  hold: {
    kind: 'bool',
    env: 'LAB_HOLD',
    default: false,
    help: 'keep the stack up after the run (record and report written first) until Ctrl-C, which then ends the run with its own exit code (0 when it passed)',
  },
  grafana: {
    kind: 'bool',
    env: 'LAB_GRAFANA',
    default: false,
    help: "start Grafana (the compose service's image, PUSHPULL_GRAFANA_IMAGE) against the run's Prometheus and print the dashboard URL; without Docker or the image: one line, and the run goes on",
  },
  pull: {
    kind: 'string',
    env: 'LAB_PULL',
    default: 'on',
    choices: ['on', 'off'],
    help: 'off: Prometheus scrapes only the collector (and Pushgateway, node-exporter), not the pods: push measured alone',
  },
  'pull-topology': {
    kind: 'string',
    env: 'LAB_PULL_TOPOLOGY',
    default: 'central',
    choices: [...PULL_TOPOLOGIES],
    help: "central: pull's Prometheus scrapes every pod; agent: a Prometheus in agent mode per producer host scrapes that host's pods and remote-writes to pull's Prometheus (#29; process and docker runtimes)",
  },
  'collector-rcvbuf': {
    kind: 'string',
    env: 'LAB_COLLECTOR_RCVBUF',
    placeholder: 'SIZE',
    defaultText: "the collector's 8MiB (capped by net.core.rmem_max)",
    help: "the collector's UDP receive buffer request (--rcvbuf), e.g. 64KiB; the kernel's grant is read back into the record",
  },
  'clock-compensation': {
    kind: 'string',
    env: 'LAB_CLOCK_COMPENSATION',
    default: 'on',
    choices: ['on', 'off'],
    help: "tell each producer the open in its own clock (the lab's T0 plus the producer's clock offset, measured through its control API); off: every producer gets T0 as is (the spread of actual opens is recorded either way, with a warning above 50 ms)",
  },
  'test-clock-skew': {
    kind: 'string',
    env: 'LAB_TEST_CLOCK_SKEW',
    placeholder: 'NODE:MS',
    help: 'TEST ONLY (--runtime swarm): start the producers on the swarm node whose id begins with NODE with their clock MS ms off (PUSHPULL_TEST_CLOCK_SKEW_MS), to prove the clock measurement and compensation; labelled in the record',
  },
  'prometheus-replicas': {
    kind: 'string',
    env: 'LAB_PROMETHEUS_REPLICAS',
    default: '1',
    choices: [...PROMETHEUS_REPLICA_CHOICES],
    help: "pull's Prometheus servers, each scraping every pod: 2 = the Prometheus pair (identical apart from an external replica label; delivered per replica and merged, max across replicas). Process and docker runtimes",
  },
  'push-topology': {
    kind: 'string',
    env: 'LAB_PUSH_TOPOLOGY',
    default: 'central',
    choices: [...PUSH_TOPOLOGIES],
    help: 'central: every pod pushes to the one collector; agent: to a collector agent on its host (one per producer; StatsD over loopback UDP), which aggregates and forwards OTLP/HTTP to the central collector (process runtime)',
  },
  'fail-on': {
    kind: 'string',
    env: 'LAB_FAIL_ON',
    placeholder: 'EXPR',
    help: `exit 3 when the expression holds, e.g. "push.lossPct>1" (facts: ${Object.keys(FACT_HELP).join(', ')})`,
  },
};

/** How a run can be watched (burst/watch.ts); not part of the run's config or record. */
export interface BurstWatchFlags {
  hold: boolean;
  grafana: boolean;
}

export function parseBurstFlags(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): {
  config: BurstConfig;
  help: boolean;
  stateDir: string | null;
  watch: BurstWatchFlags;
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
  const seriesBudget = parseSeriesBudget(flags['series-budget']);
  if (failOn !== null) parseFailOn(failOn);
  const config: BurstConfig = {
    runtime: f.runtime,
    pods: f.pods,
    podsPerProducer: f.podsPerProducer,
    producers: f.producers,
    pushMode: f.pushMode,
    jitter: f.jitter,
    transport: f.transport,
    ...(transportOf(f.transport).sdk ? { otlpTemporality: f.otlpTemporality } : {}),
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
    seriesBudget,
    repeat: Number(flags.repeat ?? 1),
    pull: (flags.pull ?? 'on') !== 'off',
    ...pullTopologyOf(flags['pull-topology'], flags.pull),
    resources: f.resources,
    store: f.store,
    throttledShare: f.throttledShare,
    collectorRcvbuf:
      typeof flags['collector-rcvbuf'] === 'string'
        ? parseBytes(flags['collector-rcvbuf'], '--collector-rcvbuf')
        : null,
    clockCompensation: (flags['clock-compensation'] ?? 'on') !== 'off',
    prometheusReplicas: Number(flags['prometheus-replicas'] ?? '1'),
    ...testClockSkewOf(flags['test-clock-skew'], f.runtime),
    ...pushTopologyOf(flags['push-topology'], f),
  };
  const watch: BurstWatchFlags = Object.freeze({
    hold: flags.hold === true,
    grafana: flags.grafana === true,
  });
  if (watch.hold && (config.repeat ?? 1) > 1)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--hold: cannot hold ${config.repeat} runs (--repeat); hold one run`,
      {
        flag: 'hold',
        value: String(config.repeat),
      },
    );
  return { config: Object.freeze(config), help: flags.help === true, stateDir: f.stateDir, watch };
}

/** `--series-budget N|unlimited`: null = unlimited on both paths. */
export function parseSeriesBudget(raw: unknown): number | null {
  const v = String(raw ?? 'unlimited').trim();
  if (v === 'unlimited' || v === '0') return null;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > 100_000_000)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--series-budget: "${v}" is not "unlimited" or an integer in [1, 100000000]`,
      { flag: 'series-budget', value: v },
    );
  return n;
}

/** `--test-clock-skew NODE:MS` (TEST ONLY, swarm only): nothing when not given. */
export function testClockSkewOf(
  raw: unknown,
  runtime: BurstConfig['runtime'],
): { testClockSkew?: { node: string; ms: number } } {
  if (typeof raw !== 'string' || raw === '') return {};
  const m = /^([a-z0-9]{4,64}):(-?\d{1,6})$/i.exec(raw.trim());
  const ms = m ? Number(m[2]) : Number.NaN;
  if (!m || Math.abs(ms) > 600_000 || ms === 0)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--test-clock-skew: "${raw}" is not NODE:MS (a swarm node id prefix of 4+ characters, a non-zero integer in [-600000, 600000])`,
      { flag: 'test-clock-skew', value: raw },
    );
  if (runtime !== 'swarm')
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--test-clock-skew: only with --runtime swarm (a node's producers), not "${runtime}"`,
      { flag: 'test-clock-skew', value: raw },
    );
  return { testClockSkew: { node: m[1]!, ms } };
}

/** `--push-topology`: recorded only when `agent` (absent = central); the agent tier takes StatsD over UDP. */
export function pushTopologyOf(
  raw: unknown,
  f: Pick<BurstConfig, 'transport' | 'pushMode'>,
): { pushTopology?: 'agent' } {
  if (raw !== 'agent') return {};
  const why = !transportOf(f.transport).datagrams
    ? `the agent takes StatsD over UDP, not --transport ${f.transport}`
    : f.pushMode === 'off'
      ? 'nothing is pushed with --push-mode off'
      : null;
  if (why !== null)
    throw new LabError('LAB_ERR_FLAG_VALUE', `--push-topology: "agent": ${why}`, {
      flag: 'push-topology',
      value: 'agent',
    });
  return { pushTopology: 'agent' };
}

/** `--pull-topology` (#29): recorded only when it is not the default; agents with --pull off scrape nothing. */
export function pullTopologyOf(raw: unknown, pull: unknown): { pullTopology?: PullTopology } {
  const t = String(raw ?? 'central') as PullTopology;
  if (t === 'central') return {};
  if (pull === 'off')
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--pull-topology ${t}: the pods are not scraped with --pull off`,
      {
        flag: 'pull-topology',
        value: t,
      },
    );
  return { pullTopology: t };
}
