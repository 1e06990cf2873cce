import { hostname } from 'node:os';

// Labels on every service, config, network, volume and container the swarm runtime creates. The keys are
// the docker runtime's (pushpull.lab = run id, pushpull.lab.owner = pid of the owning lab), so one label
// filter finds everything a run left behind on either runtime; the host label says on which machine that
// pid lives (a swarm is shared: a lab on another manager must not judge our runs by its own pid table).

export const LAB_LABEL = 'pushpull.lab';
export const COMPONENT_LABEL = 'pushpull.component';
export const OWNER_LABEL = 'pushpull.lab.owner';
export const HOST_LABEL = 'pushpull.lab.host';
/** Node label that places the observers (Prometheus, collector, Pushgateway, sd) on a multi-node swarm. */
export const ROLE_LABEL = 'pushpull.role';

export function runLabels(runId: string, component?: string): Record<string, string> {
  return {
    [LAB_LABEL]: runId,
    [OWNER_LABEL]: String(process.pid),
    [HOST_LABEL]: hostname(),
    ...(component ? { [COMPONENT_LABEL]: component } : {}),
  };
}

/**
 * A run is a leftover when it is not kept and its owning lab process is gone. Runs owned by a lab on
 * another host are never ours to judge (their pid means nothing here) — unless they carry no owner at all.
 */
export function isLeftover(
  labels: Record<string, string> | undefined,
  keep: readonly string[],
  alive: (pid: number) => boolean = pidAlive,
  host = hostname(),
): boolean {
  const run = labels?.[LAB_LABEL] ?? '';
  if (keep.includes(run)) return false;
  const owner = Number(labels?.[OWNER_LABEL]);
  if (!Number.isInteger(owner) || owner <= 0) return true;
  const ownerHost = labels?.[HOST_LABEL];
  if (ownerHost !== undefined && ownerHost !== host) return false;
  return !alive(owner);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Service names: `pp-<run id>-<component>`, lower case (swarm names are DNS labels, ≤ 63 chars). */
export function serviceName(runId: string, component: string): string {
  return `pp-${runId.toLowerCase()}-${component}`;
}
