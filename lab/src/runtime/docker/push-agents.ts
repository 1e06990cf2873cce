import type Docker from 'dockerode';
import type { ComponentResources } from '../../core/resources.ts';
import { waitHttp } from '../engine.ts';
import {
  PUSH_AGENT_HTTP_PORT,
  pushAgentContainerArgs,
  pushAgentNameOf,
  pushBudgets,
} from '../push-agent-args.ts';
import { loopbackUrl, startService } from './containers.ts';
import { COMPONENT_LABEL } from './labels.ts';
import type { DockerStack, Tracked } from './state.ts';

// #27 on the docker runtime: a producer container is a host, and its collector agent shares the host's network
// namespace, so the pods reach it on loopback UDP (127.0.0.1:8125) as a sidecar is reached. The agent's
// container owns that namespace — it starts first, on the run's network, and the producer joins it
// (`NetworkMode: container:<agent>`) — so no datagram is sent before the agent listens, and a killed or
// restarted producer leaves its agent (and what it holds) alive. The namespace's ports are published on the
// agent's container: the producer's 9100 and the agent's own 9102. It forwards OTLP/HTTP to the central
// collector at `collector:4318`; its limits are its share of push's budget (pushBudgets).

/** Where the pods of a host send StatsD: the agent in their own network namespace. */
export const HOST_AGENT_STATSD = '127.0.0.1:8125';

const AGENT_PORT = `${PUSH_AGENT_HTTP_PORT}/tcp`;

export interface HostAgent {
  name: string;
  container: Docker.Container;
  /** Its /metrics/self base URL on loopback. */
  url: string;
}

/** The budget of each of `agents` agents (null: no plan). */
function agentBudget(s: DockerStack, agents: number): ComponentResources | null {
  return s.resources ? pushBudgets(s.resources.collector, agents).agent : null;
}

/**
 * Starts the agent of host `producerName` (a fleet of `fleet` producers) and waits until it answers; the
 * producer then joins its network namespace. A base container of the stack (`agent-<i>`, in `base`): read,
 * checked for death and removed with it.
 */
export async function startHostAgent(
  s: DockerStack,
  producerName: string,
  fleet: number,
  collectorFlags: readonly string[],
): Promise<HostAgent> {
  const name = pushAgentNameOf(producerName);
  const container = await startService(s, name, {}, true, {
    service: 'collector',
    cmd: pushAgentContainerArgs(HOST_AGENT_STATSD, collectorFlags),
    containerName: `pushpull-${s.runId}-${name}`,
    labels: { [COMPONENT_LABEL]: name, 'pushpull.push-agent': name, 'pushpull.host': producerName },
    // The host's names on the run's network: the agent's, and `producer` as any producer container's.
    aliases: [name, 'producer'],
    ports: ['9100/tcp', AGENT_PORT],
    resources: agentBudget(s, fleet),
  });
  s.base.set(name, container);
  const url = await loopbackUrl(s, name, AGENT_PORT, container);
  await waitHttp(`${url}/healthz`, 60_000, `${name} /healthz`);
  return { name, container, url };
}

/** The producer container's HostConfig that puts it into its agent's network namespace. */
export const joinAgent = (agent: HostAgent): Docker.HostConfig => ({
  NetworkMode: `container:${agent.container.id}`,
});

/** Removes the agent of a producer that was removed (scale down). */
export async function removeHostAgent(s: DockerStack, producerName: string): Promise<void> {
  const name = pushAgentNameOf(producerName);
  const c = s.base.get(name);
  if (!c) return;
  await c.remove({ force: true }).catch(() => undefined);
  s.base.delete(name);
}

/**
 * The container that owns a producer's network namespace: its agent's with the agent tier, else its own. A
 * partition disconnects it and a heal reconnects it; its published ports are the producer's.
 */
export function netOwnerOf(s: DockerStack, p: Tracked): Docker.Container {
  return (p.member.pushAgentUrl && s.base.get(pushAgentNameOf(p.member.name))) || p.container;
}

/** After a heal: the agent's port is published anew, on a new host port; the member is repointed. */
export async function republishAgent(s: DockerStack, p: Tracked): Promise<void> {
  const name = pushAgentNameOf(p.member.name);
  const c = s.base.get(name);
  if (!p.member.pushAgentUrl || !c) return;
  p.member.pushAgentUrl = await loopbackUrl(s, name, AGENT_PORT, c);
}

/** The kept agents get their share of the new fleet's agent budget (a live `docker update`), as producers do. */
export async function resizeHostAgents(s: DockerStack, fleet: number): Promise<void> {
  const cpus = agentBudget(s, fleet)?.cpus;
  if (cpus === null || cpus === undefined) return;
  await Promise.all(
    s.producers.flatMap((p) => {
      const c = p.member.pushAgentUrl ? s.base.get(pushAgentNameOf(p.member.name)) : undefined;
      return c ? [c.update({ NanoCpus: Math.round(cpus * 1e9) })] : [];
    }),
  );
}
