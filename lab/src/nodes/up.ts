import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '@pushpull/common';
import { must, pipeImages, run } from './exec.ts';
import {
  DOCKER_DEFAULT_POOLS,
  daemonCommand,
  type NodesPlan,
  networkCommands,
  OBSERVER_ROLE,
  PRODUCER_ROLE,
  ROLE_LABEL,
  routeDestinations,
  subnetClashes,
  type WorkerPlan,
} from './plan.ts';
import { type NodesState, readNodesState, writeNodesState } from './state.ts';

// `nodes up`: check, then build the network, start a dockerd per namespace, make the host the manager,
// join the workers, load images, label. The state file is written before every step (see state.ts).

export interface UpOptions {
  statePath: string;
  images: string[];
  log: (s: string) => void;
}

interface HostSwarm {
  state: string;
  nodeAddr: string;
  nodeId: string;
}

async function hostSwarm(): Promise<HostSwarm> {
  const out = await must(['docker', 'info', '--format', '{{json .Swarm}}'], 15_000);
  const s = JSON.parse(out) as { LocalNodeState?: string; NodeAddr?: string; NodeID?: string };
  return { state: s.LocalNodeState ?? '', nodeAddr: s.NodeAddr ?? '', nodeId: s.NodeID ?? '' };
}

/** Subnets of the host engine's networks (the swarm's included). */
async function dockerSubnets(): Promise<string[]> {
  const ids = (await must(['docker', 'network', 'ls', '-q'], 15_000)).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const out = await must(
    ['docker', 'network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', ...ids],
    15_000,
  );
  return out.split(/\s+/).filter((s) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(s));
}

/** Everything that must hold before anything is touched; LAB_ERR_* with what to do otherwise. */
export async function preflight(plan: NodesPlan, statePath: string): Promise<void> {
  const earlier = readNodesState(statePath);
  if (earlier)
    throw new LabError(
      'LAB_ERR_CONFIG',
      `nodes from an earlier \`nodes up\` exist (${earlier.plan.workers.length} worker(s) on ${earlier.plan.subnet}, state ${statePath}): run \`pushpull-lab nodes down\` first`,
      { value: statePath },
    );
  const names = [plan.bridge, ...plan.workers.map((w) => w.vethHost)];
  for (const n of names)
    if ((await run(['ip', 'link', 'show', n], 5000)).code === 0)
      throw new LabError(
        'LAB_ERR_CONFIG',
        `interface ${n} already exists but no state file records it (${statePath}); remove it by hand (\`ip link del ${n}\`) if it is a leftover`,
        { value: n },
      );
  const netns = await run(['ip', 'netns', 'list'], 5000);
  for (const w of plan.workers)
    if (new RegExp(`^${w.netns}(\\s|$)`, 'm').test(netns.stdout))
      throw new LabError(
        'LAB_ERR_CONFIG',
        `network namespace ${w.netns} already exists (\`ip netns del ${w.netns}\` if a leftover)`,
        { value: w.netns },
      );
  const routes = routeDestinations(await must(['ip', '-4', 'route', 'show', 'table', 'all'], 5000));
  const clashes = subnetClashes(plan.subnet, routes, [...DOCKER_DEFAULT_POOLS, ...(await dockerSubnets())]);
  if (clashes.length > 0)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--subnet ${plan.subnet} clashes: ${clashes.join('; ')}; choose another with --subnet`,
      { value: plan.subnet },
    );
  const sw = await hostSwarm();
  if (sw.state === 'active' && sw.nodeAddr !== plan.bridgeAddress)
    throw new LabError(
      'LAB_ERR_SWARM',
      `the host's dockerd is already in a swarm advertising ${sw.nodeAddr}, which worker namespaces cannot reach; leave it (\`docker swarm leave --force\`, which removes its services) and run \`nodes up\` again — it will init a swarm advertising ${plan.bridgeAddress}`,
      { value: sw.nodeAddr },
    );
  if (sw.state !== 'active' && sw.state !== 'inactive')
    throw new LabError('LAB_ERR_SWARM', `the host's swarm is "${sw.state}"; wait or leave it first`, {
      value: sw.state,
    });
}

/** Starts the worker's dockerd (pid recorded before waiting) and waits until it answers (60 s). */
export async function startDaemon(w: WorkerPlan, state: NodesState, statePath: string): Promise<void> {
  mkdirSync(w.dataRoot, { recursive: true });
  mkdirSync(w.execRoot, { recursive: true });
  const logFd = openSync(join(w.dataRoot, '..', 'dockerd.log'), 'a');
  const argv = daemonCommand(w);
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  child.unref();
  if (child.pid === undefined)
    throw new LabError('LAB_ERR_CHILD_EXIT', `could not start dockerd for ${w.netns}`, { value: w.netns });
  state.pids[String(w.index)] = child.pid;
  writeNodesState(statePath, state);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await run(['docker', '-H', `unix://${w.socket}`, 'version'], 5000)).code === 0) return;
    if (child.exitCode !== null || !existsSync(`/proc/${child.pid}`)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new LabError(
    'LAB_ERR_TIMEOUT',
    `the dockerd of ${w.netns} did not answer on ${w.socket} within 60 s (log: ${join(w.dataRoot, '..', 'dockerd.log')})`,
    { value: w.socket },
  );
}

async function joinSwarm(plan: NodesPlan, state: NodesState, statePath: string, log: (s: string) => void) {
  const sw = await hostSwarm();
  let managerId = sw.nodeId;
  if (sw.state === 'inactive') {
    state.swarmInitiated = true;
    state.gwbridgeExisted =
      (await run(['docker', 'network', 'inspect', 'docker_gwbridge'], 15_000)).code === 0;
    writeNodesState(statePath, state);
    const a = plan.bridgeAddress;
    await must(['docker', 'swarm', 'init', '--advertise-addr', a, '--listen-addr', `${a}:2377`], 60_000);
    managerId = (await hostSwarm()).nodeId;
    log(`host: swarm manager advertising ${a}`);
  }
  state.observerLabelled = managerId;
  writeNodesState(statePath, state);
  await must(['docker', 'node', 'update', '--label-add', `${ROLE_LABEL}=${OBSERVER_ROLE}`, managerId]);
  const token = (await must(['docker', 'swarm', 'join-token', '-q', 'worker'])).trim();
  for (const w of plan.workers) {
    const dh = ['docker', '-H', `unix://${w.socket}`];
    await must(
      [...dh, 'swarm', 'join', '--token', token, '--advertise-addr', w.address, `${plan.bridgeAddress}:2377`],
      60_000,
    );
    const id = (await must([...dh, 'info', '--format', '{{.Swarm.NodeID}}'])).trim();
    state.nodeIds[String(w.index)] = id;
    writeNodesState(statePath, state);
    await must(['docker', 'node', 'update', '--label-add', `${ROLE_LABEL}=${PRODUCER_ROLE}`, id]);
    log(`${w.netns}: node ${id} at ${w.address}, ${ROLE_LABEL}=${PRODUCER_ROLE}`);
  }
}

/** Build everything; on failure the state file still records it all for `down`. */
export async function nodesUp(plan: NodesPlan, state: NodesState, opts: UpOptions): Promise<void> {
  writeNodesState(opts.statePath, state);
  for (const argv of networkCommands(plan)) await must(argv, 10_000);
  opts.log(`bridge ${plan.bridge} ${plan.bridgeAddress}/${plan.prefix}, ${plan.workers.length} namespace(s)`);
  for (const w of plan.workers) await startDaemon(w, state, opts.statePath);
  opts.log(`dockerd running in ${plan.workers.map((w) => w.netns).join(', ')}`);
  await joinSwarm(plan, state, opts.statePath, opts.log);
  if (opts.images.length > 0)
    for (const w of plan.workers) {
      await pipeImages(opts.images, w.socket);
      opts.log(`${w.netns}: loaded ${opts.images.join(', ')}`);
    }
}
