import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeError } from '@pushpull/common';
import { paths } from '../core/paths.ts';
import type {
  BurstConfig,
  Ledger,
  PathName,
  Phase,
  PhaseMark,
  ProbeSample,
  PullResolution,
  RunRecord,
  SelfCheckFinding,
  StoredSeries,
} from '../core/record.ts';
import type { RecordOpen } from '../core/record-nodes.ts';
import type { PushAgentReading } from '../core/record-push-agents.ts';
import { mapLimit, throwIfAborted } from '../core/time.ts';
import { makeRunId, newWorkDir } from '../core/workdir.ts';
import { ControlClient } from '../probe/control.ts';
import type { ProbeLoop } from '../probe/loop.ts';
import { PromClient } from '../probe/prom.ts';
import { type ContractPhase, contractPhase, pushPhaseMetrics } from '../probe/pushgateway.ts';
import { capabilitiesOf } from '../runtime/capabilities.ts';
import { containerPrometheusConfig } from '../runtime/prometheus-config.ts';
import type { ProducerMember, Runtime, RuntimeFactory, StackEndpoints } from '../runtime/types.ts';
import { type Budget, budgetOf } from './budgets.ts';
import type { AgentFinal } from './phases/agents-final.ts';
import { fitProfile, loadProfileFile, type ProfileShape, profileLengthMs } from './profile.ts';
import type { PushAgentWatch } from './push-agents.ts';
import type { ReuseState } from './reuse.ts';

// The one context a burst run's phases share: the fitted config, the runtime and what it started, the
// phase marks (and their Pushgateway annotation), the notes for the record, and what the phases measured.

export interface ProgressSink {
  phase(p: Phase, info: { elapsedMs: number; pods: number; producers: number; detail?: string }): void;
  sample(s: ProbeSample, ctx: { burstAtMs: number | null; scrapeIntervalMs: number; pods: number }): void;
  note(msg: string): void;
  close(): void;
}

export interface BurstDeps {
  root: string;
  factory: RuntimeFactory;
  selectionReasons: string[];
  progress: ProgressSink;
  signal: AbortSignal;
  /** Runs that must survive the reaper (the stack recorded by `up`). */
  keepRunIds: string[];
  /** Called once the runtime exists (the CLI's second-Ctrl-C handler kills through it). */
  onRuntime?: (rt: Runtime, workDir: string) => void;
  /** Override for tests: the run id. */
  runId?: string;
  /** Writes the record (and reports) as soon as it exists, before teardown. */
  onRecord?: (record: RunRecord, outDir: string) => void | Promise<void>;
  /**
   * A stack kept up across runs (capacity trials, burst/reuse.ts): the run uses this runtime and work dir,
   * leaves the base stack up at teardown (scales the fleet to 0) and reads only what it produced itself.
   */
  stack?: SharedStack;
}

/** A stack shared by consecutive runs: its runtime (up, or brought up by the first run), work dir and run id. */
export interface SharedStack {
  runtime: Runtime;
  workDir: string;
  /** The stack's run id (labels, reaper marker): the first run's `up` uses it; each run keeps its own id. */
  runId: string;
  /** An earlier run used it (false: this run brings it up, and nothing carries over). */
  reused: boolean;
}

/** One pod of the pull accounting (see analysis/causes.ts PullPodOutcome). */
export interface PodStored {
  pod: string;
  producer: string;
  /** Its last stored orders_total (reset-aware); null = Prometheus did not answer for its producer. */
  stored: number | null;
  scrapedAfterQuiesce: boolean | null;
  overSampleLimit: boolean;
}

/** What the phases measured for the record; the defaults stand when a phase never ran. */
export interface Collected {
  /** The producers' ground-truth ledgers, read at collect. */
  ledgers: Ledger[];
  /** When generation stopped (0: never reached). */
  quiesceAtMs: number;
  pullDelivered: { value: number; from: string } | null;
  /** Producers left out of the pull accounting (Prometheus did not answer for them in time). */
  pullOmitted: string[];
  pushDelivered: number | null;
  collectorUdpPackets: number | null;
  collectorRcvbuf: number | null;
  /** Every pod's stored total and how its scrapes ended. */
  pullPods: PodStored[];
  /** The collector's refusals by reason and its series, at the end. */
  collectorRefused: Record<string, number> | null;
  /** The OTLP receiver's refused points by reason, at the end (transport otlp). */
  otlpRefused: Record<string, number> | null;
  collectorSeries: number | null;
  /** The collector's count was still rising when the lab stopped waiting for it to drain. */
  collectorStillRising: number;
  /** Successful scrapes stored per pod in the burst window. */
  pullResolution: PullResolution | null;
  /** Each path's stored orders over the burst (a range query after the run), for visibility. */
  stored: Partial<Record<'pull' | 'push', StoredSeries>>;
  /** #29: every pull agent at the cut-off (`--pull-topology agent`; absent otherwise). */
  agents?: AgentFinal[];
}

/** Effective producer scrape timeout: the source config's timeout, capped by the interval (as derived). */
export function scrapeTimeoutFor(root: string, intervalMs: number): number {
  // Asked of the configuration's owner (the same derivation every runtime writes), not re-parsed here.
  try {
    const source = readFileSync(paths(root).prometheusYml, 'utf8');
    return containerPrometheusConfig(source, { scrapeIntervalMs: intervalMs }, null).producerScrapeTimeoutMs;
  } catch {
    return Math.min(10_000, intervalMs);
  }
}

/** Where a path's data is stored: push's own Prometheus when the stack runs one, else the (pull/shared) one. */
export function storeUrl(e: StackEndpoints, path: PathName): string {
  return path === 'push' ? (e.pushPrometheusUrl ?? e.prometheusUrl) : e.prometheusUrl;
}

/** The component that stores a path's data on this stack (for the record's `deliveredFrom` and notes). */
export function storeName(e: StackEndpoints, path: PathName): string {
  return path === 'push' && e.pushPrometheusUrl ? 'prometheus-push' : 'prometheus';
}

/** Runs `fn` against every producer's control API, a few at a time. */
export async function allProducers<T>(
  members: readonly ProducerMember[],
  fn: (c: ControlClient, m: ProducerMember) => Promise<T>,
): Promise<T[]> {
  return mapLimit(members, 8, (m) => fn(new ControlClient(m.baseUrl), m));
}

/** The market-open profile fitted to the burst window (default: its full length), and the run's config. */
function fitConfig(
  config0: BurstConfig,
  root: string,
  outDir: string,
): { config: BurstConfig; profile: ProfileShape; note: string | null } {
  const baseProfile = loadProfileFile(paths(root).marketOpenProfile);
  const durationMs =
    config0.durationMs > 0 ? config0.durationMs : Math.ceil(profileLengthMs(baseProfile) / 1000) * 1000;
  const fit = fitProfile(baseProfile, durationMs);
  const profile: ProfileShape = fit.profile;
  const note = fit.fitted
    ? `burst window ${durationMs / 1000} s is shorter than the profile's ${profileLengthMs(baseProfile) / 1000} s: hold and decay compressed to ${profile.holdMs / 1000} s and ${profile.decayMs / 1000} s`
    : null;
  const config: BurstConfig = Object.freeze({
    ...config0,
    out: outDir,
    durationMs,
    profile: {
      name: String(profile.name),
      steadyOrdersPerSecond: profile.steadyOrdersPerSecond,
      peakOrdersPerSecond: profile.peakOrdersPerSecond,
      afterOrdersPerSecond: profile.afterOrdersPerSecond,
      rampMs: profile.rampMs,
      holdMs: profile.holdMs,
      decayMs: profile.decayMs,
      fitted: fit.fitted,
    },
  });
  return { config, profile, note };
}

/** Creates the run: its id, work dir, fitted config and (not yet started) runtime. */
export function createRunContext(config0: BurstConfig, deps: BurstDeps): RunContext {
  const runId = deps.runId ?? makeRunId();
  const startedAt = new Date();
  const workDir = deps.stack?.workDir ?? newWorkDir(runId);
  const outDir = config0.out ? resolve(config0.out) : join(paths(deps.root).runsDir, runId);
  const notes: string[] = [];
  const { config, profile, note } = fitConfig(config0, deps.root, outDir);
  if (note) notes.push(note);
  const scrapeTimeoutMs = scrapeTimeoutFor(deps.root, config.scrapeIntervalMs);
  const runtime = deps.stack?.runtime ?? deps.factory.create();
  deps.onRuntime?.(runtime, workDir);
  if (!capabilitiesOf(runtime.kind).ownNetworkNamespace)
    notes.push(
      "process runtime: node-exporter and the collector's kernel counters read the host's network namespace, shared with every process on this machine — a UDP drop elsewhere on the host counts too",
    );
  return new RunContext(deps, {
    runId,
    startedAt,
    workDir,
    outDir,
    config,
    profile,
    scrapeTimeoutMs,
    runtime,
    notes,
  });
}

export class RunContext {
  readonly runId: string;
  readonly startedAt: Date;
  readonly workDir: string;
  readonly outDir: string;
  readonly config: BurstConfig;
  readonly profile: ProfileShape;
  readonly scrapeTimeoutMs: number;
  readonly runtime: Runtime;
  readonly progress: ProgressSink;
  readonly signal: AbortSignal;
  /** Notes for the record's environment (what a reader of the results must know). */
  readonly notes: string[];
  readonly phases: PhaseMark[] = [];
  readonly t0Run = Date.now();
  endpoints: StackEndpoints | null = null;
  members: ProducerMember[] = [];
  probe: ProbeLoop | null = null;
  /** When the fleet finished scaling (the start of every "over the run" query window). */
  fleetStartMs = 0;
  /** The open, once scheduled. */
  burstAtMs: number | null = null;
  /** How the open went on every producer (burst/open.ts), once observed. */
  open: RecordOpen | null = null;
  /**
   * A shared stack (deps.stack): what an earlier run left in it — the collector's counters before this run's
   * fleet (subtracted from every reading), Prometheus' samples before `floorMs` (outside every query window).
   */
  reuse: ReuseState | null = null;
  /** What the lab's own check of the stack found (phases/self-check.ts); empty = the plan is in force. */
  readonly selfCheck: SelfCheckFinding[] = [];
  /** #27: the agents' books, read every second (push topology agent), and their final readings. */
  pushAgents: PushAgentWatch | null = null;
  pushAgentReadings: PushAgentReading[] | null = null;
  readonly collected: Collected = {
    ledgers: [],
    quiesceAtMs: 0,
    pullDelivered: null,
    pullOmitted: [],
    pushDelivered: null,
    collectorUdpPackets: null,
    collectorRcvbuf: null,
    pullPods: [],
    collectorRefused: null,
    otlpRefused: null,
    collectorSeries: null,
    collectorStillRising: 0,
    pullResolution: null,
    stored: {},
  };
  private readonly contractStarted: Partial<Record<ContractPhase, number>> = {};
  private lastAnnotation = 0;
  private annotationFailed = false;

  constructor(
    readonly deps: BurstDeps,
    init: Pick<
      RunContext,
      | 'runId'
      | 'startedAt'
      | 'workDir'
      | 'outDir'
      | 'config'
      | 'profile'
      | 'scrapeTimeoutMs'
      | 'runtime'
      | 'notes'
    >,
  ) {
    this.runId = init.runId;
    this.startedAt = init.startedAt;
    this.workDir = init.workDir;
    this.outDir = init.outDir;
    this.config = init.config;
    this.profile = init.profile;
    this.scrapeTimeoutMs = init.scrapeTimeoutMs;
    this.runtime = init.runtime;
    this.notes = init.notes;
    this.progress = deps.progress;
    this.signal = deps.signal;
  }

  /** The budget both paths run with (--series-budget; default: neither is limited). */
  get budget(): Budget {
    return budgetOf(this.config);
  }

  /** Prometheus' per-pod sample_limit in force (null = none: the lab lifts the config's, as the collector's caps). */
  get sampleLimit(): number | null {
    return this.budget.sampleLimit;
  }

  /** The stack's endpoints: only phases after start use them. */
  get stack(): StackEndpoints {
    if (!this.endpoints) throw new Error('the stack is not up');
    return this.endpoints;
  }

  /** A client for pull's store — the stack's only Prometheus with `--store shared` (default timeout: the client's). */
  prom(timeoutMs?: number): PromClient {
    return new PromClient(this.stack.prometheusUrl, timeoutMs);
  }

  /** A client for one path's store (#24): its own Prometheus with `--store per-path`, else the shared one. */
  store(path: PathName, timeoutMs?: number): PromClient {
    return new PromClient(storeUrl(this.stack, path), timeoutMs);
  }

  /** Stops on Ctrl-C, or when a probe found the run cannot go on (e.g. the host runs out of memory). */
  checkFatal(): void {
    throwIfAborted(this.signal);
    if (this.probe?.fatal) throw this.probe.fatal;
  }

  /** Enters a phase: marks it, tells the probe and the progress output, and annotates it in Pushgateway. */
  async setPhase(ph: Phase, detail?: string): Promise<void> {
    if (this.phases[this.phases.length - 1]?.phase === ph) return;
    const now = Date.now();
    this.phases.push({ phase: ph, startMs: now });
    const cp = contractPhase(ph);
    if (cp && this.contractStarted[cp] === undefined) this.contractStarted[cp] = now;
    if (this.probe) this.probe.phase = ph;
    this.progress.phase(ph, {
      elapsedMs: now - this.t0Run,
      pods: this.config.pods,
      producers: this.config.producers,
      ...(detail ? { detail } : {}),
    });
    await this.annotate();
  }

  /** Re-pushes the phase annotation when the last one is over 15 s old (keeps PushgatewayGroupStale quiet). */
  async annotateIfStale(now = Date.now()): Promise<void> {
    if (now - this.lastAnnotation > 15_000) await this.annotate();
  }

  async annotate(): Promise<void> {
    if (!this.endpoints) return;
    const cur = contractPhase(this.phases[this.phases.length - 1]?.phase ?? 'start');
    if (!cur) return;
    this.lastAnnotation = Date.now();
    try {
      await pushPhaseMetrics(this.endpoints.pushgatewayUrl, {
        runId: this.runId,
        current: cur,
        startedMs: this.contractStarted,
        expectedSources: this.config.pods,
        burstAtMs: this.burstAtMs,
      });
    } catch (e) {
      if (!this.annotationFailed)
        this.progress.note(`pushgateway phase annotation failed: ${describeError(e)}`);
      this.annotationFailed = true;
    }
  }
}
