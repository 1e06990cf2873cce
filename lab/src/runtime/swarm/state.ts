import type Docker from 'dockerode';
import { emptyRunState, type RunState } from '../engine-stack.ts';
import type { ProducerMember } from '../types.ts';
import type { EnvironmentNode, SwarmNode } from './nodes.ts';
import type { ComposeService } from './specs.ts';

// The state of one swarm-runtime stack, shared by the pieces that deploy and remove it. The SwarmRuntime
// class owns one and delegates to them (engine.ts, preflight.ts, deploy.ts, fleet.ts, faults.ts, reaper.ts).

export interface TrackedProducer {
  member: ProducerMember;
  serviceId: string;
  /** Swarm node id the producer is pinned to. */
  nodeId: string;
}

/** The run (engine-stack.ts) with observer services by component name → service id, and swarm's own part. */
export interface SwarmStack extends RunState<string, TrackedProducer> {
  readonly docker: Docker;
  readonly repoRoot: string;
  readonly compose: Record<string, ComposeService>;
  /** The manager this lab talks to (its engine runs the proxy; faults reach only its tasks). */
  localNodeId: string;
  nodes: SwarmNode[];
  networkId: string;
  networkName: string;
  subnet: string;
  proxyContainerId: string;
  proxyUrl: string;
  observerConstraints: string[];
  environment: { nodes: EnvironmentNode[]; notes: string[] };
  /** #27: the push agents (their services are in `base`): each one's node, and where the lab reads it. */
  pushAgents: { nodes: Record<string, string>; urls: Map<string, string> };
}

export function emptyStack(
  docker: Docker,
  repoRoot: string,
  compose: Record<string, ComposeService>,
): SwarmStack {
  return {
    ...emptyRunState<string, TrackedProducer>(),
    docker,
    repoRoot,
    compose,
    localNodeId: '',
    nodes: [],
    networkId: '',
    networkName: '',
    subnet: '',
    proxyContainerId: '',
    proxyUrl: '',
    observerConstraints: [],
    environment: { nodes: [], notes: [] },
    pushAgents: { nodes: {}, urls: new Map() },
  };
}
