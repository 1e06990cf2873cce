import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { podIdsOf } from '@pushpull/common';
import type Docker from 'dockerode';
import { waitHttp } from '../engine.ts';
import {
  producerArgs as baseProducerArgs,
  containerCollectorAddress,
  type ProducerArgs,
  podsForProducer,
  producersToKeep,
} from '../producer-args.ts';
import { podShareOf } from '../resource-limits.ts';
import type { ProducerMember, ProducerOptions } from '../types.ts';
import { syncDockerAgents } from './agents.ts';
import { loopbackUrl, startService } from './containers.ts';
import {
  HOST_AGENT_STATSD,
  joinAgent,
  removeHostAgent,
  resizeHostAgents,
  startHostAgent,
} from './push-agents.ts';
import type { DockerStack } from './state.ts';

// The producer fleet: one container per producer, created and removed one by one (instead of compose's
// `--scale`), each with its own control port published on loopback.

/** Producer CLI flags: the shared set, listening on the container's port instead of 127.0.0.1:0. */
export function producerArgs(...a: ProducerArgs): string[] {
  return baseProducerArgs(...a, '0.0.0.0:9100');
}

/** Grows or shrinks the fleet to `producers` containers; the last one is resized when its share changes. */
export async function scaleFleet(s: DockerStack, producers: number, popts: ProducerOptions): Promise<void> {
  s.producerOptions = popts;
  const sdDir = join(s.workDir, 'sd');
  const keep = producersToKeep(
    s.producers.map((p) => p.member.podIds.length),
    producers,
    popts,
  );
  while (s.producers.length > keep) {
    const p = s.producers.pop()!;
    await p.container.remove({ force: true }).catch(() => undefined);
    await removeHostAgent(s, p.member.name); // #27: its host's agent goes with it
    // A SIGKILLed producer cannot remove its own discovery file: do it, so its pods stop being targets.
    rmSync(join(sdDir, `${p.member.name}.json`), { force: true });
  }
  const podsOf = Array.from({ length: producers }, (_, i) => podsForProducer(i, producers, popts));
  await resizeKept(s, podsOf);
  if (popts.pushTopology === 'agent') await resizeHostAgents(s, producers);
  const started: Promise<void>[] = [];
  for (let i = s.producers.length; i < producers; i++) {
    const name = `producer-${i}`;
    const pods = podsOf[i]!;
    // #27: with the agent tier its host's agent comes first; the producer joins the agent's network namespace.
    const agent =
      popts.pushTopology === 'agent' ? await startHostAgent(s, name, producers, s.collectorFlags) : null;
    const push = agent ? HOST_AGENT_STATSD : containerCollectorAddress(popts.transport);
    const container = await startService(
      s,
      'producer',
      { Binds: [`${sdDir}:/sd`], ...(agent ? joinAgent(agent) : {}) },
      !agent,
      {
        cmd: producerArgs(name, pods, popts, push, '/sd'),
        containerName: `pushpull-${s.runId}-${name}`,
        labels: { 'pushpull.producer': name },
        // Compose publishes no producer port (they are scaled); the lab publishes each control port on loopback.
        ports: ['9100/tcp'],
        // The producers' budget is the fleet's: each container gets CPU in proportion to its pods.
        resources: s.resources ? podShareOf(s.resources.producers, podsOf, i) : null,
      },
    );
    const member: ProducerMember = {
      name,
      baseUrl: '',
      podIds: podIdsOf(name, pods),
      handle: container.id,
      ...(agent ? { pushAgentUrl: agent.url } : {}),
    };
    s.producers.push({ member, container });
    // Its ports are published where its network namespace is: on the agent's container with the agent tier.
    started.push(publishedMember(s, member, agent?.container ?? container));
  }
  await Promise.all(started);
  if (s.agentOptions) await syncDockerAgents(s, s.agentOptions); // #29: one pull agent per producer
}

/**
 * The producers a resize keeps get their CPU share of the new fleet (a live `docker update`), so the shares of
 * old and new containers still sum to the producers' budget.
 */
async function resizeKept(s: DockerStack, podsOf: readonly number[]): Promise<void> {
  const budget = s.resources?.producers;
  if (!budget || budget.cpus === null) return;
  await Promise.all(
    s.producers.map((p, i) =>
      p.container.update({ NanoCpus: Math.round(podShareOf(budget, podsOf, i).cpus! * 1e9) }),
    ),
  );
}

/**
 * Points the member at its container's published control port and waits until the producer answers there.
 * Also after a reconnect or restart: the port is published anew, on a new engine-chosen host port (the old
 * one is gone: connections to it are refused); the member is the same object the caller holds.
 */
export async function publishedMember(
  s: DockerStack,
  member: ProducerMember,
  container: Docker.Container,
): Promise<void> {
  member.baseUrl = await loopbackUrl(s, 'producer', '9100/tcp', container);
  await waitHttp(`${member.baseUrl}/healthz`, 60_000, `${member.name} /healthz`);
}
