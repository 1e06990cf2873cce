// Docker runtime: dockerode against the local engine, service definitions read from the repo's
// docker-compose.yml (so the lab runs exactly the images, commands and namespaces users run with compose).
//
// Differences from a plain `docker compose up`, each deliberate:
// - every container carries the label `pushpull.lab=<runId>` (a reaper removes leftovers of a crashed run);
// - ports are published on 127.0.0.1 with engine-chosen host ports, so a lab run never collides with a
//   compose stack (or anything else) already holding 9090/9091/9102;
// - Prometheus gets a config derived for this run (scrape interval, limits) from a per-run directory;
// - the producer fleet is scaled by creating/removing containers one by one, each with its own
//   published control port, instead of `--scale`.
//
// This file is the wiring: the class holds one DockerStack (state.ts) and delegates to the pieces —
// engine.ts (ping, images), compose.ts, containers.ts, stack.ts (base components), fleet.ts (producers),
// faults.ts, aux.ts, snapshot.ts (state.json), reaper.ts (down, crashed runs), labels.ts.
import { LabError } from '@pushpull/common';
import Docker from 'dockerode';
import {
  componentOf,
  type Enforcement,
  type ResourceComponent,
  type ResourceCounters,
} from '../../core/resources.ts';
import { statsOfPid, sumStats } from '../cgroups/manager.ts';
import { containerCpuSeconds, containerRssBytes } from '../engine.ts';
import { beginRun, forgetRun, startOrTearDown } from '../engine-stack.ts';
import type { GrafanaPlacement } from '../grafana.ts';
import { componentOfService, engineEnforcement } from '../resource-limits.ts';
import type {
  AuxAddresses,
  AuxProcess,
  FaultKind,
  PartitionReach,
  ProducerMember,
  ProducerOptions,
  PullAgentInfo,
  Runtime,
  RuntimeAvailability,
  RuntimeFactory,
  StackEndpoints,
  StackOptions,
  StackState,
} from '../types.ts';
import { runAux } from './aux.ts';
import { readCompose } from './compose.ts';
import { missingImages, pingEngine } from './engine.ts';
import { injectFault } from './faults.ts';
import { scaleFleet } from './fleet.ts';
import { LAB_LABEL } from './labels.ts';
import { reapLeftovers, removeRun } from './reaper.ts';
import { describeStack, restoreStack } from './snapshot.ts';
import { preflight, startBaseStack } from './stack.ts';
import { allContainers, type DockerStack, emptyStack } from './state.ts';

export { demuxStdout } from './aux.ts';
export { containerPorts } from './compose.ts';
export { producerArgs } from './fleet.ts';
export { isLeftover, LAB_LABEL } from './labels.ts';

export interface DockerRuntimeOptions {
  repoRoot: string;
  docker?: Docker;
}

export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;
  private readonly s: DockerStack;
  /** Container id → its main pid (for its cgroup counters). */
  private readonly pids = new Map<string, number>();

  constructor(cfg: DockerRuntimeOptions) {
    this.s = emptyStack(cfg.docker ?? new Docker(), readCompose(cfg.repoRoot), cfg.repoRoot);
  }

  /** Resolves when the engine answers; otherwise a clear LAB_ERR_DOCKER_UNREACHABLE. */
  ping(): Promise<void> {
    return pingEngine(this.s.docker);
  }

  /** Names of the compose images that are not present locally (the lab never pulls). */
  missingImages(): Promise<string[]> {
    return missingImages(this.s.docker, this.s.compose);
  }

  /** Removes every container and network labelled by a lab run not in `keep` (a crashed or killed one). */
  reap(keep: readonly string[]): Promise<string[]> {
    return reapLeftovers(this.s.docker, keep);
  }

  async up(opts: StackOptions): Promise<StackEndpoints> {
    const s = this.s;
    if (s.endpoints) return s.endpoints;
    beginRun(s, opts);
    s.withNodeExporter = opts.withNodeExporter;
    s.agentOptions = opts.pullTopology === 'agent' ? opts : null;
    await preflight(s);
    return startOrTearDown(
      s,
      () => startBaseStack(s, opts),
      () => this.down(),
    );
  }

  async scale(producers: number, popts: ProducerOptions): Promise<ProducerMember[]> {
    if (!this.s.endpoints) throw new LabError('LAB_ERR_CONFIG', 'scale() before up()');
    await scaleFleet(this.s, producers, popts);
    return this.members();
  }

  /** #29: the pull agents, one per producer container (`--pull-topology agent`); none otherwise. */
  pullAgents(): PullAgentInfo[] {
    return [...this.s.agents.values()];
  }

  members(): ProducerMember[] {
    return this.s.producers.map((p) => p.member);
  }

  /** Grafana joins the run's network, where the compose alias `prometheus` stays valid. */
  grafanaPlacement(): GrafanaPlacement {
    if (!this.s.endpoints) throw new LabError('LAB_ERR_CONFIG', 'grafanaPlacement() before up()');
    const perPath = this.s.endpoints.pushPrometheusUrl !== undefined;
    return {
      network: this.s.networkName,
      prometheusUrl: 'http://prometheus:9090',
      ...(perPath ? { pushPrometheusUrl: 'http://prometheus-push:9090' } : {}),
    };
  }

  /** One extra producer-binary container on the lab network (a short-lived job, a one-pod serve). */
  runAux(name: string, args: (a: AuxAddresses) => string[]): Promise<AuxProcess> {
    return runAux(this.s, name, args);
  }

  fault(kind: FaultKind, member: ProducerMember): Promise<void> {
    return injectFault(this.s, kind, member);
  }

  /**
   * `docker network disconnect` takes the container off its only network: every path is cut, the
   * control API with them (its published port goes too).
   */
  partitionReach(_member: ProducerMember): PartitionReach {
    return { paths: { scrape: true, push: true }, controlApiDuringCut: false };
  }

  /**
   * Each container's CPU seconds from its cgroup (through its main pid): a file read, where the engine's
   * stats call takes about a second per container (it samples twice), which left the 1 s probe with a
   * reading in 47.5% of burst seconds (2026-12-07). The engine's stats answer when the pid is unknown.
   */
  async cpuSeconds(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    await Promise.all(
      allContainers(this.s).map(async ({ name, c }) => {
        const pid = await this.pidOf(c);
        // a removed container has no stats: leave it out rather than report 0
        const seconds = (pid > 0 ? statsOfPid(pid)?.cpuSeconds : null) ?? (await containerCpuSeconds(c));
        if (seconds !== null && seconds !== undefined) out[name] = seconds;
      }),
    );
    return out;
  }

  /** Each container's main process' resident memory (/proc/<pid>/status), by component or member name. */
  async rssBytes(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    await Promise.all(
      allContainers(this.s).map(async ({ name, c }) => {
        const pid = await this.pidOf(c);
        const rss = pid > 0 ? containerRssBytes(pid) : null;
        if (rss !== null) out[name] = rss;
      }),
    );
    return out;
  }

  /** A container's main pid (0 when it has none), asked of the engine once. */
  private async pidOf(c: Docker.Container): Promise<number> {
    let pid = this.pids.get(c.id);
    if (pid === undefined) {
      pid = (await c.inspect().catch(() => null))?.State?.Pid ?? 0;
      if (pid > 0) this.pids.set(c.id, pid);
    }
    return pid;
  }

  /** The engine enforces every container's budget; the lab itself runs on the host, outside it. */
  enforcement(): Enforcement {
    return engineEnforcement('docker', this.s.resources);
  }

  /** Each container's cgroup counters (via its main pid), summed per component (the producers). */
  async resourceCounters(): Promise<Partial<Record<ResourceComponent, ResourceCounters>>> {
    if (!this.s.resources) return {};
    const by = new Map<ResourceComponent, ResourceCounters[]>();
    await Promise.all(
      allContainers(this.s).map(async ({ name, c }) => {
        const comp = componentOfService(name) ?? componentOf(name); // producers, pull agents (#29)
        if (!comp) return;
        const pid = await this.pidOf(c);
        const st = pid > 0 ? statsOfPid(pid) : null;
        if (st) by.set(comp, [...(by.get(comp) ?? []), st]);
      }),
    );
    const out: Partial<Record<ResourceComponent, ResourceCounters>> = {};
    for (const [comp, xs] of by) {
      const sum = sumStats(xs);
      if (sum) out[comp] = sum;
    }
    return out;
  }

  async dead(): Promise<string[]> {
    const running = await this.s.docker
      .listContainers({ filters: { label: [`${LAB_LABEL}=${this.s.runId}`], status: ['running', 'paused'] } })
      .catch(() => null);
    if (!running) return [];
    const ids = new Set(running.map((c) => c.Id));
    return allContainers(this.s)
      .filter(({ c }) => !ids.has(c.id))
      .map(({ name }) => name);
  }

  describe(): StackState {
    return describeStack(this.s);
  }

  /** Re-attaches to a stack an earlier `up` started (its containers outlive the CLI). */
  restore(state: StackState): void {
    restoreStack(this.s, state);
  }

  async down(): Promise<void> {
    if (!this.s.runId) return;
    await removeRun(this.s);
    this.s.agents.clear();
    forgetRun(this.s);
  }
}

export function dockerRuntimeFactory(repoRoot: string): RuntimeFactory {
  return {
    kind: 'docker',
    // async: a constructor error (no docker-compose.yml) becomes a rejection, as select.ts expects.
    available: async () => availability(new DockerRuntime({ repoRoot })),
    create: () => new DockerRuntime({ repoRoot }),
    async attach(state: StackState): Promise<Runtime> {
      const rt = new DockerRuntime({ repoRoot });
      await rt.ping();
      rt.restore(state);
      return rt;
    },
    reap: (keep) => new DockerRuntime({ repoRoot }).reap(keep),
  };
}

/** The selector's question: an engine that answers, and every image of the stack present. */
async function availability(rt: DockerRuntime): Promise<RuntimeAvailability> {
  try {
    await rt.ping();
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const missing = await rt.missingImages();
  if (missing.length > 0)
    return {
      ok: false,
      reason: `Docker engine answers but images are missing (${missing.join(', ')}): run \`bash scripts/airgap-images.sh\``,
    };
  return { ok: true, reason: 'Docker engine reachable, images present' };
}
