import type Docker from 'dockerode';
import type { ProducerMember, ProducerOptions, StackEndpoints } from '../types.ts';
import type { ComposeFile } from './compose.ts';

// The state of one docker-runtime stack, shared by the pieces that start and stop it (engine.ts,
// containers.ts, stack.ts, fleet.ts, faults.ts, aux.ts, snapshot.ts, reaper.ts). The DockerRuntime class
// owns one and delegates to those pieces.

export interface Tracked {
  member: ProducerMember;
  container: Docker.Container;
}

export interface DockerStack {
  readonly docker: Docker;
  readonly compose: ComposeFile;
  readonly repoRoot: string;
  runId: string;
  workDir: string;
  networkName: string;
  withNodeExporter: boolean;
  scrapeIntervalMs: number;
  startedAtMs: number;
  log: (msg: string) => void;
  producerOptions: ProducerOptions | null;
  readonly base: Map<string, Docker.Container>;
  readonly producers: Tracked[];
  endpoints: StackEndpoints | undefined;
}

export function emptyStack(docker: Docker, compose: ComposeFile, repoRoot: string): DockerStack {
  return {
    docker,
    compose,
    repoRoot,
    runId: '',
    workDir: '',
    networkName: '',
    withNodeExporter: true,
    scrapeIntervalMs: 0,
    startedAtMs: 0,
    log: () => {},
    producerOptions: null,
    base: new Map(),
    producers: [],
    endpoints: undefined,
  };
}

/** Every container of the stack by component or member name (base first, then producers). */
export function allContainers(s: DockerStack): { name: string; c: Docker.Container }[] {
  return [
    ...[...s.base].map(([name, c]) => ({ name, c })),
    ...s.producers.map((p) => ({ name: p.member.name, c: p.container })),
  ];
}
