import { LabError } from '@pushpull/common';
import type { ResourcePlan } from '../core/resources.ts';
import type {
  ProducerMember,
  ProducerOptions,
  RuntimeKind,
  StackEndpoints,
  StackOptions,
  StackState,
} from './types.ts';

// The part of a stack's state the two Docker-engine runtimes (docker/ and swarm/) keep alike: the run it
// belongs to, its base components and producers by handle, and how that goes into `.lab/state.json` and back.
// Each runtime's own state extends this (containers vs services, network, proxy …).

export interface RunState<Handle, Tracked extends { member: ProducerMember }> {
  runId: string;
  workDir: string;
  scrapeIntervalMs: number;
  startedAtMs: number;
  log: (msg: string) => void;
  producerOptions: ProducerOptions | null;
  /** Base components by name → this runtime's handle. */
  readonly base: Map<string, Handle>;
  readonly producers: Tracked[];
  endpoints: StackEndpoints | undefined;
  /** run@3: the components' CPU and memory budgets (null = none). */
  resources: ResourcePlan | null;
  /** The collector's flags (its limits): #27's push agents run with them too. */
  collectorFlags: readonly string[];
}

/** The run fields of a stack nothing has started yet. */
export function emptyRunState<Handle, Tracked extends { member: ProducerMember }>(): RunState<
  Handle,
  Tracked
> {
  return {
    runId: '',
    workDir: '',
    scrapeIntervalMs: 0,
    startedAtMs: 0,
    log: () => {},
    producerOptions: null,
    base: new Map(),
    producers: [],
    endpoints: undefined,
    resources: null,
    collectorFlags: [],
  };
}

/** Marks the stack as this run's, started now (the start of up()). */
export function beginRun<H, T extends { member: ProducerMember }>(
  s: RunState<H, T>,
  opts: StackOptions,
): void {
  s.runId = opts.runId;
  s.workDir = opts.workDir;
  s.scrapeIntervalMs = opts.scrapeIntervalMs;
  s.startedAtMs = Date.now();
  s.log = opts.log;
  s.resources = opts.resources ?? null;
  s.collectorFlags = opts.collectorFlags ?? [];
}

/** Starts the base stack; a failure part-way tears down what was started before it is rethrown. */
export async function startOrTearDown<H, T extends { member: ProducerMember }>(
  s: RunState<H, T>,
  start: () => Promise<StackEndpoints>,
  down: () => Promise<void>,
): Promise<StackEndpoints> {
  try {
    s.endpoints = await start();
    return s.endpoints;
  } catch (e) {
    await down();
    throw e;
  }
}

/** Forgets the run's components and producers once they are removed (the end of down()). */
export function forgetRun<H, T extends { member: ProducerMember }>(s: RunState<H, T>): void {
  s.producers.length = 0;
  s.base.clear();
  s.endpoints = undefined;
}

/** The StackState of an up stack: its run fields, `components` as handles by name, the runtime's own part. */
export function describeRun<H, T extends { member: ProducerMember }>(
  s: RunState<H, T>,
  kind: RuntimeKind,
  handleId: (h: H) => string,
  priv: Record<string, unknown>,
): StackState {
  if (!s.endpoints) throw new LabError('LAB_ERR_CONFIG', 'describe() before up()');
  return {
    kind,
    runId: s.runId,
    workDir: s.workDir,
    startedAtMs: s.startedAtMs,
    endpoints: s.endpoints,
    components: Object.fromEntries([...s.base].map(([name, h]) => [name, handleId(h)])),
    members: s.producers.map((p) => p.member),
    producerOptions: s.producerOptions,
    scrapeIntervalMs: s.scrapeIntervalMs,
    private: { ...priv },
  };
}

/** Takes back the run fields, base components and producers a StackState recorded. */
export function restoreRun<H, T extends { member: ProducerMember }>(
  s: RunState<H, T>,
  state: StackState,
  handle: (id: string) => H,
  tracked: (m: ProducerMember) => T,
): void {
  s.runId = state.runId;
  s.workDir = state.workDir;
  s.startedAtMs = state.startedAtMs;
  s.scrapeIntervalMs = state.scrapeIntervalMs;
  s.producerOptions = state.producerOptions;
  s.endpoints = state.endpoints;
  for (const [name, id] of Object.entries(state.components)) s.base.set(name, handle(id));
  for (const m of state.members) s.producers.push(tracked(m));
}
