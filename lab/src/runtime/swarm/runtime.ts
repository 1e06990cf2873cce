// Swarm runtime: the same stack as a Docker Swarm deployment, for staging at full scale across as many nodes
// as the fleet needs — an existing distributed engine built into the Docker Engine, not an agent protocol of
// ours. Deployed through the engine's service API (dockerode), not `docker stack deploy`: every producer is
// its own service with its own command line and node, added and removed one by one like the docker runtime's
// containers, each object labelled with the run id as it is created, and no docker CLI needed on the lab's
// host. `auto` never picks this runtime: `--runtime swarm` only.
//
// How the lab reaches the stack: swarm cannot publish on 127.0.0.1 (ingress and host-mode ports bind every
// interface) and the host cannot route to overlay addresses, so nothing is published by swarm at all; a plain
// container on the run's attachable overlay (the proxy, scripts.ts) publishes one port on 127.0.0.1, and the
// lab reaches Prometheus, the Pushgateway, the collector and every producer's control API through it.
//
// This file is the wiring: the class holds one SwarmStack (state.ts) and delegates to engine.ts,
// preflight.ts, deploy.ts, fleet.ts, faults.ts, snapshot.ts, reaper.ts; placement.ts and specs.ts are pure.
import { LabError } from '@pushpull/common';
import Docker from 'dockerode';
import type { Enforcement } from '../../core/resources.ts';
import { containerCpuSeconds, containerRssBytes } from '../engine.ts';
import { beginRun, forgetRun, startOrTearDown } from '../engine-stack.ts';
import { engineEnforcement } from '../resource-limits.ts';
import type {
  AuxAddresses,
  AuxProcess,
  FaultKind,
  PartitionReach,
  ProducerMember,
  ProducerOptions,
  Runtime,
  RuntimeAvailability,
  RuntimeFactory,
  StackEndpoints,
  StackOptions,
  StackState,
} from '../types.ts';
import { runAux } from './aux.ts';
import { deployBase, specContext } from './deploy.ts';
import { swarmNodes } from './engine.ts';
import { injectFault } from './faults.ts';
import { scaleFleet } from './fleet.ts';
import { type EnvironmentNode, placedOn, type SwarmNode } from './nodes.ts';
import { withAgentTasks } from './push-agents.ts';
import { reapLeftovers, removeRun } from './reaper.ts';
import { describeStack, restoreStack } from './snapshot.ts';
import { composeServices, nodeTaskOf, producerSpec } from './specs.ts';
import { emptyStack, type SwarmStack } from './state.ts';
import { newest, tasksOf } from './tasks.ts';

export class SwarmRuntime implements Runtime {
  readonly kind = 'swarm' as const;
  private readonly s: SwarmStack;
  private signal: AbortSignal | undefined;
  /** Container id → its main pid (for its resident memory). */
  private readonly pids = new Map<string, number>();

  constructor(repoRoot: string, docker: Docker = new Docker()) {
    this.s = emptyStack(docker, repoRoot, composeServices(repoRoot));
  }

  async up(opts: StackOptions): Promise<StackEndpoints> {
    const s = this.s;
    if (s.endpoints) return s.endpoints;
    beginRun(s, opts);
    this.signal = opts.signal;
    return startOrTearDown(
      s,
      () => deployBase(s, opts),
      () => this.down(),
    );
  }

  async scale(producers: number, popts: ProducerOptions): Promise<ProducerMember[]> {
    if (!this.s.endpoints) throw new LabError('LAB_ERR_CONFIG', 'scale() before up()');
    await scaleFleet(this.s, producers, popts, this.signal);
    return this.members();
  }

  members(): ProducerMember[] {
    return this.s.producers.map((p) => p.member);
  }

  fault(kind: FaultKind, member: ProducerMember): Promise<void> {
    return injectFault(this.s, kind, member);
  }

  /**
   * `docker network disconnect` from the run's overlay: every path is cut, the control API (reached
   * through the overlay) with them.
   */
  partitionReach(_member: ProducerMember): PartitionReach {
    return { paths: { scrape: true, push: true }, controlApiDuringCut: false };
  }

  /** A one-off producer-binary task inside the stack (a short-lived `job`, a one-pod `serve`): aux.ts. */
  runAux(name: string, args: (a: AuxAddresses) => string[]): Promise<AuxProcess> {
    return runAux(this.s, name, args);
  }

  /** The run record's per-node environment (name, cores, memory, clock offset) and its warnings. */
  /** Swarm enforces cores and memory (Resources.Limits); it has no cpuset, and the lab runs outside it. */
  enforcement(): Enforcement {
    return engineEnforcement('swarm', this.s.resources);
  }

  environment(): { nodes: EnvironmentNode[]; notes: string[] } {
    const ctx = specContext(this.s);
    const task = (name: string) => nodeTaskOf(name, producerSpec(ctx, name, [], [], this.s.producers.length));
    const nodes = placedOn(this.s.environment.nodes, this.s.producers, task);
    return { ...this.s.environment, nodes: withAgentTasks(nodes, ctx, this.s.pushAgents.nodes) }; // #27
  }

  /** CPU seconds of the tasks on the manager's node (the lab reaches no other engine). */
  async cpuSeconds(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    await Promise.all(
      (await this.localContainers()).map(async ([name, cid]) => {
        // a task that just ended has no stats: leave it out rather than report 0
        const seconds = await containerCpuSeconds(this.s.docker.getContainer(cid));
        if (seconds !== null) out[name] = seconds;
      }),
    );
    return out;
  }

  /** Resident memory of the tasks on the manager's node (their main process, /proc/<pid>/status): #27's agents'. */
  async rssBytes(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    await Promise.all(
      (await this.localContainers()).map(async ([name, cid]) => {
        let pid = this.pids.get(cid);
        if (pid === undefined) {
          pid =
            (
              await this.s.docker
                .getContainer(cid)
                .inspect()
                .catch(() => null)
            )?.State?.Pid ?? 0;
          if (pid > 0) this.pids.set(cid, pid);
        }
        const rss = pid > 0 ? containerRssBytes(pid) : null;
        if (rss !== null) out[name] = rss;
      }),
    );
    return out;
  }

  /** The running tasks on the manager's node: component or member name → container id. */
  private async localContainers(): Promise<[string, string][]> {
    const names = new Map<string, string>([...this.s.base].map(([n, id]) => [id, n]));
    for (const p of this.s.producers) names.set(p.serviceId, p.member.name);
    const tasks = await tasksOf(this.s.docker, [...names.keys()]).catch(() => []);
    return [...names].flatMap(([id, name]): [string, string][] => {
      const t = newest(tasks, id);
      const cid = t?.Status?.ContainerStatus?.ContainerID;
      if (!cid || t.NodeID !== this.s.localNodeId || t.Status?.State !== 'running') return [];
      return [[name, cid]];
    });
  }

  /** Components whose newest task is not running (a killed task stays dead: restart policy none). */
  async dead(): Promise<string[]> {
    const names = new Map<string, string>([...this.s.base].map(([n, id]) => [id, n]));
    for (const p of this.s.producers) names.set(p.serviceId, p.member.name);
    const tasks = await tasksOf(this.s.docker, [...names.keys()]).catch(() => null);
    if (!tasks) return [];
    return [...names].filter(([id]) => newest(tasks, id)?.Status?.State !== 'running').map(([, n]) => n);
  }

  describe(): StackState {
    return describeStack(this.s);
  }

  /** Re-attaches to a stack an earlier `up` deployed, with the swarm's nodes as they are now. */
  restore(state: StackState, nodes: SwarmNode[]): void {
    restoreStack(this.s, state);
    this.s.nodes = nodes;
  }

  async down(): Promise<void> {
    if (!this.s.runId) return;
    await removeRun(this.s.docker, this.s.runId);
    forgetRun(this.s);
    this.s.pushAgents = { nodes: {}, urls: new Map() };
  }
}

export function swarmRuntimeFactory(repoRoot: string): RuntimeFactory {
  const docker = () => new Docker();
  return {
    kind: 'swarm',
    available: async () => availability(docker()),
    create: () => new SwarmRuntime(repoRoot),
    async attach(state: StackState): Promise<Runtime> {
      const rt = new SwarmRuntime(repoRoot);
      const found = await swarmNodes(docker());
      rt.restore(state, found.nodes);
      return rt;
    },
    reap: (keep) => reapLeftovers(docker(), keep),
  };
}

/** The selector's question: an engine that answers and is a manager of an active swarm. */
async function availability(docker: Docker): Promise<RuntimeAvailability> {
  try {
    const { nodes } = await swarmNodes(docker);
    return {
      ok: true,
      reason: `swarm manager reachable, ${nodes.length} node(s); images are checked per node at up`,
    };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}
