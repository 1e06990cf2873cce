import { LabError } from '@pushpull/common';
import type { RecordNode } from '../../core/record-nodes.ts';
import { ROLE_LABEL } from './labels.ts';

// The swarm's nodes as the Engine API (1.41) describes them — `GET /nodes` and `GET /info` — reduced to
// what placement and the run record need, and the clock-offset arithmetic. Pure: response objects in.

/** The fields of one `GET /nodes` item the lab reads (dockerode returns the engine's JSON as is). */
export interface ApiNode {
  ID: string;
  Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> };
  Description?: { Hostname?: string; Resources?: { NanoCPUs?: number; MemoryBytes?: number } };
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Leader?: boolean };
}

/** The fields of `GET /info` the lab reads. */
export interface ApiInfo {
  Name?: string;
  SystemTime?: string;
  Swarm?: { NodeID?: string; LocalNodeState?: string; ControlAvailable?: boolean; Nodes?: number };
}

export interface SwarmNode {
  id: string;
  name: string;
  role: 'manager' | 'worker';
  /** Ready and active: the scheduler may place tasks on it. */
  usable: boolean;
  cores: number;
  memoryBytes: number;
  /** Value of the node label `pushpull.role` (observer | producers), or null. */
  labRole: string | null;
}

export function parseNodes(items: readonly ApiNode[]): SwarmNode[] {
  return items
    .map((n) => ({
      id: n.ID,
      name: n.Description?.Hostname ?? n.ID,
      role: n.Spec?.Role === 'manager' ? ('manager' as const) : ('worker' as const),
      usable: n.Status?.State === 'ready' && (n.Spec?.Availability ?? 'active') === 'active',
      cores: (n.Description?.Resources?.NanoCPUs ?? 0) / 1e9,
      memoryBytes: n.Description?.Resources?.MemoryBytes ?? 0,
      labRole: n.Spec?.Labels?.[ROLE_LABEL] ?? null,
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** The lab must talk to a manager of an active swarm; a clear LAB_ERR_SWARM otherwise. */
export function requireManager(info: ApiInfo): { nodeId: string } {
  const sw = info.Swarm;
  if (sw?.LocalNodeState !== 'active')
    throw new LabError(
      'LAB_ERR_SWARM',
      `this Docker engine is not in a swarm (state "${sw?.LocalNodeState ?? 'unknown'}"): run \`docker swarm init --advertise-addr 127.0.0.1\` for a one-node swarm, or point DOCKER_HOST at a manager`,
    );
  if (!sw.ControlAvailable || !sw.NodeID)
    throw new LabError(
      'LAB_ERR_SWARM',
      `this Docker engine (${info.Name ?? '?'}) is a swarm worker: the lab deploys through a manager (DOCKER_HOST=ssh://<manager> or run it there)`,
    );
  return { nodeId: sw.NodeID };
}

/** One NTP-style exchange seen from a node: its clock before and after, the manager's clock in between. */
export interface ClockSample {
  node: string;
  sentMs: number;
  receivedMs: number;
  managerMs: number;
}

/**
 * Offset of a node's clock from the manager's (positive = the node is ahead), from the exchange with the
 * smallest round trip: the manager read its clock somewhere inside the round trip, so the error is at most
 * half of it.
 */
export function clockOffsets(
  samples: readonly ClockSample[],
): Map<string, { offsetMs: number; rttMs: number }> {
  const best = new Map<string, { offsetMs: number; rttMs: number }>();
  for (const s of samples) {
    const rttMs = s.receivedMs - s.sentMs;
    if (!(rttMs >= 0)) continue;
    const offsetMs = (s.sentMs + s.receivedMs) / 2 - s.managerMs;
    const prev = best.get(s.node);
    if (!prev || rttMs < prev.rttMs) best.set(s.node, { offsetMs, rttMs });
  }
  return best;
}

/** The run record's view of a node (environment.nodes): the record's own type. */
export type EnvironmentNode = RecordNode;

export const CLOCK_WARN_MS = 50;

/**
 * environment.nodes and one warning per node whose clock is off by more than 50 ms (or not measured).
 * Offsets are keyed by node id (the clock probe reports `{{.Node.ID}}`); a name key is accepted for records
 * of probes that reported the hostname, but only when that hostname is unique.
 */
export function environmentNodes(
  nodes: readonly SwarmNode[],
  offsets: ReadonlyMap<string, { offsetMs: number; rttMs: number }>,
): { nodes: EnvironmentNode[]; warnings: string[] } {
  const warnings: string[] = [];
  const out = nodes.map((n) => {
    const unique = nodes.filter((m) => m.name === n.name).length === 1;
    const o = offsets.get(n.id) ?? (unique ? offsets.get(n.name) : undefined);
    const label = unique ? n.name : `${n.name} (${n.id.slice(0, 12)})`;
    const clockOffsetMs = o ? Math.round(o.offsetMs * 10) / 10 : null;
    if (o && Math.abs(o.offsetMs) > CLOCK_WARN_MS)
      warnings.push(
        `node ${label}: clock ${clockOffsetMs} ms off the manager's (> ${CLOCK_WARN_MS} ms; ±${Math.round(o.rttMs / 2)} ms): the scheduled open and per-second series are skewed on that node — sync it (chrony/NTP)`,
      );
    if (!o && n.usable) warnings.push(`node ${label}: clock offset not measured`);
    return {
      name: n.name,
      id: n.id,
      role: n.labRole,
      cores: n.cores,
      memoryBytes: n.memoryBytes,
      clockOffsetMs,
    };
  });
  return { nodes: out, warnings };
}

/** One service's task as environment.nodes lists it: its name, image and declared limits. */
export interface NodeTask {
  name: string;
  image: string;
  /** Resources.Limits of its spec (NanoCPUs / MemoryBytes; absent = unlimited). */
  limits: { NanoCPUs?: number; MemoryBytes?: number };
}

/** Adds tasks to a node: their names, the images they need, and their declared limits summed. Pure. */
export function withTasks(n: EnvironmentNode, tasks: readonly NodeTask[]): EnvironmentNode {
  if (tasks.length === 0) return n;
  const prev = n.budget ?? { cpus: null, memoryBytes: null };
  const cpus = tasks.reduce((a, t) => a + (t.limits.NanoCPUs ?? 0) / 1e9, prev.cpus ?? 0);
  const mem = tasks.reduce((a, t) => a + (t.limits.MemoryBytes ?? 0), prev.memoryBytes ?? 0);
  const unlimited = [
    ...(n.budget?.unlimited ?? []),
    ...tasks.filter((t) => !t.limits.NanoCPUs && !t.limits.MemoryBytes).map((t) => t.name),
  ];
  return {
    ...n,
    tasks: [...(n.tasks ?? []), ...tasks.map((t) => t.name)],
    images: [...new Set([...(n.images ?? []), ...tasks.map((t) => t.image)])].sort(),
    budget: {
      cpus: cpus > 0 ? Math.round(cpus * 1000) / 1000 : null,
      memoryBytes: mem > 0 ? mem : null,
      ...(unlimited.length > 0 ? { unlimited } : {}),
    },
  };
}

/** The observer services' tasks on the nodes they are constrained to (deploy time). Pure. */
export function withObservers(
  nodes: readonly EnvironmentNode[],
  observerNodeIds: readonly string[],
  observers: readonly NodeTask[],
): EnvironmentNode[] {
  return nodes.map((n) =>
    n.id !== undefined && observerNodeIds.includes(n.id) ? withTasks(n, observers) : n,
  );
}

/**
 * Each node with the producers and virtual pods placed on it (matched by node id), their tasks, image and
 * limits added to the node's. Pure.
 */
export function placedOn(
  nodes: readonly EnvironmentNode[],
  producers: readonly { nodeId: string; member: { name: string; podIds: readonly string[] } }[],
  producerTask: (name: string) => NodeTask = (name) => ({ name, image: '', limits: {} }),
): EnvironmentNode[] {
  return nodes.map((n) => {
    if (n.id === undefined) return n;
    const mine = producers.filter((p) => p.nodeId === n.id);
    const placed = withTasks(
      n,
      mine.map((p) => producerTask(p.member.name)),
    );
    return { ...placed, producers: mine.length, pods: mine.reduce((a, p) => a + p.member.podIds.length, 0) };
  });
}
