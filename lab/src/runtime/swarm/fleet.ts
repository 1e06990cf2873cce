import { LabError } from '@pushpull/common';
import { producerArgs } from '../producer-args.ts';
import type { ProducerMember, ProducerOptions } from '../types.ts';
import { podsList, specContext, waitHttp } from './deploy.ts';
import { taskAddress } from './engine.ts';
import { type ProducerSlot, place, producerConstraints } from './placement.ts';
import { producerSpec } from './specs.ts';
import type { SwarmStack, TrackedProducer } from './state.ts';
import { waitRunning } from './tasks.ts';

// The producer fleet: one single-replica service per producer (each has its own name and pod count on its
// command line), pinned to the node the placement chose, reached through the proxy at its task address.

export async function scaleFleet(
  s: SwarmStack,
  producers: number,
  popts: ProducerOptions,
  signal?: AbortSignal,
): Promise<void> {
  s.producerOptions = popts;
  while (s.producers.length > producers) {
    const p = s.producers.pop()!;
    await s.docker
      .getService(p.serviceId)
      .remove()
      .catch(() => undefined);
    // Without this the sd service keeps the gone producer as a (down) target until it forgets it.
    await fetch(`${s.proxyUrl}/sd/forget?container=${encodeURIComponent(p.member.name)}`, {
      method: 'POST',
      signal: AbortSignal.timeout(3000),
    }).catch(() => undefined);
  }
  const plan = place({ nodes: s.nodes, podsPerProducer: podsList(producers, popts) });
  const started: Promise<void>[] = [];
  let aborted: unknown = null;
  for (let i = s.producers.length; i < producers && !aborted; i++) {
    if (signal?.aborted) aborted = signal.reason;
    else started.push(addProducer(s, plan.producers[i]!, popts, signal));
  }
  // Every started wait settles before we return or throw: none may reject after a teardown.
  const results = await Promise.allSettled(started);
  // Services are created concurrently: keep the fleet in index order (scale-down removes the last).
  s.producers.sort((a, b) => slotIndex(a.member.name) - slotIndex(b.member.name));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  if (aborted) throw aborted;
}

const slotIndex = (name: string) => Number(name.slice(name.lastIndexOf('-') + 1));

async function addProducer(
  s: SwarmStack,
  slot: ProducerSlot,
  popts: ProducerOptions,
  signal?: AbortSignal,
): Promise<void> {
  const args = producerArgs(slot.name, slot.pods, popts, 'collector:8125', '/tmp/sd', '0.0.0.0:9100');
  const svc = await s.docker.createService(
    producerSpec(specContext(s), slot.name, args, producerConstraints(slot)),
  );
  const member: ProducerMember = {
    name: slot.name,
    baseUrl: '',
    podIds: Array.from({ length: slot.pods }, (_, k) => `${slot.name}-p${k}`),
    handle: svc.id,
  };
  const tracked: TrackedProducer = { member, serviceId: svc.id, nodeId: slot.nodeId };
  s.producers.push(tracked);
  await reachMember(s, tracked, signal);
}

/**
 * Points the member at its (newest) task's address through the proxy and waits until it answers. Also
 * after a restart: swarm starts a new task, usually with a new address; the member object is the caller's.
 */
export async function reachMember(s: SwarmStack, p: TrackedProducer, signal?: AbortSignal): Promise<void> {
  const task = await waitRunning(s.docker, p.serviceId, p.member.name, 120_000, signal);
  const ip = taskAddress(task, s.networkId);
  if (!ip)
    throw new LabError('LAB_ERR_SWARM', `${p.member.name}: its task has no address on ${s.networkName}`);
  p.member.baseUrl = `${s.proxyUrl}/task/${ip}:9100`;
  await waitHttp(`${p.member.baseUrl}/healthz`, `${p.member.name} /healthz`, signal);
}
