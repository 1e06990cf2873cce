import { LabError } from '@pushpull/common';
import type { StackState } from '../types.ts';
import type { DockerStack } from './state.ts';

// The docker stack as `.lab/state.json` records it (describe), and back (restore): its containers outlive
// the CLI, so a later `status`, `scale` or `down` finds them by id.

interface DockerPrivate {
  networkName: string;
  withNodeExporter: boolean;
}

export function describeStack(s: DockerStack): StackState {
  if (!s.endpoints) throw new LabError('LAB_ERR_CONFIG', 'describe() before up()');
  const priv: DockerPrivate = { networkName: s.networkName, withNodeExporter: s.withNodeExporter };
  return {
    kind: 'docker',
    runId: s.runId,
    workDir: s.workDir,
    startedAtMs: s.startedAtMs,
    endpoints: s.endpoints,
    components: Object.fromEntries([...s.base].map(([name, c]) => [name, c.id])),
    members: s.producers.map((p) => p.member),
    producerOptions: s.producerOptions,
    scrapeIntervalMs: s.scrapeIntervalMs,
    private: { ...priv },
  };
}

/** Re-attaches to a stack an earlier `up` started (its containers outlive the CLI). */
export function restoreStack(s: DockerStack, state: StackState): void {
  const priv = (state.private ?? {}) as Partial<DockerPrivate>;
  s.runId = state.runId;
  s.workDir = state.workDir;
  s.startedAtMs = state.startedAtMs;
  s.scrapeIntervalMs = state.scrapeIntervalMs;
  s.networkName = priv.networkName ?? `pushpull-${state.runId}`;
  s.withNodeExporter = priv.withNodeExporter ?? state.endpoints.nodeExporterUrl !== null;
  s.producerOptions = state.producerOptions;
  s.endpoints = state.endpoints;
  for (const [name, id] of Object.entries(state.components)) s.base.set(name, s.docker.getContainer(id));
  for (const m of state.members) s.producers.push({ member: m, container: s.docker.getContainer(m.handle) });
}
