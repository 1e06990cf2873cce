import { readFileSync } from 'node:fs';
import { LabError } from '@pushpull/common';
import type Docker from 'dockerode';
import { httpOk } from '../core/http.ts';

// What the two Docker-engine runtimes (docker/ and swarm/) share: bounded waits on the engine and on the
// components' HTTP endpoints, the one "no engine answers" error, and a container's CPU reading. The process
// runtime waits on its children differently (it also watches them exit) and does not use this file.

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new LabError('LAB_ERR_TIMEOUT', `${what}: no answer within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `url` every 250 ms until it answers 2xx, for at most `timeoutMs`; each attempt aborts after 2 s.
 * `attemptCapMs`, when given, bounds each attempt once more from outside the fetch (the swarm runtime's
 * answers come through its proxy container).
 */
export async function waitHttp(
  url: string,
  timeoutMs: number,
  what: string,
  signal?: AbortSignal,
  attemptCapMs?: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    // httpOk's timer is ours and holds the process: AbortSignal.timeout()'s is unref'd, so with stdout not a
    // TTY (CI) a `scale` whose new producer was not listening yet left nothing alive and node exited 13
    // (unsettled top-level await) in the middle of the wait.
    const attempt = httpOk(url, 2000);
    const r =
      attemptCapMs === undefined
        ? await attempt
        : await withTimeout(attempt, attemptCapMs, what).catch((e: Error) => ({
            ok: false,
            detail: e.message,
          }));
    if (r.ok) return;
    last = r.detail;
    await sleep(250);
  }
  throw new LabError('LAB_ERR_TIMEOUT', `${what} not ready within ${timeoutMs} ms (last: ${last})`);
}

/** LAB_ERR_DOCKER_UNREACHABLE naming where the engine was looked for; `hint` says what to do instead. */
export function engineUnreachable(e: unknown, hint = ''): LabError {
  return new LabError(
    'LAB_ERR_DOCKER_UNREACHABLE',
    `no Docker engine answers at ${process.env.DOCKER_HOST ?? '/var/run/docker.sock'} (${(e as Error).message})${hint}`,
  );
}

/** CPU seconds a container has used, or null when it has no stats (removed, just ended). */
export async function containerCpuSeconds(c: Docker.Container): Promise<number | null> {
  try {
    const st = (await c.stats({ stream: false })) as { cpu_stats?: { cpu_usage?: { total_usage?: number } } };
    const ns = st.cpu_stats?.cpu_usage?.total_usage;
    return typeof ns === 'number' ? ns / 1e9 : null;
  } catch {
    return null;
  }
}

/**
 * Resident memory of a container's main process, from /proc/<pid>/status (the lab runs on the engine's host;
 * null when it is gone). The same figure the process runtime reads for its children: #27's agents' RSS.
 */
export function containerRssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
