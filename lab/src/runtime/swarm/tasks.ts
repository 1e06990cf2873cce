import { LabError } from '@pushpull/common';
import type Docker from 'dockerode';
import { sleep } from '../engine.ts';

// Tasks of a service, as `GET /tasks?filters={"service":[...]}` returns them, and bounded waits on them.

export interface ApiTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  CreatedAt?: string;
  DesiredState?: string;
  Status?: {
    State?: string;
    Err?: string;
    Message?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
  NetworksAttachments?: { Network?: { ID?: string }; Addresses?: string[] }[];
}

export const TERMINAL = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned', 'remove']);

export async function tasksOf(docker: Docker, serviceIds: readonly string[]): Promise<ApiTask[]> {
  if (serviceIds.length === 0) return [];
  return (await docker.listTasks({ filters: { service: [...serviceIds] } })) as ApiTask[];
}

/** The newest task of a service (a restart or update creates a new one). */
export function newest(tasks: readonly ApiTask[], serviceId: string): ApiTask | undefined {
  let best: ApiTask | undefined;
  for (const t of tasks)
    if (t.ServiceID === serviceId && (!best || (t.CreatedAt ?? '') > (best.CreatedAt ?? ''))) best = t;
  return best;
}

/**
 * Waits until the service's newest task runs; a task that ended (rejected: no such image on its node, failed:
 * exited) or a timeout becomes a clear error with the engine's own message.
 */
export async function waitRunning(
  docker: Docker,
  serviceId: string,
  what: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ApiTask> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no task yet';
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    const t = newest(await tasksOf(docker, [serviceId]), serviceId);
    const state = t?.Status?.State;
    if (t && state === 'running') return t;
    if (t && state && TERMINAL.has(state)) {
      const err = t.Status?.Err ?? t.Status?.Message ?? '';
      const code = /no such image/i.test(err) ? 'LAB_ERR_IMAGE_MISSING' : 'LAB_ERR_CHILD_EXIT';
      throw new LabError(code, `${what}: task ${state} on node ${t.NodeID ?? '?'}: ${err}`);
    }
    last = state ?? last;
    await sleep(250);
  }
  throw new LabError(
    'LAB_ERR_TIMEOUT',
    `${what}: task not running within ${timeoutMs} ms (last state: ${last})`,
  );
}
