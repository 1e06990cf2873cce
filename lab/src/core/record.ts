import type { Ledger, LedgerCounts, OtlpTemporality, PushMode, Transport } from '@pushpull/common';
import type * as A from './record-agents.ts';
import type { OpenConfig, OpenRecordPart, RecordNode } from './record-nodes.ts';
import type {
  PushAgentCauseName,
  PushAgentRecordPart,
  PushAgentSamplePart,
  PushTopologyConfig,
} from './record-push-agents.ts';
import type { ReplicaSamplePart, ReplicasConfig, ReplicasRecordPart } from './record-replicas.ts';
import type { PathBudget, Peaks, PullResolution } from './record-summary.ts';
import type {
  GeneratorShortfall,
  ResourceComponent,
  ResourceCondition,
  ResourceCounters,
  ResourcePlan,
  ResourceRecord,
  StoreMode,
} from './resources.ts';

// The run record (run.json) and all in it. Pure data: report, verdict and --fail-on are functions of it.

/**
 * Where the stack runs (one implementation of runtime/types.ts' Runtime per kind): the one list every flag,
 * message and reader takes its choices from. What a kind can do is asked of runtime/capabilities.ts.
 */
export const RUNTIME_KINDS = ['docker', 'process', 'swarm'] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];
/** `--runtime` accepts these: `auto` (the selection chain) and every kind. */
export const RUNTIME_CHOICES: readonly (RuntimeKind | 'auto')[] = ['auto', ...RUNTIME_KINDS];

import type { ObserverRecord, StoreComponentName, StoreSelf } from './record-observer.ts';
import type { CollectorSnapshot, NodeUdpSnapshot } from './record-snapshots.ts';

/** How pods push and over what: wire contracts shared with the producer (@pushpull/common). */
export type {
  CollectorSnapshot,
  NodeUdpSnapshot,
  ObserverRecord,
  OtlpTemporality,
  PushMode,
  ResourceCondition,
  StoreComponentName,
  StoreSelf,
  Transport,
};
export type PathName = 'pull' | 'push';

export { STORE_MODES, type StoreMode } from './record-observer.ts';
export type { PathBudget, Peaks, PullResolution } from './record-summary.ts';

export interface BurstConfig extends OpenConfig, ReplicasConfig, A.AgentConfigPart, PushTopologyConfig {
  runtime: RuntimeKind | 'auto';
  pods: number;
  podsPerProducer: number;
  producers: number;
  pushMode: PushMode;
  jitter: boolean;
  transport: Transport;
  /** Transport otlp: the SDK's aggregation temporality (absent in older records = cumulative). */
  otlpTemporality?: OtlpTemporality;
  scrapeIntervalMs: number;
  /** Burst window: from the scheduled open (T0) to quiesce. 0 in flags = the profile's full length. */
  durationMs: number;
  /** The market-open profile as scheduled (hold/decay fitted into the window when it is shorter). */
  profile: {
    name: string;
    steadyOrdersPerSecond: number;
    peakOrdersPerSecond: number;
    afterOrdersPerSecond: number;
    rampMs: number;
    holdMs: number;
    decayMs: number;
    fitted: boolean;
  } | null;
  seed: number;
  out: string;
  failOn: string | null;
  nodeExporter: boolean;
  heartbeatMs: number;
  flushIntervalMs: number;
  /** Pods in the real incident's fleet: the per-pod load is always the incident's (fleet rate / fleetPods). */
  fleetPods: number;
  /** Lead time between scheduling and the open, so every producer has the schedule before T0. */
  leadMs: number;
  /**
   * Series both paths may hold (--series-budget): the collector's max series and Prometheus' per-target
   * sample_limit = ceil(N / pods). null = unlimited on both (the default: neither path gets a budget the
   * other does not). Absent in run@1 records.
   */
  seriesBudget?: number | null;
  /** --repeat: how many runs this one belongs to (1 = a single run). Absent in run@1 records. */
  repeat?: number;
  /**
   * --pull off: Prometheus scrapes the collector (and Pushgateway, node-exporter) but not the producer pods,
   * so push is measured alone; pull is then not measured (no account, no loss). Absent (older records) = on.
   */
  pull?: boolean;
  /** run@3: each component's declared CPU and memory (--cpus, --cpuset, --memory over the host's default). */
  resources?: ResourcePlan;
  throttledShare?: number; // run@3: --throttled-share (out of its CPU budget above it)
  collectorRcvbuf?: number | null; // run@3: --collector-rcvbuf in bytes (null = the collector's default)
  /** --store: each path on its own Prometheus, or one shared (absent in older records = shared). */
  store?: StoreMode;
}

/** The producer's ground-truth ledger: one definition on both sides of the wire (@pushpull/common). */
export type { Ledger, LedgerCounts };

/** One tick of the Prometheus API probe (producers job unless named otherwise). null = absent. */
export interface PullProbe {
  targets: number | null;
  targetsUp: number | null;
  scrapeP50: number | null;
  scrapeP99: number | null;
  scrapeMax: number | null;
  /** scrape_timeout_seconds (extra-scrape-metrics), else the configured timeout. */
  scrapeTimeout: number | null;
  slowTargets: number | null;
  /** Samples stored by the last scrape of every target (targets whose scrape failed count 0). */
  samplesSum: number | null;
  samplesMax: number | null;
  bodyBytesMax: number | null;
  bodyBytesAvg: number | null;
  sampleLimitExceeded: number | null;
  intervalP99: number | null;
  /** sum(orders_total{job="producers"}) as stored: what the pull path has delivered so far. */
  storedOrders: number | null;
  /**
   * run@2: sum(orders{job="collector"}) as stored: what the push path has delivered to Prometheus so far
   * (read with storedOrders, so both paths are measured where an engineer would look).
   */
  storedPushOrders?: number | null;
  /** The recording rule pushpull:pull_orders:rate30s (orders/s as stored, computed inside Prometheus). */
  storedOrdersRate: number | null;
  /** run@2: pushpull:push_orders:rate30s, the push path's orders/s as stored. */
  storedPushOrdersRate?: number | null;
  collectorUp: number | null;
}

export interface AlertObservation {
  name: string;
  state: 'pending' | 'firing';
  count: number;
}

export type Phase =
  | 'start'
  | 'warmup'
  | 'scheduled'
  | 'ramp'
  | 'peak'
  | 'decay'
  | 'after'
  | 'quiesce'
  | 'final-scrapes'
  | 'collect'
  | 'done';

export interface ProbeSample extends ReplicaSamplePart, A.AgentSamplePart, PushAgentSamplePart {
  /** Epoch ms at the start of the tick. */
  tMs: number;
  phase: Phase;
  pull: PullProbe | null;
  collector: CollectorSnapshot | null;
  node: NodeUdpSnapshot | null;
  /** Ledger totals summed over every producer that answered (`ledgerProducers` of them). */
  ledger: LedgerCounts | null;
  ledgerProducers: number;
  alerts: AlertObservation[] | null;
  /** Cumulative CPU seconds by component group (prometheus, pushgateway, collector, node-exporter, producers, lab). */
  cpu: Record<string, number> | null;
  /** Resident memory by component group, bytes (when the runtime reports it). */
  rss?: Record<string, number> | null;
  /** The host's MemAvailable, bytes. */
  hostMemAvailable?: number | null;
  /** How long each probe source took this tick (ms); absent = skipped (cost budget) this tick. */
  probeMs: Record<string, number>;
  errors: string[];
  /** Probe sources that failed this tick (timeout, refused, bad answer). */
  failedProbes?: string[];
  /** Components found not running at this tick (absent = not checked this tick). */
  dead?: string[];
  /** run@3: each budgeted component's cumulative counters (cgroup or engine), when the runtime reads them. */
  resources?: Partial<Record<ResourceComponent, ResourceCounters>> | null;
  /** #24: each store's own /metrics (by component: prometheus, prometheus-push), when read this tick. */
  stores?: Partial<Record<StoreComponentName, StoreSelf>>;
}

/** Why orders were lost (lab/README.md "Loss by cause"); `collector-/receiver-refused` carry `:<reason>`. */
export type LossCauseName =
  | 'kernel-rcvbuf'
  | 'send-error'
  | 'collector-refused'
  | 'in-flight'
  | 'target-died'
  | 'scrape-failed'
  | 'scrape-over-limit'
  | 'prometheus-overloaded'
  | 'not-stored'
  | 'exporter-dropped'
  | 'export-queued'
  | 'receiver-refused'
  | 'unverified'
  | 'unexplained'
  | PushAgentCauseName;

export interface LossCause {
  /** A LossCauseName, or `collector-refused:<reason>`. */
  cause: string;
  orders: number;
  /** orders / the path's lost orders. */
  share: number;
  /** How the number was counted; an estimate says so. */
  countedBy: string;
  estimate: boolean;
  /** run@3: the resource behind this cause, measured over the seconds in which it grew. */
  condition?: ResourceCondition;
}

/**
 * Time-to-visibility of one path (lab/README.md "Visibility"): for each second t of the burst, how long
 * until what Prometheus had stored for the path reached what the fleet had emitted by t (scaled by the
 * path's final delivery ratio, so loss — reported by cause — is not counted twice as lateness).
 */
export interface StoredSeries {
  /** Epoch ms and the cumulative orders Prometheus had stored by then (by sample timestamp). */
  points: [number, number][];
  /** How the series was read. */
  from: string;
  /** When it was read (epoch ms): the series is complete up to then. Absent in older records. */
  readAtMs?: number;
}

export interface Visibility {
  /** Median and p90 of that delay over the burst's seconds; null = never caught up for that share. */
  p50Seconds: number | null;
  p90Seconds: number | null;
  /** Seconds of the burst measured, and how many never caught up before the run ended. */
  seconds: number;
  neverCaughtUp: number;
  /** Seconds with no stored reading after them at all (not measured, left out), when readings stopped. */
  unmeasured?: number;
  /** The largest gap between stored readings in the burst: every delay is an upper bound at this resolution. */
  resolutionSeconds?: number | null;
  /** How it was measured (series used, their resolution). */
  method: string;
}

export interface PathAccount {
  /** Every order the fleet emitted on this path: the denominator never shrinks (run@2). */
  emitted: number;
  /** When more was delivered than emitted: what can explain it (OTLP delta: retried exports counted twice). */
  overDelivery?: string;
  delivered: number;
  lost: number;
  /** null when nothing was emitted on this path (e.g. push mode off). */
  lossPct: number | null;
  emittedFrom: string;
  deliveredFrom: string;
  /** run@2: the loss by cause, summing exactly to `lost` (empty when nothing was lost). */
  causes?: LossCause[];
  /** run@2: how far behind the emitted orders the stored data ran during the burst. */
  visibility?: Visibility | null;
}

/** An alert that fired during the burst of a run without injected faults: the on-call cost of the open. */
export interface FalsePage {
  alert: string;
  path: PathName | 'both';
  /** Seconds after the open it first fired. */
  firstFiringS: number;
  /** The most alert instances firing at once. */
  maxFiring: number;
}

export interface FirstFailure {
  path: PathName;
  signal: string;
  secondsAfterBurst: number;
  detail: string;
  /** run@3: the resource behind the signal. */
  condition?: ResourceCondition;
}

export interface PhaseMark {
  phase: Phase;
  startMs: number;
}

export interface Environment {
  runtime: RuntimeKind;
  cores: number;
  rmemMaxBytes: number | null;
  kernel: string;
  node: string;
  collectorRcvbufBytes: number | null;
  prometheusScrapeTimeoutMs: number;
  notes: string[];
  /** Swarm runtime: every node of the swarm (record-nodes.ts). */
  nodes?: RecordNode[];
}

export const RUN_SCHEMA = 'pushpull-lab/run@3';

/** Every schema the readers (report, compare) take. */
export const READABLE_SCHEMAS = ['pushpull-lab/run@1', 'pushpull-lab/run@2', 'pushpull-lab/run@3'] as const;

export interface RunRecord
  extends OpenRecordPart,
    ReplicasRecordPart,
    A.AgentRecordPart,
    PushAgentRecordPart {
  /**
   * run@2 adds causes, visibility, budgets, falsePages, pullResolution, interrupted; run@3 adds resources,
   * generator and conditions. Readers take all three.
   */
  schema: (typeof READABLE_SCHEMAS)[number];
  runId: string;
  startedAt: string;
  finishedAt: string;
  config: BurstConfig;
  environment: Environment;
  phases: PhaseMark[];
  /** Epoch ms of the scheduled open (T0). */
  burstAtMs: number;
  series: ProbeSample[];
  /** Final ledgers, one per producer (ground truth). */
  ledgers: Ledger[];
  paths: Record<PathName, PathAccount>;
  /** Push datagrams of this run (UDP): handed to the socket (ledgers) vs received by the collector. */
  datagrams: { sent: number; received: number; lost: number } | null;
  firstFailures: FirstFailure[];
  /** Signals observed but not counted as failures of this run, and why. */
  discounted: { signal: string; reason: string }[];
  peaks: Peaks;
  verdict: string;
  /** Set when --fail-on was given. */
  failOn: { expr: string; met: boolean } | null;
  /** Set when the run failed before completing: the record is PARTIAL (paths from the last probe). */
  error: string | null;
  /** run@2: true when Ctrl-C / SIGTERM ended the run; the record is PARTIAL. */
  interrupted?: boolean;
  /** run@2: the limits in force on each path (--series-budget), with the series each held. */
  budgets?: Record<PathName, PathBudget>;
  /** run@2: alerts that fired during the burst (a burst injects no fault, so each is a page the open cost). */
  falsePages?: FalsePage[];
  pullResolution?: PullResolution | null; // run@2
  /** run@3: per component, the plan, who enforced it and what was used against it. */
  resources?: Partial<Record<ResourceComponent, ResourceRecord>>;
  /** run@3: did the load generator keep up with the profile? */
  generator?: { shortfall: GeneratorShortfall | null };
  /**
   * The lab's own check of the run (#20): a limit asked for but not in force, or a count above its own limit.
   * Non-empty = an error of the lab, never a finding about a path: the verdict is withheld and the run exits
   * 1 (LAB_ERR_SELF_CHECK). Absent in older records.
   */
  selfCheck?: SelfCheckFinding[];
  /** #24: coverage per probe source over the burst, the sparse ones, each path's visibility resolution. */
  observer?: ObserverRecord;
}

/** One mismatch the record's self-check found: what was checked, what the plan said, what was read. */
export interface SelfCheckFinding {
  what: string;
  expected: string;
  found: string;
}
