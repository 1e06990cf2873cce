// Process runtime: Prometheus, Pushgateway, node-exporter (optional), the collector and the producer fleet
// as child processes on 127.0.0.1, ports chosen free, data in a temp dir that this runtime owns (created in
// up(), removed in down()). Faults: SIGKILL, SIGSTOP/SIGCONT, restart.
//
// On this runtime node-exporter reads the HOST's network namespace, which is also the collector's: its
// node_netstat_Udp_* counters are the collector's drops, but also any other UDP receiver's on this machine.
//
// This file is the wiring: the class holds one ProcessStack (state.ts) and delegates to the pieces —
// stack.ts (base components), fleet.ts (producers), faults.ts, aux.ts, snapshot.ts (state.json),
// reaper.ts (crashed runs), binaries.ts (what must be installed).
import { rmSync } from 'node:fs';
import { LabError } from '@pushpull/common';
import { paths } from '../../core/paths.ts';
import {
  type Enforcement,
  isEmptyPlan,
  RESOURCE_COMPONENTS,
  type ResourceComponent,
  type ResourceCounters,
} from '../../core/resources.ts';
import { abortableSleep } from '../../core/time.ts';
import { CgroupManager, reapCgroups } from '../cgroups/manager.ts';
import type { GrafanaPlacement } from '../grafana.ts';
import type {
  AuxAddresses,
  AuxProcess,
  ComponentFaultKind,
  FaultKind,
  PartitionReach,
  ProducerMember,
  ProducerOptions,
  PullAgentInfo,
  PullTierFaultKind,
  PushAgentFaultKind,
  Runtime,
  RuntimeFactory,
  StackEndpoints,
  StackOptions,
  StackState,
} from '../types.ts';
import { runAux } from './aux.ts';
import { checkPrerequisites, processAvailability } from './binaries.ts';
import {
  cpuSecondsOf,
  isAlive,
  killNow,
  rssBytesOf,
  type SpawnedChild,
  tail,
  terminate,
} from './children.ts';
import { faultComponent } from './component-faults.ts';
import { injectFault, partitionReach } from './faults.ts';
import { scaleFleet } from './fleet.ts';
import { closeAgentRelays, pullTierFault } from './pull-tier.ts';
import { closeForwardRelays, pushAgentFault } from './push-agent-faults.ts';
import { reapProcessRuns } from './reaper.ts';
import { describeStack, restoreStack } from './snapshot.ts';
import { prepareWorkDir, startBaseStack } from './stack.ts';
import { emptyStack, type ProcessStack, writeLabJson } from './state.ts';

export { APT_PACKAGES, BINARIES } from './binaries.ts';
export { reapProcessRuns } from './reaper.ts';

export class ProcessRuntime implements Runtime {
  readonly kind = 'process' as const;
  private readonly s: ProcessStack;

  constructor(root: string) {
    this.s = emptyStack(root);
  }

  async up(opts: StackOptions): Promise<StackEndpoints> {
    const s = this.s;
    if (s.endpoints) return s.endpoints;
    // The relays that make a producer partitionable live in this process; a persistent stack outlives it.
    if (opts.persistent === true && opts.partitionable === true)
      throw new LabError(
        'LAB_ERR_CONFIG',
        'partitionable: a persistent process stack (`up`) cannot be partitioned — its producers would outlive the relays in this process',
      );
    if (opts.persistent === true && opts.agentRelays === true)
      throw new LabError(
        'LAB_ERR_CONFIG',
        "agentRelays: a persistent process stack (`up`) cannot relay its agents' remote write — they would outlive the relays in this process",
      );
    s.opts = opts;
    s.runId = opts.runId;
    s.workDir = opts.workDir;
    s.persistent = opts.persistent === true;
    s.withNodeExporter = opts.withNodeExporter;
    s.startedAtMs = Date.now();
    s.log = opts.log;
    checkPrerequisites(paths(s.root), opts.withNodeExporter);
    prepareWorkDir(s);
    this.openCgroups(opts);
    s.endpoints = await startBaseStack(s, opts);
    writeLabJson(s);
    return s.endpoints;
  }

  /**
   * The plan's cgroups, before the first child: each spawn joins its component's group (state.ts spawnIn).
   * The lab's own process joins `lab` for a run, not for `up` (the lab exits; its children stay).
   */
  private openCgroups(opts: StackOptions): void {
    const s = this.s;
    if (!opts.resources || isEmptyPlan(opts.resources)) return;
    s.cgroups = CgroupManager.open(s.runId, opts.resources);
    if (!s.persistent) s.cgroups.add('lab', process.pid);
    const off = RESOURCE_COMPONENTS.filter((c) => s.cgroups!.enforcedBy[c] === 'unenforced');
    if (off.length > 0)
      s.log(
        `resources unenforced for ${off.join(', ')}: ${s.cgroups.notes[off[0]!] ?? 'no permission'} (the record says so)`,
      );
  }

  enforcement(): Enforcement {
    const cg = this.s.cgroups;
    return Object.fromEntries(
      RESOURCE_COMPONENTS.map((c) => {
        const note = cg ? cg.notes[c] : 'no resource plan';
        return [c, { enforcedBy: cg ? cg.enforcedBy[c] : 'unenforced', ...(note ? { note } : {}) }];
      }),
    ) as Enforcement;
  }

  async resourceCounters(): Promise<Partial<Record<ResourceComponent, ResourceCounters>>> {
    return this.s.cgroups?.stats() ?? {};
  }

  async scale(producers: number, opts: ProducerOptions): Promise<ProducerMember[]> {
    await scaleFleet(this.s, producers, opts);
    return this.members();
  }

  /** #29: the pull agents, one per producer (`--pull-topology agent`); none otherwise. */
  pullAgents(): PullAgentInfo[] {
    return [...this.s.agents.values()];
  }

  /** #29 drill: kill/pause/resume the central store or an agent; partition/heal an agent's remote write. */
  pullTierFault(kind: PullTierFaultKind, component: string): Promise<void> {
    return pullTierFault(this.s, kind, component);
  }

  members(): ProducerMember[] {
    return this.s.producers.map((p) => p.member);
  }

  /** Everything listens on the host's loopback: Grafana joins the host network. */
  grafanaPlacement(): GrafanaPlacement {
    if (!this.s.endpoints) throw new LabError('LAB_ERR_CONFIG', 'grafanaPlacement() before up()');
    const push = this.s.endpoints.pushPrometheusUrl;
    return {
      network: 'host',
      prometheusUrl: this.s.endpoints.prometheusUrl,
      ...(push ? { pushPrometheusUrl: push } : {}),
    };
  }

  fault(kind: FaultKind, member: ProducerMember): Promise<void> {
    return injectFault(this.s, kind, member);
  }

  partitionReach(member: ProducerMember): PartitionReach {
    return partitionReach(this.s, member);
  }

  /** #27: the push agent tier's faults (push-agent-faults.ts). */
  pushAgentFault(kind: PushAgentFaultKind, member?: ProducerMember): Promise<void> {
    return pushAgentFault(this.s, kind, member);
  }

  /** #28: SIGKILL / SIGSTOP / SIGCONT a base component (pull's second replica in the drill). */
  async faultComponent(kind: ComponentFaultKind, component: string): Promise<void> {
    faultComponent(this.s, kind, component);
  }

  async cpuSeconds(): Promise<Record<string, number>> {
    return this.perComponent(cpuSecondsOf);
  }

  async rssBytes(): Promise<Record<string, number>> {
    return this.perComponent(rssBytesOf);
  }

  /** Base components and producers by name → a per-pid reading; unreadable (gone) pids are left out. */
  private perComponent(read: (pid: number) => number | null): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { name, child } of this.children()) {
      const v = read(child.pid);
      if (v !== null) out[name] = v;
    }
    return out;
  }

  private children(): { name: string; child: SpawnedChild }[] {
    return [
      ...[...this.s.base].map(([name, child]) => ({ name, child })),
      ...this.s.producers.map((p) => ({ name: p.member.name, child: p.child })),
    ];
  }

  async dead(): Promise<string[]> {
    return this.children()
      .filter(({ child }) => !isAlive(child.pid))
      .map(({ name }) => name);
  }

  /** Last lines a component wrote to stderr, else stdout (for error messages). */
  async logs(name: string, lines = 12): Promise<string> {
    const c = this.s.base.get(name) ?? this.s.producers.find((p) => p.member.name === name)?.child;
    return c ? tail(c.stderrPath, lines) || tail(c.stdoutPath, lines) : '';
  }

  describe(): StackState {
    return describeStack(this.s);
  }

  /** Rebuilds the runtime from a StackState written by an earlier invocation (children it did not spawn). */
  restore(state: StackState): void {
    restoreStack(this.s, state);
  }

  runAux(name: string, args: (a: AuxAddresses) => string[]): Promise<AuxProcess> {
    return runAux(this.s, name, args);
  }

  /** Best-effort synchronous SIGKILL of everything (second Ctrl-C, process exit). */
  killNow(): void {
    for (const c of this.s.aux) killNow(c.pid);
    for (const p of this.s.producers) killNow(p.child.pid);
    for (const c of this.s.base.values()) killNow(c.pid);
    this.removeCgroups();
  }

  /** The run's groups; an attached stack (`down` after `up`) has no manager: its groups are reaped by run id. */
  private removeCgroups(): void {
    const s = this.s;
    if (s.cgroups) s.cgroups.remove();
    else if (s.runId) reapCgroups([], undefined, s.runId);
    s.cgroups = null;
  }

  async down(): Promise<void> {
    const s = this.s;
    // Producers first (they flush and remove their discovery files), then the base stack.
    await Promise.all([
      ...s.aux.map((c) => terminate(c.pid)),
      ...s.producers.map((p) => terminate(p.child.pid)),
    ]);
    await Promise.all(s.producers.map((p) => p.relays?.close()));
    await closeForwardRelays(s); // #27: the agents' forward relays (a partitionable stack's)
    await closeAgentRelays(s); // #29 drill
    s.aux.length = 0;
    s.producers.length = 0;
    await Promise.all([...s.base.values()].map((c) => terminate(c.pid)));
    s.base.clear();
    s.agents.clear();
    const left = (await s.cgroups?.removeSettled()) ?? [];
    if (left.length > 0) s.log(`cgroups still in use, left for the reaper: ${left.join(', ')}`);
    this.removeCgroups();
    s.endpoints = null;
    if (s.workDir && s.ownsWorkDir) await removeWorkDir(s.workDir);
  }
}

/** Retries: a child that just died may still be closing files in it. */
async function removeWorkDir(dir: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    try {
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch {
      await abortableSleep(100);
    }
  }
}

export function processRuntimeFactory(repoRoot: string): RuntimeFactory {
  return {
    kind: 'process',
    available: async () => processAvailability(),
    create: () => new ProcessRuntime(repoRoot),
    async attach(state: StackState): Promise<Runtime> {
      const rt = new ProcessRuntime(repoRoot);
      rt.restore(state);
      return rt;
    },
    reap: async (keep) => [...(await reapProcessRuns(keep)), ...reapCgroups(keep)],
  };
}
