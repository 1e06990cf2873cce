import { LabError } from '@pushpull/common';
import type { StackState } from '../types.ts';
import type { EnvironmentNode } from './nodes.ts';
import type { SwarmStack } from './state.ts';

// The swarm stack as `.lab/state.json` records it, and back: its services outlive the CLI, so a later
// `status`, `scale` or `down` finds them by id (and the proxy container by id).

interface SwarmPrivate {
  localNodeId: string;
  networkId: string;
  networkName: string;
  subnet: string;
  proxyContainerId: string;
  proxyUrl: string;
  observerConstraints: string[];
  producerNodes: Record<string, string>;
  environment: { nodes: EnvironmentNode[]; notes: string[] };
}

export function describeStack(s: SwarmStack): StackState {
  if (!s.endpoints) throw new LabError('LAB_ERR_CONFIG', 'describe() before up()');
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
  };
  return {
    kind: 'swarm',
    runId: s.runId,
    workDir: s.workDir,
    startedAtMs: s.startedAtMs,
    endpoints: s.endpoints,
    components: Object.fromEntries(s.base),
    members: s.producers.map((p) => p.member),
    producerOptions: s.producerOptions,
    scrapeIntervalMs: s.scrapeIntervalMs,
    private: { ...priv },
  };
}

export function restoreStack(s: SwarmStack, state: StackState): void {
  const priv = (state.private ?? {}) as Partial<SwarmPrivate>;
  s.runId = state.runId;
  s.workDir = state.workDir;
  s.startedAtMs = state.startedAtMs;
  s.scrapeIntervalMs = state.scrapeIntervalMs;
  s.localNodeId = priv.localNodeId ?? '';
  s.networkId = priv.networkId ?? '';
  s.networkName = priv.networkName ?? '';
  s.subnet = priv.subnet ?? '';
  s.proxyContainerId = priv.proxyContainerId ?? '';
  s.proxyUrl = priv.proxyUrl ?? '';
  s.observerConstraints = priv.observerConstraints ?? [];
  s.environment = priv.environment ?? { nodes: [], notes: [] };
  s.producerOptions = state.producerOptions;
  s.endpoints = state.endpoints;
  for (const [name, id] of Object.entries(state.components)) s.base.set(name, id);
  for (const m of state.members)
    s.producers.push({ member: m, serviceId: m.handle, nodeId: priv.producerNodes?.[m.name] ?? '' });
}
