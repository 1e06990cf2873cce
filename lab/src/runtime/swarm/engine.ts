import { LabError } from '@pushpull/common';
import type Docker from 'dockerode';
import { engineUnreachable, withTimeout } from '../engine.ts';
import { type ApiInfo, type ApiNode, parseNodes, requireManager, type SwarmNode } from './nodes.ts';

// The engine calls the swarm runtime starts with: the engine answers, it is a swarm manager, the nodes;
// and the run's overlay subnet, taken from one documented pool.

/** The pool every run's overlay /24 comes from (LAB_SWARM_POOL overrides; a /16). Documented in lab/README.md. */
export const DEFAULT_POOL = '10.231.0.0/16';

/** The manager's node id and every node; LAB_ERR_DOCKER_UNREACHABLE / LAB_ERR_SWARM when not usable. */
export async function swarmNodes(docker: Docker): Promise<{ localNodeId: string; nodes: SwarmNode[] }> {
  let info: ApiInfo;
  try {
    info = (await withTimeout(docker.info(), 5000, 'docker info')) as ApiInfo;
  } catch (e) {
    throw engineUnreachable(e);
  }
  const { nodeId } = requireManager(info);
  const nodes = parseNodes((await withTimeout(docker.listNodes(), 10_000, 'docker node ls')) as ApiNode[]);
  return { localNodeId: nodeId, nodes };
}

/** The first /24 of the pool no existing network uses. Pure. */
export function pickSubnet(pool: string, used: readonly string[]): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.exec(pool);
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255)
    throw new LabError('LAB_ERR_CONFIG', `LAB_SWARM_POOL "${pool}" must be a /16 like ${DEFAULT_POOL}`);
  const taken = new Set(used);
  for (let c = 0; c < 256; c++) {
    const s = `${m[1]}.${m[2]}.${c}.0/24`;
    if (!taken.has(s)) return s;
  }
  throw new LabError('LAB_ERR_SWARM', `the address pool ${pool} is exhausted (256 runs' networks exist)`);
}

/** Subnets of every network the engine knows (swarm-scoped ones included). */
export async function usedSubnets(docker: Docker): Promise<string[]> {
  const nets = await docker.listNetworks();
  return nets.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? '').filter(Boolean));
}

/** An IPv4 task address on the run's network ("10.231.0.5/24" → "10.231.0.5"), or null. */
export function taskAddress(task: unknown, networkId: string): string | null {
  const t = task as { NetworksAttachments?: { Network?: { ID?: string }; Addresses?: string[] }[] };
  for (const a of t.NetworksAttachments ?? []) {
    if (a.Network?.ID !== networkId) continue;
    const addr = a.Addresses?.[0];
    if (addr) return addr.split('/')[0] ?? null;
  }
  return null;
}
