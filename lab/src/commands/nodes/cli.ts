import { join } from 'node:path';
import { type FlagSpecs, formatHelp, LabError, parseArgs } from '@pushpull/common';
import type { CliIo } from '../../core/cli.ts';
import { nodesDown } from '../../nodes/down.ts';
import { injectNodeFault, NODE_FAULTS, type NodeFault, workerOf } from '../../nodes/faults.ts';
import { DEFAULT_NODES_DIR, DEFAULT_SUBNET, MAX_NODES, planNodes } from '../../nodes/plan.ts';
import { newState, readNodesState } from '../../nodes/state.ts';
import { nodesUp, preflight } from '../../nodes/up.ts';

// `pushpull-lab nodes up N` / `nodes down`: N swarm worker nodes made on this machine (a dockerd per
// network namespace, joined to the host's dockerd as manager). scripts/swarm-nodes.sh calls this.

export const NODES_USAGE = `pushpull-lab nodes up N [--subnet CIDR] [--images A,B] [--dir DIR]
       pushpull-lab nodes down [--dir DIR]
       pushpull-lab nodes partition|heal|lose I [--dir DIR]
Root only. up: N (1–${MAX_NODES}) worker nodes, each a dockerd in network namespace pushpull-nN with a veth to
bridge pplbr0 on --subnet (bridge .1, node i at .10+i); the host's dockerd is the swarm manager (observer
node, label pushpull.role=observer) advertising the bridge address; workers labelled pushpull.role=producer
with the images loaded. down: removes exactly what up recorded in DIR/nodes.json (idempotent).
partition I: worker I's link down inside its namespace; heal I: up again; lose I: SIGKILL its dockerd.`;

export const NODES_FLAGS: FlagSpecs = {
  subnet: {
    kind: 'string',
    env: 'LAB_NODES_SUBNET',
    default: DEFAULT_SUBNET,
    help: "the nodes' subnet; checked against routes and Docker's pools before use",
  },
  images: {
    kind: 'string',
    env: 'LAB_NODES_IMAGES',
    defaultText:
      'the producer image, $PUSHPULL_PRODUCER_IMAGE or pushpull/producer:0.1.0 (as compose resolves it)',
    help: 'images loaded on every worker (comma-separated; "" for none)',
  },
  dir: {
    kind: 'string',
    env: 'LAB_NODES_DIR',
    default: DEFAULT_NODES_DIR,
    help: 'data roots and the state file (nodes.json)',
  },
  help: { kind: 'bool', help: 'show help' },
};

/** Exec roots, sockets and pid files (short paths: unix socket names are limited to 108 bytes). */
export const RUN_DIR = '/run/pushpull-lab/nodes';

export async function nodesCommand(argv: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseArgs(argv, NODES_FLAGS, io.env);
  if (flags.help || positionals.length === 0) {
    io.out(`${formatHelp(NODES_USAGE, NODES_FLAGS)}\n`);
    return flags.help ? 0 : 2;
  }
  const [action, count, ...extra] = positionals;
  const dir = String(flags.dir);
  const statePath = join(dir, 'nodes.json');
  const log = (s: string) => io.err(`nodes: ${s}\n`);
  if (action === 'down' && count === undefined) {
    const state = readNodesState(statePath);
    if (!state) {
      io.out(`nodes: nothing to remove (no ${statePath})\n`);
      return 0;
    }
    requireRoot();
    await nodesDown(state, statePath, log);
    io.out(`nodes: down (${state.plan.workers.length} worker(s) removed)\n`);
    return 0;
  }
  if ((NODE_FAULTS as readonly string[]).includes(action ?? '') && extra.length === 0) {
    const state = readNodesState(statePath);
    if (!state)
      throw new LabError(
        'LAB_ERR_CONFIG',
        `nodes: no nodes recorded in ${statePath}: run \`nodes up N\` first`,
        {
          value: statePath,
        },
      );
    requireRoot();
    io.out(`nodes: ${await injectNodeFault(action as NodeFault, workerOf(state, count), state)}\n`);
    return 0;
  }
  if (action !== 'up' || extra.length > 0 || count === undefined)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `nodes: expected \`up N\`, \`down\` or \`partition|heal|lose I\`, got "${positionals.join(' ')}"`,
      {
        value: positionals.join(' '),
      },
    );
  const n = /^-?\d+$/.test(count) ? Number(count) : Number.NaN;
  const plan = planNodes(n, String(flags.subnet), dir, RUN_DIR);
  requireRoot();
  await preflight(plan, statePath);
  const images = String(flags.images ?? producerImage(io.env))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const state = newState(plan);
  try {
    await nodesUp(plan, state, { statePath, images, log });
  } catch (e) {
    log(`up failed; removing what it made (${(e as Error).message})`);
    await nodesDown(state, statePath, log);
    throw e;
  }
  io.out(
    `nodes: up — manager (host) at ${plan.bridgeAddress}, workers ${plan.workers.map((w) => `${w.netns}=${w.address}`).join(', ')}; state ${statePath}\n`,
  );
  return 0;
}

function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    throw new LabError('LAB_ERR_CONFIG', 'nodes: network namespaces, bridges and dockerd need root (uid 0)', {
      value: process.getuid(),
    });
}

/** The producer image as docker-compose.yml resolves it (`${PUSHPULL_PRODUCER_IMAGE:-pushpull/producer:0.1.0}`). */
export function producerImage(env: NodeJS.ProcessEnv): string {
  return env.PUSHPULL_PRODUCER_IMAGE || 'pushpull/producer:0.1.0';
}
