import { LabError, podIdsOf, TEST_CLOCK_SKEW_ENV } from '@pushpull/common';
import { httpText } from '../../core/http.ts';
import { containerCollectorAddress, producerArgs } from '../producer-args.ts';
import type { ProducerMember, ProducerOptions } from '../types.ts';
import { podsList, specContext, waitHttp } from './deploy.ts';
import { taskAddress } from './engine.ts';
import { type ProducerSlot, place, producerConstraints } from './placement.ts';
import { agentStatsdAddress, checkAgentPlacement, type SwarmAgent, syncSwarmAgents } from './push-agents.ts';
import { waitNoTasks } from './reaper.ts';
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
  checkAgentPlacement(popts);
  const sizes = podsList(producers, popts);
  // Shrink from the end; a producer whose pod count the new total changes (the last one) is replaced.
  const keep = keptProducers(
    s.producers.map((p) => p.member.podIds.length),
    sizes,
  );
  await removeProducers(s, s.producers.splice(keep));
  const plan = place({ nodes: s.nodes, podsPerProducer: sizes });
  // #27: one agent per producer node, running before that node's producers start.
  const agents =
    popts.pushTopology === 'agent'
      ? await syncSwarmAgents(
          s,
          [...s.producers, ...plan.producers.slice(s.producers.length, producers)].map((p) => p.nodeId),
          signal,
        )
      : null;
  const started: Promise<void>[] = [];
  let aborted: unknown = null;
  for (let i = s.producers.length; i < producers && !aborted; i++) {
    if (signal?.aborted) aborted = signal.reason;
    else {
      const slot = plan.producers[i]!;
      started.push(addProducer(s, slot, popts, producers, agents?.get(slot.nodeId) ?? null, signal));
    }
  }
  // Every started wait settles before we return or throw: none may reject after a teardown.
  const results = await Promise.allSettled(started);
  // Services are created concurrently: keep the fleet in index order (scale-down removes the last).
  s.producers.sort((a, b) => slotIndex(a.member.name) - slotIndex(b.member.name));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  if (aborted) throw aborted;
}

/**
 * How many of the running producers (their pod counts, in index order) stay as they are for a fleet of
 * `wanted` pod counts: the prefix whose sizes already match. Pure. 6 pods on one producer → 9 pods: none
 * stays (producer-0 is replaced with 9 pods); 2×50 + 10 → 2×50 + 40: two stay, the third is replaced.
 */
export function keptProducers(running: readonly number[], wanted: readonly number[]): number {
  let i = 0;
  while (i < running.length && i < wanted.length && running[i] === wanted[i]) i++;
  return i;
}

/**
 * Removes producers' services, waits (bounded) until their tasks' containers are gone, then tells the sd
 * service: forgetting earlier would let it re-learn a task still shutting down, which then stays a (down)
 * target for SD_FORGET_MS.
 */
async function removeProducers(s: SwarmStack, gone: readonly TrackedProducer[]): Promise<void> {
  if (gone.length === 0) return;
  await Promise.all(
    gone.map((p) =>
      s.docker
        .getService(p.serviceId)
        .remove()
        .catch(() => undefined),
    ),
  );
  await waitNoTasks(
    s.docker,
    gone.map((p) => p.serviceId),
  );
  for (const p of gone)
    await httpText(`${s.proxyUrl}/sd/forget?container=${encodeURIComponent(p.member.name)}`, {
      method: 'POST',
      timeoutMs: 3000,
    }).catch(() => undefined);
}

const slotIndex = (name: string) => Number(name.slice(name.lastIndexOf('-') + 1));

async function addProducer(
  s: SwarmStack,
  slot: ProducerSlot,
  popts: ProducerOptions,
  fleet: number,
  agent: (SwarmAgent & { url: string }) | null,
  signal?: AbortSignal,
): Promise<void> {
  const args = producerArgs(
    slot.name,
    slot.pods,
    popts,
    agent ? agentStatsdAddress(agent) : containerCollectorAddress(popts.transport),
    '/tmp/sd',
    '0.0.0.0:9100',
  );
  const skew = popts.testClockSkew;
  const env = skew && slot.nodeId.startsWith(skew.node) ? [`${TEST_CLOCK_SKEW_ENV}=${skew.ms}`] : [];
  const restart = popts.restartPolicy ?? 'none';
  const constraints = producerConstraints(slot, restart !== 'none', s.observerConstraints.length > 0);
  const svc = await s.docker.createService(
    producerSpec(specContext(s), slot.name, args, constraints, fleet, env, restart),
  );
  const member: ProducerMember = {
    name: slot.name,
    baseUrl: '',
    podIds: podIdsOf(slot.name, slot.pods),
    handle: svc.id,
    ...(agent ? { pushAgentUrl: agent.url, pushAgentName: agent.name } : {}),
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
  // Where swarm really ran it (a reschedulable producer is not pinned to the node placement chose).
  if (task.NodeID) p.nodeId = task.NodeID;
  const ip = taskAddress(task, s.networkId);
  if (!ip)
    throw new LabError('LAB_ERR_SWARM', `${p.member.name}: its task has no address on ${s.networkName}`);
  p.member.baseUrl = `${s.proxyUrl}/task/${ip}:9100`;
  await waitHttp(`${p.member.baseUrl}/healthz`, `${p.member.name} /healthz`, signal);
}
