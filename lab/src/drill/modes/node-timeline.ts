// What swarm did after a node fault, from the task lists and the victim node's state the drill captured
// once a second (the Engine API's `GET /tasks` and `GET /nodes/<id>` through the manager). Pure: samples in,
// a timeline and its sentence out, so the report's words are unit-tested against captured lists.

/** One task as `GET /tasks` lists it, reduced to what the timeline reads. */
export interface TaskSample {
  id: string;
  serviceId: string;
  nodeId: string;
  /** Status.State: new … running, shutdown, failed, orphaned, … */
  state: string;
  desired: string;
}

/** One capture: seconds after the fault, the victim node's Status.State, the victims' services' tasks. */
export interface SwarmSample {
  atS: number;
  nodeState: string;
  tasks: TaskSample[];
}

export interface ServiceTimeline {
  serviceId: string;
  /** First capture with a task of the service that was not there at the fault, on another node. */
  rescheduledS: number | null;
  /** First capture in which that replacement ran. */
  runningS: number | null;
  toNode: string | null;
  /** The original task's last state as the manager saw it (e.g. `running` while the node is cut off). */
  originalLastState: string | null;
}

export interface SwarmTimeline {
  /** The victim node first seen not `ready` (the manager's heartbeat timeout), null = never in the window. */
  nodeDownS: number | null;
  /** The node `ready` again after it was down (a heal, a revived daemon). */
  nodeReadyAgainS: number | null;
  services: ServiceTimeline[];
  /** Every victim service had a replacement scheduled / running (null = not all in the window). */
  allRescheduledS: number | null;
  allRunningS: number | null;
  windowS: number;
}

/**
 * The timeline for the victim node's services. `original` are the task ids running on the node at the
 * fault; a replacement is any other task of the same service on another node.
 */
export function swarmTimeline(
  samples: readonly SwarmSample[],
  victimNode: string,
  serviceIds: readonly string[],
  original: ReadonlySet<string>,
): SwarmTimeline {
  let nodeDownS: number | null = null;
  let nodeReadyAgainS: number | null = null;
  for (const s of samples) {
    if (nodeDownS === null && s.nodeState !== 'ready') nodeDownS = s.atS;
    if (nodeDownS !== null && nodeReadyAgainS === null && s.nodeState === 'ready' && s.atS > nodeDownS)
      nodeReadyAgainS = s.atS;
  }
  const services = serviceIds.map((serviceId): ServiceTimeline => {
    const t: ServiceTimeline = {
      serviceId,
      rescheduledS: null,
      runningS: null,
      toNode: null,
      originalLastState: null,
    };
    for (const s of samples) {
      for (const task of s.tasks) {
        if (task.serviceId !== serviceId) continue;
        if (original.has(task.id)) {
          t.originalLastState = task.state;
          continue;
        }
        if (task.nodeId === victimNode || task.nodeId === '') continue;
        if (t.rescheduledS === null) {
          t.rescheduledS = s.atS;
          t.toNode = task.nodeId;
        }
        if (t.runningS === null && task.state === 'running') t.runningS = s.atS;
      }
    }
    return t;
  });
  const all = (k: 'rescheduledS' | 'runningS') =>
    services.length > 0 && services.every((x) => x[k] !== null)
      ? Math.max(...services.map((x) => x[k] as number))
      : null;
  return {
    nodeDownS,
    nodeReadyAgainS,
    services,
    allRescheduledS: all('rescheduledS'),
    allRunningS: all('runningS'),
    windowS: samples.length > 0 ? samples[samples.length - 1]!.atS : 0,
  };
}

/** First replacement scheduled / running over the victim's services (null: none). */
export function firstOf(tl: SwarmTimeline, k: 'rescheduledS' | 'runningS'): number | null {
  const v = tl.services.map((s) => s[k]).filter((x): x is number => x !== null);
  return v.length > 0 ? Math.min(...v) : null;
}

const s1 = (x: number) => `${Math.round(x * 10) / 10} s`;

/** What swarm did, in one sentence for the cells and the notes. */
export function swarmWords(tl: SwarmTimeline, restartPolicy: string, otherProducerNodes: number): string {
  const n = tl.services.length;
  const down =
    tl.nodeDownS === null
      ? `the manager still saw the node ready after ${s1(tl.windowS)}`
      : `the manager marked the node down after ${s1(tl.nodeDownS)}${tl.nodeReadyAgainS !== null ? ` (ready again after ${s1(tl.nodeReadyAgainS)})` : ''}`;
  const moved = tl.services.filter((s) => s.rescheduledS !== null).length;
  let what: string;
  if (moved === 0) {
    const why =
      restartPolicy === 'none'
        ? 'restart policy none'
        : otherProducerNodes === 0
          ? 'no other producer node'
          : tl.nodeDownS === null
            ? 'the node never went down in the window'
            : `not within the ${s1(tl.windowS)} window`;
    what = `no task rescheduled (${why})`;
  } else {
    const first = firstOf(tl, 'rescheduledS')!;
    const run = firstOf(tl, 'runningS');
    what = `${moved} of ${n} task(s) rescheduled to another node after ${s1(first)}${run !== null ? `, running after ${s1(run)}` : ', none running in the window'}`;
  }
  return `swarm (restart policy ${restartPolicy}): ${down}; ${what}`;
}
