import { LabError } from '@pushpull/common';
import type Docker from 'dockerode';
import { sleep, withTimeout } from '../engine.ts';
import { type ClockSample, clockOffsets, type SwarmNode } from './nodes.ts';
import { probeSpec, type SpecContext } from './specs.ts';
import type { SwarmStack } from './state.ts';
import { type ApiTask, TERMINAL, tasksOf } from './tasks.ts';

// Before anything of the stack runs: is every image on every node that needs it, and how far is each node's
// clock from the manager's? Asked through the manager (the only engine the lab talks to), with one global
// one-shot service per image on the nodes that need it; removed again at once (and by teardown/reaper,
// they carry the run's labels).

export interface ImageNeed {
  image: string;
  nodes: SwarmNode[];
  constraints: string[];
  /** Also measure the clocks (only for a node-based image: the producer's). */
  clock: boolean;
}

/** (node, image) pairs that are missing: a task rejected with "No such image", or no task at all. Pure. */
export function imageGaps(
  need: ImageNeed,
  tasks: readonly ApiTask[],
): { node: string; image: string; why: string }[] {
  const out: { node: string; image: string; why: string }[] = [];
  for (const n of need.nodes) {
    const mine = tasks.filter((t) => t.NodeID === n.id);
    if (mine.length === 0) {
      out.push({ node: n.name, image: need.image, why: 'no task was scheduled there' });
      continue;
    }
    const err = mine.map((t) => t.Status?.Err ?? '').find((e) => /no such image/i.test(e));
    if (err) out.push({ node: n.name, image: need.image, why: err });
  }
  return out;
}

/** Clock samples printed by the clock probe (one JSON line each) in a service's raw log output. Pure. */
export function clockSamples(raw: string): ClockSample[] {
  const out: ClockSample[] = [];
  for (const m of raw.matchAll(/\{"clock":1[^\n]*\}/g)) {
    try {
      const o = JSON.parse(m[0]) as ClockSample;
      if ([o.sentMs, o.receivedMs, o.managerMs].every(Number.isFinite) && typeof o.node === 'string')
        out.push(o);
    } catch {
      // a line cut by the log framing: skip it, the other exchanges carry the offset
    }
  }
  return out;
}

export async function preflight(
  s: SwarmStack,
  ctx: SpecContext,
  needs: readonly ImageNeed[],
  signal?: AbortSignal,
): Promise<Map<string, { offsetMs: number; rttMs: number }>> {
  const services = await Promise.all(
    needs.map((n, i) => s.docker.createService(probeSpec(ctx, n.image, i, n.constraints, n.clock))),
  );
  try {
    const tasks = await waitTerminal(
      s.docker,
      services.map((x) => x.id),
      needs,
      signal,
    );
    const gaps = needs.flatMap((n, i) =>
      imageGaps(
        n,
        tasks.filter((t) => t.ServiceID === services[i]!.id),
      ),
    );
    if (gaps.length > 0)
      throw new LabError(
        'LAB_ERR_IMAGE_MISSING',
        `images missing on swarm nodes: ${gaps.map((g) => `${g.image} on node ${g.node} (${g.why})`).join('; ')}. ` +
          'Copy them: `docker save <images> | ssh <node> docker load` (lab/README.md, "Air-gapped staging")',
        { gaps },
      );
    const clockIdx = needs.findIndex((n) => n.clock);
    if (clockIdx < 0) return new Map();
    return clockOffsets(
      clockSamples((await serviceLogBytes(s.docker, services[clockIdx]!.id)).toString('latin1')),
    );
  } finally {
    await Promise.all(services.map((x) => x.remove().catch(() => undefined)));
  }
}

/** Until every needed node has a finished task of each probe (bounded: 90 s). */
async function waitTerminal(
  docker: Docker,
  ids: string[],
  needs: readonly ImageNeed[],
  signal?: AbortSignal,
): Promise<ApiTask[]> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    signal?.throwIfAborted();
    const tasks = await tasksOf(docker, ids);
    const done = needs.every((n, i) =>
      n.nodes.every((node) =>
        tasks.some(
          (t) => t.ServiceID === ids[i] && t.NodeID === node.id && TERMINAL.has(t.Status?.State ?? ''),
        ),
      ),
    );
    if (done || Date.now() > deadline) return tasks;
    await sleep(300);
  }
}

/** A service's raw log output (stdout and/or stderr, in the engine's frames), bounded in time. */
export async function serviceLogBytes(docker: Docker, id: string, stderr = false): Promise<Buffer> {
  const out = (await withTimeout(
    docker.getService(id).logs({ stdout: true, stderr, follow: false }) as Promise<unknown>,
    15_000,
    'service logs',
  )) as Buffer | NodeJS.ReadableStream;
  if (Buffer.isBuffer(out)) return out;
  const chunks: Buffer[] = [];
  for await (const c of out as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}
