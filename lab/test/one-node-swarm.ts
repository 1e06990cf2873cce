// The one-node swarm of the swarm end-to-end tests: joined (made, when this engine is in no swarm) before a
// suite, and left after it only if the suite made it — with the docker_gwbridge network `swarm init` made,
// when it was not there before. Another engineer's swarm is never touched.
import { execFileSync } from 'node:child_process';

export const docker = (...a: string[]) => execFileSync('docker', a, { encoding: 'utf8' }).trim();
export const lines = (s: string) => s.split('\n').filter(Boolean);

export function oneNodeSwarm(): { join(): void; leave(): void } {
  let created = false;
  let hadGwBridge = true;
  return {
    join() {
      if (docker('info', '--format', '{{.Swarm.LocalNodeState}}') === 'active') return;
      hadGwBridge = lines(docker('network', 'ls', '--format', '{{.Name}}')).includes('docker_gwbridge');
      docker('swarm', 'init', '--advertise-addr', '127.0.0.1');
      created = true;
    },
    leave() {
      if (!created) return;
      docker('swarm', 'leave', '--force');
      if (hadGwBridge) return;
      try {
        docker('network', 'rm', 'docker_gwbridge');
      } catch {
        // another engineer's swarm may have created it meanwhile
      }
    },
  };
}
