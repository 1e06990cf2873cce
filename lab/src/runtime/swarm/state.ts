import type Docker from 'dockerode';
import type { ProducerMember, ProducerOptions, StackEndpoints } from '../types.ts';
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

export interface SwarmStack {
  readonly docker: Docker;
  readonly repoRoot: string;
  readonly compose: Record<string, ComposeService>;
  runId: string;
  workDir: string;
  /** The manager this lab talks to (its engine runs the proxy; faults reach only its tasks). */
  localNodeId: string;
  nodes: SwarmNode[];
  networkId: string;
  networkName: string;
  subnet: string;
  proxyContainerId: string;
  proxyUrl: string;
  observerConstraints: string[];
  scrapeIntervalMs: number;
  startedAtMs: number;
  log: (msg: string) => void;
  producerOptions: ProducerOptions | null;
  /** Observer services by component name → service id. */
  readonly base: Map<string, string>;
  readonly producers: TrackedProducer[];
  endpoints: StackEndpoints | undefined;
  environment: { nodes: EnvironmentNode[]; notes: string[] };
}

export function emptyStack(
  docker: Docker,
  repoRoot: string,
  compose: Record<string, ComposeService>,
): SwarmStack {
  return {
    docker,
    repoRoot,
    compose,
    runId: '',
    workDir: '',
    localNodeId: '',
    nodes: [],
    networkId: '',
    networkName: '',
    subnet: '',
    proxyContainerId: '',
    proxyUrl: '',
    observerConstraints: [],
    scrapeIntervalMs: 0,
    startedAtMs: 0,
    log: () => {},
    producerOptions: null,
    base: new Map(),
    producers: [],
    endpoints: undefined,
    environment: { nodes: [], notes: [] },
  };
}
