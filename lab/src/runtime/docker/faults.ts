import { LabError } from '@pushpull/common';
import type { FaultKind, ProducerMember } from '../types.ts';
import { publishedMember } from './fleet.ts';
import type { DockerStack } from './state.ts';

// Faults on a producer container: SIGKILL, pause/unpause, a network partition (disconnect) and its heal,
// a restart. After heal and restart the control port is published anew: the member is repointed.

export async function injectFault(s: DockerStack, kind: FaultKind, member: ProducerMember): Promise<void> {
  const p = s.producers.find((x) => x.member.name === member.name);
  if (!p) throw new LabError('LAB_ERR_CONFIG', `no producer named ${member.name}`);
  const net = s.docker.getNetwork(s.networkName);
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
      await net.disconnect({ Container: p.container.id, Force: true });
      return;
    case 'heal':
      await net.connect({ Container: p.container.id, EndpointConfig: { Aliases: ['producer'] } });
      await publishedMember(s, p.member, p.container);
      return;
    case 'restart':
      await p.container.restart({ t: 2 });
      await publishedMember(s, p.member, p.container);
      return;
  }
}
