import type Docker from 'dockerode';
import { isLeftover, LAB_LABEL } from './labels.ts';

// Removing what a run created, found by its label (so also what was never tracked): services first (their
// tasks' containers go with them), the proxy container, then configs, volumes and the network once the tasks
// have let go of them. Used by down() for one run and by the reaper for runs whose lab process is gone.

type Labelled = { Labels?: Record<string, string> | null; Spec?: { Labels?: Record<string, string> } };
const labelsOf = (x: Labelled) => x.Labels ?? x.Spec?.Labels ?? {};

/** Removes every object of the runs `pick` selects; returns what was removed ("service pp-…"). */
export async function removeRuns(
  docker: Docker,
  pick: (labels: Record<string, string>) => boolean,
): Promise<string[]> {
  const removed: string[] = [];
  const filters = { label: [LAB_LABEL] };
  const services = (
    (await docker.listServices({ filters }).catch(() => [])) as {
      ID: string;
      Spec?: { Name?: string; Labels?: Record<string, string> };
    }[]
  ).filter((s) => pick(labelsOf(s)));
  await Promise.all(
    services.map((s) =>
      docker
        .getService(s.ID)
        .remove()
        .catch(() => undefined),
    ),
  );
  removed.push(...services.map((s) => `service ${s.Spec?.Name ?? s.ID}`));
  const containers = (await docker.listContainers({ all: true, filters }).catch(() => [])).filter(
    (c) => pick(c.Labels) && !c.Labels['com.docker.swarm.task.id'],
  );
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  removed.push(...containers.map((c) => `container ${c.Names[0]?.replace(/^\//, '') ?? c.Id}`));
  // Tasks' containers take a moment to go: wait (bounded) until none of these services has one left.
  await waitNoTasks(
    docker,
    services.map((s) => s.ID),
  );
  const configs = (
    (await docker.listConfigs({ filters }).catch(() => [])) as {
      ID: string;
      Spec?: { Name?: string; Labels?: Record<string, string> };
    }[]
  ).filter((c) => pick(labelsOf(c)));
  for (const c of configs)
    if (await ok(docker.getConfig(c.ID).remove())) removed.push(`config ${c.Spec?.Name ?? c.ID}`);
  const vols =
    (
      (await docker.listVolumes({ filters }).catch(() => ({ Volumes: [] }))) as {
        Volumes?: { Name: string; Labels?: Record<string, string> }[];
      }
    ).Volumes ?? [];
  for (const v of vols.filter((x) => pick(x.Labels ?? {})))
    if (await ok(docker.getVolume(v.Name).remove())) removed.push(`volume ${v.Name}`);
  const nets = (await docker.listNetworks({ filters }).catch(() => [])).filter(
    (n) => n.Driver === 'overlay' && pick(n.Labels ?? {}),
  );
  for (const n of nets)
    if (await retry(() => docker.getNetwork(n.Id).remove())) removed.push(`network ${n.Name}`);
  return removed;
}

export function removeRun(docker: Docker, runId: string): Promise<string[]> {
  return removeRuns(docker, (l) => l[LAB_LABEL] === runId);
}

/** Leftovers of runs whose lab is gone (never the runs in `keep`, e.g. the stack `up` recorded). */
export function reapLeftovers(docker: Docker, keep: readonly string[]): Promise<string[]> {
  return removeRuns(docker, (l) => isLeftover(l, keep));
}

/** Until no container of these services is left (bounded: 30 s). */
export async function waitNoTasks(docker: Docker, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    // A label filter with several values ANDs them: ask per service.
    const lists = await Promise.all(
      ids.map((id) =>
        docker
          .listContainers({ all: true, filters: { label: [`com.docker.swarm.service.id=${id}`] } })
          .catch(() => []),
      ),
    );
    if (lists.every((l) => l.length === 0)) return;
    await new Promise((r) => setTimeout(r, 300));
  }
}

const ok = (p: Promise<unknown>) =>
  p.then(
    () => true,
    () => false,
  );

/** An overlay network is removable only once the last task endpoint is released: retry briefly. */
async function retry(f: () => Promise<unknown>): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    if (await ok(f())) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}
