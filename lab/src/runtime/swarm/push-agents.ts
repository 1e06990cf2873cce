import { LabError } from '@pushpull/common';
import type Docker from 'dockerode';
import { PUSH_AGENT_HTTP_PORT, pushAgentContainerArgs, pushBudgets } from '../push-agent-args.ts';
import { swarmLimits } from '../resource-limits.ts';
import type { ProducerOptions } from '../types.ts';
import { specContext, waitHttp } from './deploy.ts';
import { taskAddress } from './engine.ts';
import type { EnvironmentNode } from './nodes.ts';
import { withTasks } from './nodes.ts';
import { waitNoTasks } from './reaper.ts';
import { composeImage, nodeTaskOf, type SpecContext, serviceSpec } from './specs.ts';
import type { SwarmStack } from './state.ts';
import { waitRunning } from './tasks.ts';

// #27 on the swarm runtime: a producer node is a host, so each node that runs producers gets one collector
// agent — a single-task service `agent-<k>` pinned to that node (swarm cannot share a network namespace
// between services, so the agent is reached over the overlay by its alias, from the producers of its own node
// only). It forwards OTLP/HTTP to the central collector at `collector:4318` over the overlay; its limits are
// its share of push's budget (pushBudgets: the central collector half, the agents the other half). Pure:
// which agents a fleet needs and their service spec; then the deployment (syncSwarmAgents).

/** One agent: its name and the node it serves. */
export interface SwarmAgent {
  name: string;
  nodeId: string;
}

/** `agent-<k>`: a push agent's component name (the budget group of core/resources.ts: push's). */
const AGENT_NAME = /^agent-(\d+)$/;

/**
 * The agents a fleet on `producerNodes` needs, given the running ones (name → node id): those on a node
 * that still runs producers stay, the others go, and each node without one gets `agent-<k>` with the lowest
 * free k. One agent per producer node, never two.
 */
export function planSwarmAgents(
  running: Readonly<Record<string, string>>,
  producerNodes: readonly string[],
): { keep: SwarmAgent[]; remove: SwarmAgent[]; add: SwarmAgent[] } {
  const wanted = new Set(producerNodes);
  const keep: SwarmAgent[] = [];
  const remove: SwarmAgent[] = [];
  const covered = new Set<string>();
  for (const [name, nodeId] of Object.entries(running).sort(([a], [b]) => a.localeCompare(b))) {
    if (wanted.has(nodeId) && !covered.has(nodeId)) {
      keep.push({ name, nodeId });
      covered.add(nodeId);
    } else remove.push({ name, nodeId });
  }
  const used = new Set(keep.map((a) => Number(AGENT_NAME.exec(a.name)?.[1] ?? -1)));
  const add: SwarmAgent[] = [];
  let k = 0;
  for (const nodeId of [...wanted].filter((n) => !covered.has(n))) {
    while (used.has(k)) k++;
    used.add(k);
    add.push({ name: `agent-${k}`, nodeId });
  }
  return { keep, remove, add };
}

/**
 * The agent's service: the collector image in agent mode, StatsD over UDP on the overlay, pinned to its node,
 * its network alias its name, restart `none` (a killed agent stays dead, as a killed producer does), and its
 * limits one of `agents` equal shares of the agents' half of push's budget.
 */
export function swarmAgentSpec(
  ctx: SpecContext,
  agent: SwarmAgent,
  agents: number,
  collectorFlags: readonly string[] = [],
): Docker.CreateServiceOptions {
  const spec = serviceSpec(ctx, {
    component: agent.name,
    alias: agent.name,
    image: composeImage(ctx.compose, 'collector').image,
    args: pushAgentContainerArgs('0.0.0.0:8125', collectorFlags),
    constraints: [`node.id==${agent.nodeId}`],
    extraLabels: { 'pushpull.push-agent': agent.name, 'pushpull.node': agent.nodeId },
  });
  const limits = swarmLimits(ctx.resources ? pushBudgets(ctx.resources.collector, agents).agent : null);
  if (Object.keys(limits).length > 0)
    spec.TaskTemplate = { ...spec.TaskTemplate, Resources: { Limits: limits } };
  return spec;
}

/** Where the producers of an agent's node send StatsD (its alias on the overlay). */
export const agentStatsdAddress = (agent: SwarmAgent) => `${agent.name}:8125`;

/** The agent tier needs producers pinned to their node: a rescheduled producer would leave its node's agent. */
export function checkAgentPlacement(popts: ProducerOptions): void {
  const restart = popts.restartPolicy ?? 'none';
  if (popts.pushTopology === 'agent' && restart !== 'none')
    throw new LabError(
      'LAB_ERR_CONFIG',
      `--push-topology agent on swarm: producers with restart policy "${restart}" may move to another node, away from their node's agent — not built; run the agent tier with restart policy none`,
      { restartPolicy: restart },
    );
}

/** Where the lab reads a running agent: its task's address through the proxy. */
async function reachAgent(s: SwarmStack, name: string, serviceId: string, signal?: AbortSignal) {
  const task = await waitRunning(s.docker, serviceId, name, 120_000, signal);
  const ip = taskAddress(task, s.networkId);
  if (!ip) throw new LabError('LAB_ERR_SWARM', `${name}: its task has no address on ${s.networkName}`);
  const url = `${s.proxyUrl}/task/${ip}:${PUSH_AGENT_HTTP_PORT}`;
  await waitHttp(`${url}/healthz`, `${name} /healthz`, signal);
  return url;
}

/**
 * Brings the agents to one per node in `producerNodes` (before the producers there start: none sends to an
 * agent that is not listening yet), removing those of nodes left without producers. Returns every agent
 * with the URL the lab reads it at.
 */
export async function syncSwarmAgents(
  s: SwarmStack,
  producerNodes: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, SwarmAgent & { url: string }>> {
  const plan = planSwarmAgents(s.pushAgents.nodes, producerNodes);
  if (plan.remove.length > 0) {
    const ids = plan.remove.flatMap((a) => s.base.get(a.name) ?? []);
    await Promise.all(
      ids.map((id) =>
        s.docker
          .getService(id)
          .remove()
          .catch(() => undefined),
      ),
    );
    await waitNoTasks(s.docker, ids);
    for (const a of plan.remove) {
      s.base.delete(a.name);
      delete s.pushAgents.nodes[a.name];
      s.pushAgents.urls.delete(a.name);
    }
  }
  const n = plan.keep.length + plan.add.length;
  for (const a of plan.add) {
    signal?.throwIfAborted();
    const svc = await s.docker.createService(swarmAgentSpec(specContext(s), a, n, s.collectorFlags));
    s.base.set(a.name, svc.id);
    s.pushAgents.nodes[a.name] = a.nodeId;
  }
  const out = new Map<string, SwarmAgent & { url: string }>();
  for (const a of [...plan.keep, ...plan.add]) {
    const url = s.pushAgents.urls.get(a.name) ?? (await reachAgent(s, a.name, s.base.get(a.name)!, signal));
    s.pushAgents.urls.set(a.name, url);
    out.set(a.nodeId, { ...a, url });
  }
  return out;
}

/** The nodes with their agent's task and limits added (run.json `environment.nodes`). Pure. */
export function withAgentTasks(
  nodes: readonly EnvironmentNode[],
  ctx: SpecContext,
  agents: Readonly<Record<string, string>>,
): EnvironmentNode[] {
  const all = Object.entries(agents);
  return nodes.map((node) => {
    const mine = all.filter(([, nodeId]) => nodeId === node.id);
    return withTasks(
      node,
      mine.map(([name, nodeId]) => nodeTaskOf(name, swarmAgentSpec(ctx, { name, nodeId }, all.length))),
    );
  });
}
