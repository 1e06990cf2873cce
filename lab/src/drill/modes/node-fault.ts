import { LabError, type LedgerCounts, sumCounts } from '@pushpull/common';
import Docker from 'dockerode';
import { abortableSleep } from '../../core/time.ts';
import { injectNodeFault } from '../../nodes/faults.ts';
import { ledgerInside, loseMachine, reviveMachine, workerOfNode } from '../../nodes/machine.ts';
import type { WorkerPlan } from '../../nodes/plan.ts';
import type { NodesState } from '../../nodes/state.ts';
import { ControlClient } from '../../probe/control.ts';
import type { ProducerMember } from '../../runtime/types.ts';
import { alertFiring, collectorOrdersFor, type Stack } from '../harness.ts';
import type { NODE_RESTART_POLICIES, Scenario } from '../scenario.ts';
import {
  type NodeAccount,
  type NodeDetection,
  type NodeFacts,
  type NodeFaultKind,
  nodeMetrics,
  nodePullCell,
  nodePushCell,
} from './node-cells.ts';
import { type SwarmSample, swarmTimeline, swarmWords, type TaskSample } from './node-timeline.ts';
import type { DrillMode, ModeOutcome } from './types.ts';

// #26: node-partition (the producer node's link down inside its namespace: overlay, swarm heartbeats,
// scrapes and pushes stop at once) and node-loss (the machine dies: its dockerd, containerd, shims and
// containers SIGKILLed; revived afterwards). Swarm runtime on worker nodes `nodes up` made; the producers run
// with a restart policy that lets swarm reschedule (`any` unless the scenario says `on-failure`), so what
// swarm did is observed, not ruled out by configuration. The victim is the node running the scenario's
// fault producer; every producer on that node is a victim.

/** InstanceDown's `for` in prometheus/rules (the cell says why it never fired when swarm was faster). */
const INSTANCE_DOWN_FOR_S = 30;

interface Victim {
  nodeId: string;
  worker: WorkerPlan;
  members: ProducerMember[];
  serviceIds: string[];
  /** Task id and container id of each victim at the fault. */
  tasks: { member: ProducerMember; taskId: string; containerId: string }[];
  pods: Set<string>;
  /** The node's targets as Prometheus knows them at the fault (instance label). */
  instances: Set<string>;
  otherProducerNodes: number;
}

interface ApiTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  CreatedAt?: string;
  DesiredState?: string;
  Status?: { State?: string; ContainerStatus?: { ContainerID?: string } };
  NetworksAttachments?: { Addresses?: string[] }[];
}

export const restartOf = (s: Scenario): (typeof NODE_RESTART_POLICIES)[number] =>
  s.params.restart === 'on-failure' ? 'on-failure' : 'any';

/** The nodes a node drill needs, or a clear LAB_ERR_SWARM naming what is missing. */
export function requireNodes(
  s: Pick<Scenario, 'name'>,
  runtime: string,
  nodes: { state: NodesState; statePath: string } | null | undefined,
  /** Where the state file was looked for (for the message when there is none). */
  where = nodes?.statePath ?? '',
): { state: NodesState; statePath: string } {
  const why =
    runtime !== 'swarm'
      ? `the ${runtime} runtime has no nodes to cut (use --runtime swarm)`
      : !nodes || nodes.state.plan.workers.length === 0
        ? 'no worker nodes are recorded'
        : null;
  if (why || !nodes)
    throw new LabError(
      'LAB_ERR_SWARM',
      `scenario ${s.name} acts on a producer node: it needs the swarm runtime with worker nodes made by \`pushpull-lab nodes up 2\`${where ? ` (state file ${where}; --nodes-dir sets its directory)` : ''}: ${why}`,
      { value: s.name },
    );
  return nodes;
}

const newestOf = (tasks: readonly ApiTask[], serviceId: string) =>
  tasks
    .filter((t) => t.ServiceID === serviceId)
    .sort((a, b) => (b.CreatedAt ?? '').localeCompare(a.CreatedAt ?? ''))[0];

/** A PromQL matcher for exactly these instances: regex-escaped, then escaped again for the string literal. */
export function instanceMatcher(instances: Iterable<string>): string {
  const re = [...instances].map((i) => i.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return `instance=~"${re.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
const instanceSel = (v: Victim) => instanceMatcher(v.instances);

async function findVictim(
  stack: Stack,
  docker: Docker,
  nodes: { state: NodesState },
  producer: number,
): Promise<Victim> {
  const ids = stack.members.map((m) => m.handle);
  const tasks = (await docker.listTasks({ filters: { service: ids } })) as ApiTask[];
  const nodeOf = (m: ProducerMember) => newestOf(tasks, m.handle)?.NodeID ?? '';
  const nodeId = nodeOf(stack.members[producer]!);
  const worker = workerOfNode(nodes.state, nodeId);
  if (!worker)
    throw new LabError(
      'LAB_ERR_SWARM',
      `producer ${producer} runs on node ${nodeId || '?'}, not on a worker \`nodes up\` made: nothing to cut`,
      { value: nodeId },
    );
  const members = stack.members.filter((m) => nodeOf(m) === nodeId);
  const names = new Set(members.map((m) => m.name));
  const up = await stack.prom.vector('up{job="producers"}');
  return {
    nodeId,
    worker,
    members,
    serviceIds: members.map((m) => m.handle),
    tasks: members.map((m) => {
      const t = newestOf(tasks, m.handle)!;
      return { member: m, taskId: t.ID, containerId: t.Status?.ContainerStatus?.ContainerID ?? '' };
    }),
    pods: new Set(members.flatMap((m) => m.podIds)),
    instances: new Set(up.filter((i) => names.has(i.metric.container ?? '')).map((i) => i.metric.instance!)),
    // The other workers `nodes up` made: where swarm may move the node's tasks.
    otherProducerNodes: nodes.state.plan.workers.length - 1,
  };
}

async function swarmSample(docker: Docker, v: Victim, atS: number): Promise<SwarmSample | null> {
  try {
    const node = (await docker.getNode(v.nodeId).inspect()) as { Status?: { State?: string } };
    const tasks = (await docker.listTasks({ filters: { service: v.serviceIds } })) as ApiTask[];
    return {
      atS,
      nodeState: node.Status?.State ?? '?',
      tasks: tasks.map(
        (t): TaskSample => ({
          id: t.ID,
          serviceId: t.ServiceID,
          nodeId: t.NodeID ?? '',
          state: t.Status?.State ?? '?',
          desired: t.DesiredState ?? '?',
        }),
      ),
    };
  } catch {
    return null; // the manager busy: one capture fewer, never a crash
  }
}

/** Polls `up`, both alerts and the swarm once a second for the window. */
async function watch(
  stack: Stack,
  v: Victim,
  tFault: number,
  windowMs: number,
  docker: Docker,
  out: ModeOutcome,
): Promise<{ d: NodeDetection; samples: SwarmSample[] }> {
  const { prom, deps } = stack;
  const d: NodeDetection = { upZeroS: null, pullAlertS: null, pushAlertS: null };
  const samples: SwarmSample[] = [];
  const original = new Set(v.tasks.map((t) => t.taskId));
  for (let i = 0; i < 3600; i++) {
    const el = Date.now() - tFault;
    if (el >= windowMs) break;
    const elS = Math.round(el / 100) / 10;
    const up = await prom.vector(`up{job="producers",${instanceSel(v)}}`).catch(() => []);
    const values = up.map((x) => Number(x.value[1]));
    if (d.upZeroS === null && values.length > 0 && values.every((x) => x === 0)) d.upZeroS = elS;
    out.series.upVictim!.push([elS, values.length ? Math.max(...values) : Number.NaN]);
    if (
      d.pullAlertS === null &&
      (await alertFiring(prom, 'InstanceDown', (l) => v.instances.has(l.instance ?? '')))
    )
      d.pullAlertS = elS;
    if (
      d.pushAlertS === null &&
      (await alertFiring(prom, 'PushHeartbeatAbsent', (l) => v.pods.has(l.source ?? '')))
    )
      d.pushAlertS = elS;
    out.series.alertsFiring!.push([elS, Number(d.pullAlertS !== null) + Number(d.pushAlertS !== null)]);
    const sample = await swarmSample(docker, v, elS);
    if (sample) {
      samples.push(sample);
      const elsewhere = sample.tasks.filter(
        (t) => !original.has(t.id) && t.nodeId !== v.nodeId && t.state === 'running',
      ).length;
      out.series.tasksRunningElsewhere!.push([elS, elsewhere]);
    }
    await abortableSleep(1000, deps.signal);
  }
  return { d, samples };
}

/** Tasks that replaced the victims, running on other nodes: reached through the proxy at their address. */
async function replacementsOf(docker: Docker, v: Victim): Promise<ControlClient[]> {
  const original = new Set(v.tasks.map((t) => t.taskId));
  const tasks = (await docker.listTasks({ filters: { service: v.serviceIds } })) as ApiTask[];
  const proxy = v.members[0]!.baseUrl.replace(/\/task\/[^/]+$/, '');
  return tasks
    .filter((t) => !original.has(t.ID) && t.NodeID !== v.nodeId && t.Status?.State === 'running')
    .flatMap((t) => {
      const ip = t.NetworksAttachments?.flatMap((n) => n.Addresses ?? [])[0]?.split('/')[0];
      return ip ? [new ControlClient(`${proxy}/task/${ip}:9100`)] : [];
    });
}

const victimCounts = (
  ledgers: readonly { pods: Record<string, LedgerCounts> }[],
  pods: ReadonlySet<string>,
) => sumCounts(ledgers.flatMap((l) => Object.entries(l.pods).flatMap(([p, c]) => (pods.has(p) ? [c] : []))));

type PodLedger = { pods: Record<string, LedgerCounts> };
const isLedger = (x: unknown): x is PodLedger =>
  typeof x === 'object' && x !== null && typeof (x as PodLedger).pods === 'object';

async function storedPull(stack: Stack, v: Victim): Promise<number> {
  const q = `sum(max_over_time(orders_total{job="producers",${instanceSel(v)}}[15m]))`;
  return (await stack.prom.scalar(q).catch(() => null)) ?? 0;
}

/**
 * A partition: the victims' final ledgers read inside the node (quiesced: workload stopped, buffers flushed),
 * then the heal, then what each path stored. The replacements' own pushes for the same pods are subtracted
 * from the collector's count (read quiesced too).
 */
async function accountPartition(
  stack: Stack,
  docker: Docker,
  v: Victim,
  nodes: { state: NodesState },
  before: Required<LedgerCounts>,
): Promise<NodeAccount> {
  const { scenario: s, deps } = stack;
  const finals = await Promise.all(
    v.tasks.map((t) =>
      ledgerInside(v.worker, t.containerId, true).catch((e: Error) => {
        deps.log(`${s.name}: ${t.member.name}'s ledger inside the node: ${e.message}`);
        return null;
      }),
    ),
  );
  await injectNodeFault('heal', v.worker, nodes.state);
  const healed = Date.now();
  const repl = await replacementsOf(docker, v);
  const replLedgers = await Promise.all(repl.map((c) => c.quiesce(deps.signal).catch(() => null)));
  await abortableSleep(Math.max(0, 2 * s.scrapeIntervalMs + 1500 - (Date.now() - healed)), deps.signal);
  const missing = finals.filter((x) => !isLedger(x)).length;
  // None readable inside the node: the ledgers at the cut (a lower bound of what the node emitted).
  const final = missing === finals.length ? before : victimCounts(finals.filter(isLedger), v.pods);
  const replPushed = victimCounts(
    replLedgers.flatMap((x) => (x ? [x] : [])),
    v.pods,
  ).ordersPushed;
  const collector = await collectorOrdersFor(stack.endpoints.collectorHttpUrl, v.pods);
  return {
    emittedPull: final.orders,
    storedPull: await storedPull(stack, v),
    emittedPush: final.ordersPushed,
    storedPush: Math.max(0, collector - replPushed),
    how: `the node's ledgers read inside it over \`docker exec\` at the end of the cut${missing ? ` (${missing} unreadable)` : ''}`,
    pushHow: repl.length
      ? `; ${replPushed} orders the ${repl.length} replacement task(s) pushed for the same pods subtracted`
      : '',
  };
}

/** Injects the fault, watches the window, accounts — and always heals / revives the node. */
async function faultAndWatch(
  stack: Stack,
  kind: NodeFaultKind,
  v: Victim,
  nodes: { state: NodesState; statePath: string },
  before: Required<LedgerCounts>,
  windowMs: number,
  docker: Docker,
  out: ModeOutcome,
): Promise<{ watched: Awaited<ReturnType<typeof watch>>; account: NodeAccount }> {
  const { scenario: s, deps } = stack;
  const tFault = Date.now();
  if (kind === 'partition') {
    deps.log(`${s.name}: ${await injectNodeFault('partition', v.worker, nodes.state)}`);
    let watched: Awaited<ReturnType<typeof watch>>;
    try {
      watched = await watch(stack, v, tFault, windowMs, docker, out);
    } catch (e) {
      await injectNodeFault('heal', v.worker, nodes.state).catch(() => undefined);
      throw e;
    }
    return { watched, account: await accountPartition(stack, docker, v, nodes, before) };
  }
  const k = await loseMachine(v.worker);
  deps.log(`${s.name}: ${v.worker.netns} lost: ${k.killed} processes SIGKILLed (${k.containers} containers)`);
  try {
    await abortableSleep(1500, deps.signal); // what was in flight before the death reaches the collector
    const pushAtLoss = await collectorOrdersFor(stack.endpoints.collectorHttpUrl, v.pods);
    const watched = await watch(stack, v, tFault, windowMs, docker, out);
    const account: NodeAccount = {
      emittedPull: before.orders,
      storedPull: await storedPull(stack, v),
      emittedPush: before.ordersPushed,
      storedPush: pushAtLoss,
      how: "the node's ledgers read just before its death; the collector read 1.5 s after it",
    };
    return { watched, account };
  } finally {
    await reviveMachine(v.worker, nodes.state, nodes.statePath).catch((e: Error) =>
      deps.log(`${s.name}: reviving ${v.worker.netns}: ${e.message}`),
    );
  }
}

async function nodeFault(stack: Stack, kind: NodeFaultKind): Promise<ModeOutcome> {
  const { scenario: s, variant, deps } = stack;
  const nodes = requireNodes(s, stack.runtime.kind, deps.nodes);
  const out: ModeOutcome = {
    cells: [],
    metrics: {},
    series: { upVictim: [], alertsFiring: [], tasksRunningElsewhere: [] },
    notes: [],
  };
  const docker = new Docker();
  const fault = s.faults.find((f) => f.action === (kind === 'partition' ? 'partition' : 'kill'));
  const heal = s.faults.find((f) => f.action === 'heal');
  const v = await findVictim(stack, docker, nodes, fault?.producer ?? 0);
  const before = victimCounts(
    await Promise.all(v.members.map((m) => new ControlClient(m.baseUrl).ledger(deps.signal))),
    v.pods,
  );
  const windowMs = kind === 'partition' && heal ? heal.atMs - (fault?.atMs ?? 0) : s.observeMs;
  const { watched, account } = await faultAndWatch(stack, kind, v, nodes, before, windowMs, docker, out);
  const tl = swarmTimeline(watched.samples, v.nodeId, v.serviceIds, new Set(v.tasks.map((t) => t.taskId)));
  const facts: NodeFacts = {
    kind,
    pods: v.pods.size,
    producers: v.members.length,
    swarm: swarmWords(tl, restartOf(s), v.otherProducerNodes),
    timeline: tl,
    instanceDownForS: INSTANCE_DOWN_FOR_S,
  };
  out.cells.push(
    nodePullCell(variant, facts, watched.d, account),
    nodePushCell(variant, facts, watched.d, account),
  );
  Object.assign(out.metrics, nodeMetrics(watched.d, tl, facts));
  out.swarm = facts.swarm;
  out.notes.push(
    `${kind === 'partition' ? `node-partition: ${v.worker.vethNode} down inside ${v.worker.netns}` : `node-loss: every process of ${v.worker.netns} (dockerd, containerd, shims, containers) SIGKILLed, the dockerd restarted after the window`}; ${facts.swarm}`,
    `the producers ran with swarm restart policy ${restartOf(s)} and no pin to a node (any producer node), so swarm could reschedule them`,
  );
  return out;
}

const producerOptions = (s: Scenario) => ({ restartPolicy: restartOf(s) });

export const nodePartition: DrillMode = { producerOptions, run: (st) => nodeFault(st, 'partition') };
export const nodeLoss: DrillMode = { producerOptions, run: (st) => nodeFault(st, 'loss') };
