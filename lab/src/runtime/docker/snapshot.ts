import { describeRun, restoreRun } from '../engine-stack.ts';
import type { StackState } from '../types.ts';
import type { DockerStack } from './state.ts';

// The docker stack as `.lab/state.json` records it (describe), and back (restore): its containers outlive
// the CLI, so a later `status`, `scale` or `down` finds them by id.

// The plan is recorded too: a later `scale` starts producers under the producers' budget (without it, they
// started with no limit at all and the kept ones kept their old share).
type DockerPrivate = Pick<DockerStack, 'networkName' | 'withNodeExporter' | 'resources'>;

export function describeStack(s: DockerStack): StackState {
  const priv: DockerPrivate = {
    networkName: s.networkName,
    withNodeExporter: s.withNodeExporter,
    resources: s.resources,
  };
  return describeRun(s, 'docker', (c) => c.id, priv);
}

/** Re-attaches to a stack an earlier `up` started (its containers outlive the CLI). */
export function restoreStack(s: DockerStack, state: StackState): void {
  const priv = (state.private ?? {}) as Partial<DockerPrivate>;
  s.networkName = priv.networkName ?? `pushpull-${state.runId}`;
  s.withNodeExporter = priv.withNodeExporter ?? state.endpoints.nodeExporterUrl !== null;
  s.resources = priv.resources ?? null;
  restoreRun(
    s,
    state,
    (id) => s.docker.getContainer(id),
    (m) => ({ member: m, container: s.docker.getContainer(m.handle) }),
  );
}
