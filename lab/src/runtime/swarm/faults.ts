import { LabError } from '@pushpull/common';
import type Docker from 'dockerode';
import { sleep } from '../engine.ts';
import type { FaultKind, ProducerMember } from '../types.ts';
import { waitHttp } from './deploy.ts';
import { taskAddress } from './engine.ts';
import { reachMember } from './fleet.ts';
import type { SwarmStack, TrackedProducer } from './state.ts';
import { newest, tasksOf } from './tasks.ts';

// Faults on a producer task. `restart` goes through the swarm API (a forced update: swarm replaces the task,
// on any node). The others act on the task's container and so need that node's engine: the lab talks only
// to the manager's, so they work for tasks on the manager's node and are refused (LAB_ERR_FAULT_UNSUPPORTED)
// elsewhere rather than faked. `partition` is `docker network disconnect` of the task's container from the
// run's overlay — the engine accepts it for a swarm-scoped attachable network (measured: the task loses its
// traffic and its DNS record; `heal` = connect restores the same address, the DNS record stays gone, which
// the sd service covers by remembering the task).

export async function injectFault(s: SwarmStack, kind: FaultKind, member: ProducerMember): Promise<void> {
  const p = s.producers.find((x) => x.member.name === member.name);
  if (!p) throw new LabError('LAB_ERR_CONFIG', `no producer named ${member.name}`);
  if (kind === 'restart') return restart(s, p);
  const task = await localTask(s, p, kind);
  const container = s.docker.getContainer(task.containerId);
  const net = s.docker.getNetwork(s.networkId);
  switch (kind) {
    case 'kill':
      return void (await container.kill({ signal: 'SIGKILL' }));
    case 'pause':
      return void (await container.pause());
    case 'resume':
      return void (await container.unpause());
    case 'partition':
      return void (await net.disconnect({ Container: container.id, Force: true }));
    case 'heal':
      return heal(s, p, container, task.address);
  }
}

/**
 * Reconnects the task's container with the address its task was given (the sd service and Prometheus know
 * the task by it; its DNS record does not come back), then points the member at the address it really has.
 */
async function heal(
  s: SwarmStack,
  p: TrackedProducer,
  container: Docker.Container,
  address: string | null,
): Promise<void> {
  const net = s.docker.getNetwork(s.networkId);
  const aliases = { Aliases: ['producer'] };
  try {
    await net.connect({
      Container: container.id,
      EndpointConfig: address ? { ...aliases, IPAMConfig: { IPv4Address: address } } : aliases,
    });
  } catch {
    await net.connect({ Container: container.id, EndpointConfig: aliases });
  }
  const info = await container.inspect();
  const ip = info.NetworkSettings.Networks?.[s.networkName]?.IPAddress || address;
  if (ip !== address)
    s.log(
      `warning: ${p.member.name} came back as ${ip}, not ${address}: Prometheus and the sd service still know the old address`,
    );
  p.member.baseUrl = `${s.proxyUrl}/task/${ip}:9100`;
  await waitHttp(`${p.member.baseUrl}/healthz`, `${p.member.name} /healthz after heal`);
}

/** The container and overlay address of the producer's current task, when it runs on the manager's node. */
async function localTask(
  s: SwarmStack,
  p: TrackedProducer,
  kind: FaultKind,
): Promise<{ containerId: string; address: string | null }> {
  const t = newest(await tasksOf(s.docker, [p.serviceId]), p.serviceId);
  const id = t?.Status?.ContainerStatus?.ContainerID;
  if (!t || !id) throw new LabError('LAB_ERR_SWARM', `${p.member.name}: no task with a container`);
  if (t.NodeID !== s.localNodeId) {
    const node = s.nodes.find((n) => n.id === t.NodeID)?.name ?? t.NodeID;
    throw new LabError(
      'LAB_ERR_FAULT_UNSUPPORTED',
      `${kind} on ${p.member.name}: its task runs on node ${node}, whose engine the lab cannot reach (it talks to the manager only); on swarm only "restart" works on every node`,
      { kind, node },
    );
  }
  return { containerId: id, address: taskAddress(t, s.networkId) };
}

/** A forced update: swarm stops the task and starts a new one (new container, usually a new address). */
async function restart(s: SwarmStack, p: TrackedProducer): Promise<void> {
  const before = newest(await tasksOf(s.docker, [p.serviceId]), p.serviceId)?.ID;
  const svc = s.docker.getService(p.serviceId);
  const info = (await svc.inspect()) as {
    Version: { Index: number };
    Spec: { TaskTemplate: { ForceUpdate?: number } };
  };
  const spec = {
    ...info.Spec,
    TaskTemplate: { ...info.Spec.TaskTemplate, ForceUpdate: (info.Spec.TaskTemplate.ForceUpdate ?? 0) + 1 },
  };
  await svc.update({ version: info.Version.Index, ...spec });
  const deadline = Date.now() + 60_000;
  while (newest(await tasksOf(s.docker, [p.serviceId]), p.serviceId)?.ID === before) {
    if (Date.now() > deadline)
      throw new LabError('LAB_ERR_TIMEOUT', `restart of ${p.member.name}: no new task within 60 s`);
    await sleep(200);
  }
  await reachMember(s, p);
}
