import { LabError } from '@pushpull/common';
import { must } from './exec.ts';
import { loseMachine } from './machine.ts';
import type { WorkerPlan } from './plan.ts';
import type { NodesState } from './state.ts';

// Node faults on the nodes `nodes up` made (the drill's node-partition and node-loss, by hand for now):
// `partition I` takes worker I's link down inside its namespace (every packet of the node — overlay, swarm
// heartbeats, scrapes, pushes — stops at once); `heal I` brings it up again; `lose I` is a machine that
// died: SIGKILL to its dockerd, containerd, shims and its containers' processes at once (machine.ts, the same
// as the drill's node-loss: the dockerd alone is not a lost machine, its containers outlive it). Only the
// lab's own namespaces, veths, daemons and containers are touched. Planned here (pure), run by the CLI.

export const NODE_FAULTS = ['partition', 'heal', 'lose'] as const;
export type NodeFault = (typeof NODE_FAULTS)[number];

/** Worker `index` of the recorded plan; LAB_ERR_FLAG_VALUE naming the index and the workers otherwise. */
export function workerOf(state: NodesState, index: string | undefined): WorkerPlan {
  const w = state.plan.workers.find((x) => String(x.index) === index);
  if (!w)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `nodes: no worker "${index}" (workers: ${state.plan.workers.map((x) => x.index).join(', ')})`,
      { value: index ?? '' },
    );
  return w;
}

/** The host command a fault runs (argv), or the pid to SIGKILL for `lose`. Pure. */
export function faultCommand(
  fault: NodeFault,
  w: WorkerPlan,
  state: NodesState,
): { argv: string[] } | { killPid: number } {
  if (fault === 'lose') {
    const pid = state.pids[String(w.index)];
    if (!pid)
      throw new LabError('LAB_ERR_CONFIG', `nodes: worker ${w.index} has no recorded dockerd pid`, {
        value: w.index,
      });
    return { killPid: pid };
  }
  return { argv: ['ip', '-n', w.netns, 'link', 'set', w.vethNode, fault === 'partition' ? 'down' : 'up'] };
}

/** Runs the fault; returns one line for the terminal. */
export async function injectNodeFault(fault: NodeFault, w: WorkerPlan, state: NodesState): Promise<string> {
  const c = faultCommand(fault, w, state);
  if ('killPid' in c) {
    const lost = await loseMachine(w);
    if (lost.killed === 0)
      throw new LabError(
        'LAB_ERR_CHILD_EXIT',
        `nodes: worker ${w.index} has no running process to kill (its dockerd pid ${c.killPid} is gone: lost already?)`,
        { value: c.killPid },
      );
    return `worker ${w.index}: machine lost (node-loss): ${lost.killed} processes SIGKILLed — its dockerd (pid ${c.killPid}), containerd, shims and ${lost.containers} containers' processes; \`nodes down\` still removes the rest`;
  }
  await must(c.argv, 10_000);
  return `worker ${w.index}: ${w.vethNode} in ${w.netns} ${fault === 'partition' ? 'down (node-partition)' : 'up (healed)'}`;
}
