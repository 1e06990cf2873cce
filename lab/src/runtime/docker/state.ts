import type Docker from 'dockerode';
import { emptyRunState, type RunState } from '../engine-stack.ts';
import type { ProducerMember, PullAgentInfo } from '../types.ts';
import type { AgentOptions } from './agents.ts';
import type { ComposeFile } from './compose.ts';

// The state of one docker-runtime stack, shared by the pieces that start and stop it (engine.ts,
// containers.ts, stack.ts, fleet.ts, faults.ts, aux.ts, snapshot.ts, reaper.ts). The DockerRuntime class
// owns one and delegates to those pieces.

export interface Tracked {
  member: ProducerMember;
  container: Docker.Container;
}

/** The run (engine-stack.ts) with base components as containers, and the docker runtime's own part. */
export interface DockerStack extends RunState<Docker.Container, Tracked> {
  readonly docker: Docker;
  readonly compose: ComposeFile;
  readonly repoRoot: string;
  networkName: string;
  withNodeExporter: boolean;
  /** #29: the pull agents by name (their containers are in `base`), and the options they are started with. */
  readonly agents: Map<string, PullAgentInfo>;
  agentOptions: AgentOptions | null;
}

export function emptyStack(docker: Docker, compose: ComposeFile, repoRoot: string): DockerStack {
  return {
    ...emptyRunState<Docker.Container, Tracked>(),
    docker,
    compose,
    repoRoot,
    networkName: '',
    withNodeExporter: true,
    agents: new Map(),
    agentOptions: null,
  };
}

/** Every container of the stack by component or member name (base first, then producers). */
export function allContainers(s: DockerStack): { name: string; c: Docker.Container }[] {
  return [
    ...[...s.base].map(([name, c]) => ({ name, c })),
    ...s.producers.map((p) => ({ name: p.member.name, c: p.container })),
  ];
}
