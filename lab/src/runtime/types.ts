// One Runtime interface, two implementations (docker, process), chosen by a strategy chain in select.ts.
// Everything the burst run, probes and faults need from "the stack" goes through this interface,
// so scenarios never know whether they run on containers or local processes.

import type { PushMode, Transport } from '@pushpull/common';
import type { Environment, RuntimeKind, StoreMode } from '../core/record.ts';
import type { PullTopology } from '../core/record-agents.ts';
import type { PushTopology } from '../core/record-push-agents.ts';
import type { Enforcement, ResourceComponent, ResourceCounters, ResourcePlan } from '../core/resources.ts';
import type { GrafanaPlacement } from './grafana.ts';
import type { ProducerScrape } from './prometheus-config.ts';

export type { RuntimeKind };

export interface StackOptions {
  runId: string;
  /** Directory for this run's temp data (process runtime) or generated files. */
  workDir: string;
  scrapeIntervalMs: number;
  /** Extra Prometheus scrape settings for the producers job (e.g. sample_limit, body_size_limit). */
  producerScrape?: ProducerScrape;
  withNodeExporter: boolean;
  /**
   * Extra collector flags (its limits: --max-series, --max-series-bytes, …), appended to its command on
   * every runtime, so a budget applies the same wherever the stack runs.
   */
  collectorFlags?: string[];
  /** Extra Pushgateway flags (capacity: --push.disable-consistency-check), appended on every runtime. */
  pushgatewayFlags?: string[];
  log: (msg: string) => void;
  /**
   * True for `up`: the stack must outlive this CLI invocation (process runtime: children detached, output
   * to files; docker: containers are never tied to the CLI anyway). False for `burst`: everything dies with
   * the run. Optional for backwards compatibility; absent = false.
   */
  persistent?: boolean;
  /** Aborts a slow up()/scale() (Ctrl-C). Implementations tear down what they started and reject. */
  signal?: AbortSignal;
  /**
   * The stack must be able to partition a producer (a drill with a partition fault). Docker and swarm cut a
   * container off its network natively. The process runtime has no network to cut: with this set, every
   * producer's paths — the scrapes of its pods, its StatsD (UDP or TCP) or OTLP push — go through a loopback
   * relay set in the lab's process that `partition` cuts and `heal` restores (runtime/process/relays.ts).
   * Off by default: the relays are an extra hop in the lab's own process, which a burst must not measure.
   */
  partitionable?: boolean;
  /**
   * run@3: each component's CPU and memory budget (core/resources.ts). Process runtime: cgroups; docker:
   * HostConfig; swarm: Resources.Limits. Absent = no budget.
   */
  resources?: ResourcePlan;
  /**
   * #24: `per-path` runs a second Prometheus (`prometheus-push`) for the push path's targets, the first keeping
   * the pull path's; absent or `shared` = one Prometheus for both.
   */
  store?: StoreMode;
  /**
   * #28: pull's Prometheus servers (2 = the Prometheus pair): identical, the same discovery and targets, apart
   * from an external `replica` label. Absent = 1. A runtime that cannot run two refuses it (capabilities.ts).
   */
  prometheusReplicas?: number;
  /** #29: `agent` = a Prometheus in agent mode per producer host remote-writes to pull's store (absent = central). */
  pullTopology?: PullTopology;
  /**
   * #27: `agent` = a collector agent per producer host forwards to the central collector (absent = central). The
   * engine runtimes split push's budget between the central collector and the agents (push-agent-args.ts).
   */
  pushTopology?: PushTopology;
  /**
   * #29 drill (process runtime): each pull agent remote-writes to pull's store through its own loopback relay in
   * the lab's process, which `pullTierFault('partition', agent)` cuts (its scrapes untouched). Off by default.
   */
  agentRelays?: boolean;
}

export interface ProducerOptions {
  podsPerProducer: number;
  seed: number;
  pushMode: PushMode;
  jitter: boolean;
  transport: Transport;
  /** Transport otlp only (absent = the SDK's default, cumulative). */
  otlpTemporality?: 'cumulative' | 'delta';
  heartbeatMs: number;
  flushIntervalMs: number;
  fleetPods: number;
  /**
   * Total virtual pods wanted. The last producer gets the remainder, so `pods` need not be a multiple of
   * `podsPerProducer` (scale(ceil(pods / podsPerProducer), opts)). Absent = producers × podsPerProducer.
   */
  totalPods?: number;
  /** TEST ONLY (swarm): the producers on the node whose id begins with `node` run with their clock `ms` off. */
  testClockSkew?: { node: string; ms: number };
  /**
   * Swarm only (#26 node drills): the producers' restart policy. Absent or `none`: a killed task stays dead
   * and each producer is pinned to the node placement chose. `on-failure`/`any`: swarm may reschedule a
   * producer's task — each producer may then run on any producer node (swarm's own spread), so a task on a
   * lost node can move.
   */
  restartPolicy?: 'none' | 'on-failure' | 'any';
  /** #27: `agent` = each producer's pods push to a collector agent on its host (absent = central). */
  pushTopology?: PushTopology;
}

/** Where the lab (on the host) reaches each component. Always loopback URLs. */
export interface StackEndpoints {
  /** Pull's store (`--store per-path`) or the one shared store. */
  prometheusUrl: string;
  /** #24: push's own store (`prometheus-push`) when the stack runs one; absent = the shared prometheusUrl. */
  pushPrometheusUrl?: string;
  /** #28: every pull replica in order (the first is prometheusUrl), when the stack runs more than one. */
  pullReplicaUrls?: string[];
  pushgatewayUrl: string;
  collectorHttpUrl: string;
  nodeExporterUrl: string | null;
}

export interface ProducerMember {
  /** Producer instance name (the `container` label). */
  name: string;
  /** Loopback base URL of its HTTP server (control API, /pods/<id>/metrics). */
  baseUrl: string;
  podIds: string[];
  /** OS pid (process runtime) or container id (docker runtime). */
  handle: string;
  /** #27: the HTTP base URL of the collector agent on its host (push topology agent). */
  pushAgentUrl?: string;
  /**
   * #27: that agent's name when it is not `agent-<i>` beside `producer-<i>` (swarm: one agent per producer node,
   * shared by the node's producers).
   */
  pushAgentName?: string;
}

export type FaultKind = 'kill' | 'pause' | 'resume' | 'partition' | 'heal' | 'restart';

/**
 * #27 (the drill's push-agent column): a fault on the push agent tier. `kill-agent`: SIGKILL the agent on a
 * producer's host; `cut-forward`/`heal-forward`: its forward path to the central collector (the pods → agent
 * path stays); `stop-central`/`start-central`: the central collector stopped, then started again on the same
 * addresses (empty: what it counted died with it).
 */
export type PushAgentFaultKind =
  | 'kill-agent'
  | 'cut-forward'
  | 'heal-forward'
  | 'stop-central'
  | 'start-central';
/** #28: what can happen to a base component (`Runtime.faultComponent`): pull's second replica dies or stalls. */
export type ComponentFaultKind = 'kill' | 'pause' | 'resume';
/** #29 drill: the faults on pull's own tier (the central store, a pull agent): no restart. */
export type PullTierFaultKind = Exclude<FaultKind, 'restart'>;

/** A producer's paths a partition can cut. */
export type CutPath = 'scrape' | 'push';

/**
 * What a `partition` of one producer reaches on this runtime, path by path. A path it cannot cut says why
 * (the drill then reports its cell "not applied on this runtime", never a measured 0).
 */
export interface PartitionReach {
  /** true = the partition cuts this path; a string = why it does not. */
  paths: Record<CutPath, true | string>;
  /** The control API (the ground-truth ledgers) answers during the cut: it is read outside the cut paths. */
  controlApiDuringCut: boolean;
  /** What the runtime's own cut counted since the producer started (cumulative: diff two readings). */
  relays?: RelayCounts;
}

/** The process runtime's relays for one producer (runtime/process/relays.ts). */
export interface RelayCounts {
  /** Prometheus' scrapes of its pods. */
  scrape: TcpRelayCounts;
  /** Its push path: UDP for StatsD datagrams, TCP for StatsD over TCP and OTLP/HTTP. */
  push: { tcp: TcpRelayCounts } | { udp: UdpRelayCounts };
}

export interface TcpRelayCounts {
  /** Connections relayed. */
  connections: number;
  /** Connections reset by a cut. */
  resetByCut: number;
}

export interface UdpRelayCounts {
  /** Datagrams received from the producer. */
  received: number;
  /** Datagrams handed on to the collector. */
  forwarded: number;
  /** Datagrams received while cut and dropped: sent by the producer, never received by the collector. */
  droppedInCut: number;
  /** Forwarding sends that failed. */
  forwardErrors: number;
}

/**
 * JSON-serialisable description of a running stack, written to `.lab/state.json` by `up` so that later
 * invocations (`status`, `scale`, `down`) can re-attach with RuntimeFactory.attach(). Each runtime may keep
 * its own data under `private` (process: pids, ports; docker: container ids, network name).
 */
export interface StackState {
  kind: RuntimeKind;
  runId: string;
  workDir: string;
  startedAtMs: number;
  endpoints: StackEndpoints;
  /** Base-stack components by name (`prometheus`, `pushgateway`, `collector`, `node-exporter`) → handle. */
  components: Record<string, string>;
  members: ProducerMember[];
  /** Options the current fleet was started with (so `scale` can add producers that match). */
  producerOptions: ProducerOptions | null;
  scrapeIntervalMs: number;
  private?: Record<string, unknown>;
}

/** Addresses an auxiliary process is given (as seen from where it runs). */
export interface AuxAddresses {
  /** Listen address for its HTTP server (process runtime: 127.0.0.1:0). */
  http: string;
  /** The Prometheus discovery directory (file_sd) of the stack. */
  sdDir: string;
  pushgatewayUrl: string;
  /** The collector's StatsD UDP address, HOST:PORT. */
  statsdUdp: string;
  /** The collector's OTLP/HTTP receiver, HOST:PORT, where the runtime offers it (process, docker). */
  otlpHttp?: string;
}

export interface AuxProcess {
  name: string;
  /** Loopback base URL when it serves HTTP (printed a "listening" line), else null. */
  baseUrl: string | null;
  /** SIGTERM (then SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** Optional: SIGKILL now, no chance to flush (process and docker runtimes). */
  kill?(): void;
  /** Waits (bounded) for it to exit; everything it wrote on stdout. */
  wait(timeoutMs: number): Promise<{ exitCode: number | null; stdout: string }>;
}

export interface Runtime {
  readonly kind: RuntimeKind;
  /** Brings the base stack up (prometheus, pushgateway, collector, node-exporter). Idempotent. */
  up(opts: StackOptions): Promise<StackEndpoints>;
  /** Scales the producer fleet to `producers` instances; returns the current members. */
  scale(producers: number, opts: ProducerOptions): Promise<ProducerMember[]>;
  members(): ProducerMember[];
  /**
   * Injects a fault into one producer. May update `member.baseUrl` in place (docker: after `heal` or
   * `restart` the control port is published on a new host port), so callers keep using the same object.
   */
  fault(kind: FaultKind, member: ProducerMember): Promise<void>;
  /**
   * Optional (#28): a fault on a base component by name — `prometheus-2`, pull's second replica (the drill's
   * `2 replicas` column): kill (SIGKILL), pause (SIGSTOP), resume (SIGCONT). Absent = this runtime cannot.
   */
  faultComponent?(kind: ComponentFaultKind, component: string): Promise<void>;
  /** What a `partition` of this member cuts (and, where the runtime relays its paths, what the cut counted). */
  partitionReach(member: ProducerMember): PartitionReach;
  /**
   * Optional (#27): a fault on the push agent tier (`pushTopology: 'agent'`); `member` names the host for the
   * agent faults (ignored by the central ones). Absent = this runtime cannot; a fault it cannot apply on this
   * stack (a forward cut without relays) throws LAB_ERR_FAULT_UNSUPPORTED saying why.
   */
  pushAgentFault?(kind: PushAgentFaultKind, member?: ProducerMember): Promise<void>;
  /**
   * CPU seconds consumed so far per component name (for the report's CPU chart). Keys: the base-stack
   * component names (`prometheus`, `pushgateway`, `collector`, `node-exporter`) and each producer member's
   * `name`; the lab groups member names into "producers".
   */
  cpuSeconds(): Promise<Record<string, number>>;
  /** Optional: resident memory in bytes per component (same keys as cpuSeconds), for the memory chart. */
  rssBytes?(): Promise<Record<string, number>>;
  /** Optional (run@3): who enforces each component's budget and why not where nobody does. Valid after up(). */
  enforcement?(): Enforcement;
  /** Optional (run@3): each budgeted component's cumulative counters (CPU, throttling, memory, OOM kills). */
  resourceCounters?(): Promise<Partial<Record<ResourceComponent, ResourceCounters>>>;
  /** Snapshot for `.lab/state.json` (see StackState). Valid after up(). */
  describe(): StackState;
  /**
   * Base-stack components that are no longer running (e.g. ["collector"] after it crashed); producers by
   * member name. Cheap; called by the probe loop so a dead child is named instead of timing out later.
   */
  dead(): Promise<string[]>;
  /** Tears down everything this runtime started. Safe to call twice and after a partial up(). */
  down(): Promise<void>;
  /**
   * Optional best-effort synchronous kill of everything started (a second Ctrl-C, process exit), for
   * runtimes that can (process: SIGKILL by pid). Docker need not implement it (its reaper covers a crash).
   */
  killNow?(): void;
  /** Optional: the last lines a component wrote (stderr, else stdout), for error messages. */
  logs?(name: string, lines?: number): Promise<string>;
  /**
   * Optional: starts one extra process of the producer binary inside the stack (e.g. a short-lived
   * `pushpull-producer job`, or a one-pod `serve` that registers in discovery), torn down with the stack.
   * `args` receives the addresses to use. `serve` processes are awaited until their "listening" line.
   */
  runAux?(name: string, args: (a: AuxAddresses) => string[]): Promise<AuxProcess>;
  /**
   * Optional: where a Grafana container must run to reach this stack's Prometheus (`burst --grafana`).
   * Valid after up(); absent = this runtime cannot host one (swarm).
   */
  grafanaPlacement?(): GrafanaPlacement;
  /** Optional (#29): the pull agents running now, one per producer host (`--pull-topology agent`). */
  pullAgents?(): PullAgentInfo[];
  /**
   * Optional (#29 drill): a fault on pull's own tier instead of a producer — `component` is the central store
   * (`prometheus`) or a pull agent by name. `partition`/`heal` cut an agent's remote write only (a stack up with
   * `agentRelays`). A fault the runtime cannot apply throws LAB_ERR_FAULT_UNSUPPORTED naming it.
   */
  pullTierFault?(kind: PullTierFaultKind, component: string): Promise<void>;
  /** Optional: the nodes the stack runs on and what a reader must know about them (swarm). Valid after up(). */
  environment?(): { nodes: NonNullable<Environment['nodes']>; notes: string[] };
}

/** One pull agent (#29): its name, the producer host whose pods it scrapes, and where the lab reaches it. */
export interface PullAgentInfo {
  name: string;
  host: string;
  /** Loopback base URL of its HTTP API (/metrics, /api/v1/targets). */
  url: string;
}

export interface RuntimeAvailability {
  ok: boolean;
  /** Why not (or what was found), for the selection message. */
  reason: string;
}

/**
 * What each runtime module exports (process.ts: `processRuntimeFactory`; docker.ts: `dockerRuntimeFactory`).
 * select.ts imports docker.ts lazily, so its dependencies (dockerode) load only when Docker is used.
 */
export interface RuntimeFactory {
  readonly kind: RuntimeKind;
  /** Can this runtime run here (engine reachable and images present / binaries on PATH)? Never throws. */
  available(): Promise<RuntimeAvailability>;
  create(): Runtime;
  /** Re-attaches to a stack started by an earlier invocation (`up`) from its StackState. */
  attach(state: StackState): Promise<Runtime>;
  /**
   * Removes leftovers of earlier runs that crashed (process: temp dirs `pushpull-lab-*` whose lab process is
   * gone, and their children that still carry the run's marker; docker: containers labelled with a run id
   * that is not live). Returns what was removed. Never touches the runs in `keepRunIds` (the stack recorded
   * in `.lab/state.json`).
   */
  reap(keepRunIds: string[]): Promise<string[]>;
}
