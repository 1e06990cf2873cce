import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '@pushpull/common';
import type { StackState } from '../types.ts';
import { hasRunMarker, type SpawnedChild } from './children.ts';
import { type CollectorStatsd, LAB_JSON, type ProcessStack } from './state.ts';

// The process stack as `.lab/state.json` records it (describe), and back (restore), so `status`, `scale`
// and `down` in a later invocation reach the children an earlier `up` spawned.

interface ProcessPrivate {
  pids: Record<string, number>;
  collectorStatsd: CollectorStatsd;
  sdDir: string;
  persistent: boolean;
  withNodeExporter: boolean;
  producerPods: Record<string, number>;
}

export function describeStack(s: ProcessStack): StackState {
  if (!s.endpoints) throw new LabError('LAB_ERR_CONFIG', 'describe() before up()');
  const pids: Record<string, number> = {};
  for (const [n, c] of s.base) pids[n] = c.pid;
  const priv: ProcessPrivate = {
    pids,
    collectorStatsd: s.collectorStatsd ?? { udp: '', tcp: null, otlp: null },
    sdDir: s.sdDir,
    persistent: s.persistent,
    withNodeExporter: s.withNodeExporter,
    producerPods: Object.fromEntries(s.producers.map((p) => [p.member.name, p.pods])),
  };
  return {
    kind: 'process',
    runId: s.runId,
    workDir: s.workDir,
    startedAtMs: s.startedAtMs,
    endpoints: s.endpoints,
    components: Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, String(pid)])),
    members: s.producers.map((p) => ({ ...p.member, podIds: [...p.member.podIds] })),
    producerOptions: s.producerOptions,
    scrapeIntervalMs: s.opts?.scrapeIntervalMs ?? 0,
    private: { ...priv },
  };
}

/** Rebuilds the stack from a StackState written by an earlier invocation (children it did not spawn). */
export function restoreStack(s: ProcessStack, state: StackState): void {
  const priv = (state.private ?? {}) as Partial<ProcessPrivate>;
  s.runId = state.runId;
  s.workDir = state.workDir;
  s.sdDir = priv.sdDir ?? join(state.workDir, 'sd');
  s.logDir = join(state.workDir, 'logs');
  s.startedAtMs = state.startedAtMs;
  s.persistent = priv.persistent ?? true;
  s.withNodeExporter = priv.withNodeExporter ?? state.endpoints.nodeExporterUrl !== null;
  s.endpoints = state.endpoints;
  s.collectorStatsd = priv.collectorStatsd ?? null;
  s.producerOptions = state.producerOptions;
  s.ownsWorkDir = existsSync(join(state.workDir, LAB_JSON));
  s.opts = {
    runId: state.runId,
    workDir: state.workDir,
    scrapeIntervalMs: state.scrapeIntervalMs,
    withNodeExporter: s.withNodeExporter,
    log: () => {},
    persistent: s.persistent,
  };
  for (const [name, pid] of Object.entries(priv.pids ?? {})) s.base.set(name, adopt(s, name, pid));
  for (const m of state.members) {
    const pods = priv.producerPods?.[m.name] ?? m.podIds.length;
    s.producers.push({ member: { ...m }, child: adopt(s, m.name, Number(m.handle)), pods });
  }
}

/** A child spawned by an earlier invocation: known by pid and log files only. */
function adopt(s: ProcessStack, name: string, pid: number): SpawnedChild {
  return {
    name,
    // A recycled pid that is not ours must never be signalled: treat it as gone.
    pid: hasRunMarker(pid, s.runId) ? pid : -1,
    proc: null,
    stdoutPath: join(s.logDir, `${name}.out`),
    stderrPath: join(s.logDir, `${name}.err`),
    stdoutOffset: 0,
    exited: null,
  };
}
