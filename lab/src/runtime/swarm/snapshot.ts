import { describeRun, restoreRun } from '../engine-stack.ts';
import type { StackState } from '../types.ts';
import type { SwarmStack } from './state.ts';

// The swarm stack as `.lab/state.json` records it, and back: its services outlive the CLI, so a later
// `status`, `scale` or `down` finds them by id (and the proxy container by id).

type SwarmPrivate = Pick<
  SwarmStack,
  | 'localNodeId'
  | 'networkId'
  | 'networkName'
  | 'subnet'
  | 'proxyContainerId'
  | 'proxyUrl'
  | 'observerConstraints'
  | 'environment'
> & { producerNodes: Record<string, string>; pushAgentNodes?: Record<string, string> };

export function describeStack(s: SwarmStack): StackState {
  const priv: SwarmPrivate = {
    localNodeId: s.localNodeId,
    networkId: s.networkId,
    networkName: s.networkName,
    subnet: s.subnet,
    proxyContainerId: s.proxyContainerId,
    proxyUrl: s.proxyUrl,
    observerConstraints: s.observerConstraints,
    producerNodes: Object.fromEntries(s.producers.map((p) => [p.member.name, p.nodeId])),
    environment: s.environment,
    pushAgentNodes: s.pushAgents.nodes,
  };
  return describeRun(s, 'swarm', (id) => id, priv);
}

export function restoreStack(s: SwarmStack, state: StackState): void {
  const priv = (state.private ?? {}) as Partial<SwarmPrivate>;
  s.localNodeId = priv.localNodeId ?? '';
  s.networkId = priv.networkId ?? '';
  s.networkName = priv.networkName ?? '';
  s.subnet = priv.subnet ?? '';
  s.proxyContainerId = priv.proxyContainerId ?? '';
  s.proxyUrl = priv.proxyUrl ?? '';
  s.observerConstraints = priv.observerConstraints ?? [];
  s.environment = priv.environment ?? { nodes: [], notes: [] };
  s.pushAgents = { nodes: { ...priv.pushAgentNodes }, urls: new Map() };
  restoreRun(
    s,
    state,
    (id) => id,
    (m) => ({ member: m, serviceId: m.handle, nodeId: priv.producerNodes?.[m.name] ?? '' }),
  );
}
