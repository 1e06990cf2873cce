import { rmSync } from 'node:fs';
import { LabError } from '@pushpull/common';
import { pidsUsing, pidsWhere } from './down.ts';
import { must, run } from './exec.ts';
import type { WorkerPlan } from './plan.ts';
import type { NodesState } from './state.ts';
import { startDaemon } from './up.ts';

// The drill's node-level actions on a worker `nodes up` made, beyond link down/up (faults.ts):
// - loseMachine: the machine dies. SIGKILL to its dockerd, containerd and shims (every process naming its
//   exec root) AND to every process of its containers (found by container id in /proc/PID/cgroup). Killing
//   the dockerd alone is not a lost machine: its containerd shims and containers outlive it (they are
//   reparented) and keep serving scrapes and sending pushes over the overlay, whose data plane is the kernel's.
// - reviveMachine: the machine boots again: its dockerd restarts on the same data root and rejoins the swarm.
// - ledgerInside: a producer's ledger read through the node's own engine (`docker exec` on its socket),
//   outside every network path the fault cut — the ground truth of a partitioned node.

/** Pids whose cgroup names one of the container ids (their processes, whatever their pid namespace). */
export function pidsOfContainers(ids: readonly string[], procDir = '/proc'): number[] {
  if (ids.length === 0) return [];
  return pidsWhere('cgroup', (cg) => ids.some((id) => id.length >= 12 && cg.includes(id)), procDir);
}

/** Container ids the node's engine runs (full ids). */
async function containersOf(w: WorkerPlan): Promise<string[]> {
  const r = await run(['docker', '-H', `unix://${w.socket}`, 'ps', '-q', '--no-trunc'], 10_000);
  return r.stdout.split('\n').filter((s) => /^[0-9a-f]{64}$/.test(s.trim()));
}

/** SIGKILL every process of the node at once; returns how many were killed. */
export async function loseMachine(w: WorkerPlan): Promise<{ killed: number; containers: number }> {
  const containers = await containersOf(w);
  const pids = new Set([...pidsUsing(w.execRoot), ...pidsOfContainers(containers)]);
  pids.delete(process.pid);
  let killed = 0;
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
      killed++;
    } catch {
      // gone meanwhile
    }
  }
  return { killed, containers: containers.length };
}

/** Restarts the node's dockerd (recorded in the state file); bounded by startDaemon's 60 s. */
export async function reviveMachine(w: WorkerPlan, state: NodesState, statePath: string): Promise<void> {
  // A stale pid file or socket of the killed daemon must not stop the new one.
  rmSync(w.pidfile, { force: true });
  rmSync(w.socket, { force: true });
  await startDaemon(w, state, statePath);
}

/**
 * The ledger of the producer in container `cid` on worker `w`, read inside the container over its loopback
 * (`POST /control/quiesce` when `quiesce`: the workload stops and every push buffer is flushed first).
 */
export async function ledgerInside(w: WorkerPlan, cid: string, quiesce: boolean): Promise<unknown> {
  const path = quiesce ? '/control/quiesce' : '/control/ledger';
  const js = `fetch('http://127.0.0.1:9100${path}',{method:'${quiesce ? 'POST' : 'GET'}',${quiesce ? "headers:{'content-type':'application/json'},body:'{}'," : ''}signal:AbortSignal.timeout(15000)}).then(r=>r.text()).then(t=>process.stdout.write(t),e=>{console.error(String(e));process.exit(1)})`;
  const out = await must(['docker', '-H', `unix://${w.socket}`, 'exec', cid, 'node', '-e', js], 30_000);
  try {
    return JSON.parse(out);
  } catch {
    throw new LabError(
      'LAB_ERR_CHILD_EXIT',
      `ledger of container ${cid.slice(0, 12)}: not JSON: ${out.slice(0, 200)}`,
      {
        value: cid,
      },
    );
  }
}

/** The worker whose swarm node id is `nodeId`, or null (the observer node, or a node `nodes up` did not make). */
export function workerOfNode(state: NodesState, nodeId: string): WorkerPlan | null {
  const idx = Object.entries(state.nodeIds).find(([, id]) => id === nodeId)?.[0];
  return state.plan.workers.find((w) => String(w.index) === idx) ?? null;
}
