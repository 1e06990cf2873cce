import { LabError } from '@pushpull/common';
import { pushAgentNameOf } from '../push-agent-args.ts';
import type { FaultKind, ProducerMember } from '../types.ts';
import { publishedMember } from './fleet.ts';
import { netOwnerOf, republishAgent } from './push-agents.ts';
import type { DockerStack, Tracked } from './state.ts';

// Faults on a producer container: SIGKILL, pause/unpause, a network partition (disconnect) and its heal,
// a restart. After heal and restart the control port is published anew: the member is repointed.

export async function injectFault(s: DockerStack, kind: FaultKind, member: ProducerMember): Promise<void> {
  const p = s.producers.find((x) => x.member.name === member.name);
  if (!p) throw new LabError('LAB_ERR_CONFIG', `no producer named ${member.name}`);
  const net = s.docker.getNetwork(s.networkName);
  const owner = netOwnerOf(s, p);
  switch (kind) {
    case 'kill':
      await p.container.kill({ signal: 'SIGKILL' });
      return;
    case 'pause':
      await p.container.pause();
      return;
    case 'resume':
      await p.container.unpause();
      return;
    case 'partition':
      // Cuts the producer off the lab network: Prometheus can no longer reach it, its datagrams go nowhere.
      // #27: with the agent tier the host's namespace is its agent's: the pods still reach their agent on
      // loopback, the agent no longer reaches the central collector.
      await net.disconnect({ Container: owner.id, Force: true });
      return;
    case 'heal':
      await net.connect({ Container: owner.id, EndpointConfig: { Aliases: healAliases(p) } });
      await publishedMember(s, p.member, owner);
      await republishAgent(s, p);
      return;
    case 'restart':
      await p.container.restart({ t: 2 });
      await publishedMember(s, p.member, owner);
      return;
  }
}

/** The names a healed host gets back on the run's network (#27: its agent's too, with the agent tier). */
function healAliases(p: Tracked): string[] {
  return p.member.pushAgentUrl ? [pushAgentNameOf(p.member.name), 'producer'] : ['producer'];
}
