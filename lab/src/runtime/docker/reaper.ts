import type Docker from 'dockerode';
import { COMPONENT_LABEL, isLeftover, LAB_LABEL } from './labels.ts';
import type { DockerStack } from './state.ts';

// Removing containers and networks by label: a whole run at down(), and the leftovers of crashed runs.

/** Removes every container and network labelled by a lab run not in `keep` (a crashed or killed one). */
export async function reapLeftovers(docker: Docker, keep: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  const containers = await docker.listContainers({ all: true, filters: { label: [LAB_LABEL] } });
  for (const c of containers) {
    if (!isLeftover(c.Labels, keep)) continue;
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
    removed.push(`container ${c.Names[0]?.replace(/^\//, '') ?? c.Id}`);
  }
  const networks = await docker.listNetworks({ filters: { label: [LAB_LABEL] } });
  for (const net of networks) {
    if (!isLeftover(net.Labels, keep)) continue;
    await docker
      .getNetwork(net.Id)
      .remove()
      .catch(() => undefined);
    removed.push(`network ${net.Name}`);
  }
  return removed;
}

/** Removes every container of this run (found by label, so also ones not tracked) and its network. */
export async function removeRun(s: DockerStack): Promise<void> {
  const containers = await s.docker
    .listContainers({ all: true, filters: { label: [`${LAB_LABEL}=${s.runId}`] } })
    .catch(() => []);
  // node-exporter first: it lives in the collector's namespace.
  containers.sort(
    (a, b) =>
      Number(b.Labels[COMPONENT_LABEL] === 'node-exporter') -
      Number(a.Labels[COMPONENT_LABEL] === 'node-exporter'),
  );
  await Promise.all(
    containers.map((c) =>
      s.docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  if (s.networkName)
    await s.docker
      .getNetwork(s.networkName)
      .remove()
      .catch(() => undefined);
}
