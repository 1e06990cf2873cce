import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '@pushpull/common';
import { componentOf } from '../../core/resources.ts';
import type { CgroupManager } from '../cgroups/manager.ts';
import type {
  ProducerMember,
  ProducerOptions,
  PullAgentInfo,
  StackEndpoints,
  StackOptions,
} from '../types.ts';
import { type SpawnedChild, spawnChild, waitForListening } from './children.ts';
import type { ProducerRelays } from './relays.ts';

// The state of one process-runtime stack, shared by the pieces that start and stop it (stack.ts, fleet.ts,
// faults.ts, aux.ts, snapshot.ts). The ProcessRuntime class owns one and delegates to those pieces.

/** The file in each work dir that tells the reaper whose it is and which pids to clean up. */
export const LAB_JSON = 'lab.json';

/** Start-up bounds: generous, the 2 cores are shared. */
export const START_TIMEOUT_MS = 60_000;

/** What the reaper finds in each work dir. */
export interface LabJson {
  runId: string;
  labPid: number;
  persistent: boolean;
  pids: Record<string, number>;
}

export interface ProducerProc {
  member: ProducerMember;
  child: SpawnedChild;
  pods: number;
  /** Its scrape and push paths, on a partitionable non-persistent stack; a partition cuts them (relays.ts). */
  relays?: ProducerRelays;
}

export interface CollectorStatsd {
  udp: string;
  tcp: string | null;
  /** The OTLP/HTTP receiver (HOST:PORT). */
  otlp: string | null;
}

export interface ProcessStack {
  readonly root: string;
  opts: StackOptions | null;
  runId: string;
  workDir: string;
  sdDir: string;
  logDir: string;
  startedAtMs: number;
  persistent: boolean;
  withNodeExporter: boolean;
  readonly base: Map<string, SpawnedChild>;
  readonly producers: ProducerProc[];
  readonly aux: SpawnedChild[];
  endpoints: StackEndpoints | null;
  collectorStatsd: CollectorStatsd | null;
  producerOptions: ProducerOptions | null;
  /** down() removes the work dir only when this runtime created it (or it is an earlier run's). */
  ownsWorkDir: boolean;
  log: (m: string) => void;
  /** run@3: the components' cgroups when the stack has a resource plan (null = none). */
  cgroups: CgroupManager | null;
  /** #29: the pull agents by name (their children are in `base`): host and URL (agents.ts). */
  readonly agents: Map<string, PullAgentInfo>;
}

export function emptyStack(root: string): ProcessStack {
  return {
    root,
    opts: null,
    runId: '',
    workDir: '',
    sdDir: '',
    logDir: '',
    startedAtMs: 0,
    persistent: false,
    withNodeExporter: false,
    base: new Map(),
    producers: [],
    aux: [],
    endpoints: null,
    collectorStatsd: null,
    producerOptions: null,
    ownsWorkDir: false,
    log: () => {},
    cgroups: null,
    agents: new Map(),
  };
}

export const addrToUrl = (hostPort: string) => `http://${hostPort}`;

/** Producer index from its name (`producer-7` → 7). */
export const producerIndex = (p: ProducerProc) => Number(p.member.name.split('-')[1]);

/** Keeps the fleet in index order after concurrent starts or a restart. */
export function sortProducers(s: ProcessStack): void {
  s.producers.sort((a, b) => producerIndex(a) - producerIndex(b));
}

/** Rewritten at every spawn, so a crash at any point leaves the reaper every pid to clean up. */
export function writeLabJson(s: ProcessStack): void {
  if (!s.workDir || !existsSync(s.workDir)) return;
  const pids: Record<string, number> = {};
  for (const [n, c] of s.base) pids[n] = c.pid;
  for (const p of s.producers) pids[p.member.name] = p.child.pid;
  for (const c of s.aux) pids[c.name] = c.pid;
  const j: LabJson = { runId: s.runId, labPid: process.pid, persistent: s.persistent, pids };
  writeFileSync(join(s.workDir, LAB_JSON), `${JSON.stringify(j)}\n`);
}

export function spawnIn(s: ProcessStack, name: string, command: string, args: string[]): SpawnedChild {
  const c = spawnChild({
    name,
    command,
    args,
    logDir: s.logDir,
    runId: s.runId,
    cwd: s.root,
    persistent: s.persistent,
  });
  // Into its component's budget (producers → producers) before it does real work.
  const component = componentOf(name);
  if (component && s.cgroups) s.cgroups.add(component, c.pid);
  writeLabJson(s);
  return c;
}

/**
 * TEST ONLY: extra flags for `what`, from the env var `env` (appended after the lab's own: the last occurrence
 * wins). Every use is announced on stderr; nothing in the lab sets these variables.
 */
export function testOnlyArgs(env: string, what: string): string[] {
  const raw = process.env[env]?.trim();
  if (!raw) return [];
  process.stderr.write(`${env} (test only): extra flags for ${what}: ${raw}\n`);
  return raw.split(/\s+/);
}

/**
 * Spawns a collector-like child (`name`, in its component's cgroup), records it, and waits for its
 * "listening" line, which must name its `udp` and `http` addresses (it binds port 0 everywhere).
 */
export async function startListening(
  s: ProcessStack,
  name: string,
  args: string[],
  signal?: AbortSignal,
): Promise<{ line: Record<string, unknown>; udp: string; http: string }> {
  const child = spawnIn(s, name, process.execPath, args);
  s.base.set(name, child);
  writeLabJson(s);
  const line = await waitForListening(child, START_TIMEOUT_MS, signal);
  const udp = String(line.udp ?? '');
  const http = String(line.http ?? '');
  if (!udp || !http)
    throw new LabError(
      'LAB_ERR_CHILD_EXIT',
      `${name}'s listening line lacks udp/http: ${JSON.stringify(line)}`,
    );
  return { line, udp, http };
}
