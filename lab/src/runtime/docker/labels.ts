// Labels on every container and network the lab creates: which run it belongs to (the reaper removes
// leftovers of a crashed run), which component it is, and which lab process owns it.

export const LAB_LABEL = 'pushpull.lab';
export const COMPONENT_LABEL = 'pushpull.component';
/** pid of the lab process that owns a container: the reaper spares runs whose lab is still alive. */
export const OWNER_LABEL = 'pushpull.lab.owner';

/** The run and owner labels (components add COMPONENT_LABEL). */
export function runLabels(runId: string): Record<string, string> {
  return { [LAB_LABEL]: runId, [OWNER_LABEL]: String(process.pid) };
}

/** A run is a leftover when it is not kept and its owning lab process (on this host) is gone. */
export function isLeftover(labels: Record<string, string> | undefined, keep: readonly string[]): boolean {
  const run = labels?.[LAB_LABEL] ?? '';
  if (keep.includes(run)) return false;
  const owner = Number(labels?.[OWNER_LABEL]);
  if (!Number.isInteger(owner) || owner <= 0) return true;
  try {
    process.kill(owner, 0);
    return false; // that lab is still running
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
