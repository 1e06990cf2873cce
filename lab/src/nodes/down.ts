import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { run } from './exec.ts';
import { ROLE_LABEL } from './plan.ts';
import { type NodesState, removeNodesState } from './state.ts';

// `nodes down`: remove exactly what the state file records, each step tolerating "already gone", so it is
// idempotent and works after a crash or `kill -9` of `up` half-way. Only the recorded names are touched.

/** Pids whose /proc/PID/<file> text (`cmdline`, `cgroup`) `match` accepts; vanished processes are skipped. */
export function pidsWhere(file: string, match: (text: string) => boolean, procDir = '/proc'): number[] {
  const out: number[] = [];
  for (const d of readdirSync(procDir)) {
    if (!/^\d+$/.test(d)) continue;
    let text = '';
    try {
      text = readFileSync(`${procDir}/${d}/${file}`, 'utf8');
    } catch {
      continue;
    }
    if (match(text)) out.push(Number(d));
  }
  return out;
}

/** Pids whose command line names this exec root (the node's dockerd, its containerd and shims). */
export function pidsUsing(execRoot: string, procDir = '/proc'): number[] {
  return pidsWhere(
    'cmdline',
    (cmd) =>
      cmd
        .split('\0')
        .some(
          (a) =>
            a === execRoot ||
            a.startsWith(`${execRoot}/`) ||
            a.endsWith(`=${execRoot}`) ||
            a === `unix://${execRoot}.sock`,
        ),
    procDir,
  );
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);

async function stopPids(pids: number[]): Promise<number> {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && pids.some(alive)) await new Promise((r) => setTimeout(r, 250));
  for (const p of pids.filter(alive)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return pids.length;
}

/** Mount points at or under one of the roots, deepest first (from /proc/self/mountinfo). */
export function mountsUnder(mountinfo: string, roots: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const mp = line.split(' ')[4];
    if (mp && roots.some((r) => mp === r || mp.startsWith(`${r}/`))) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

/**
 * Ids of swarm-run proxies (plain containers on the host's engine, component \`proxy\`) whose lab died on this
 * host (\`docker ps\` lines "ID OWNER_PID HOST"): a lab killed -9 mid-run leaves its proxy; the swarm \`down\`
 * is about to remove takes that run's services and overlay with it, so the proxy goes too. Pure.
 */
export function deadLabProxies(psLines: string, alive: (pid: number) => boolean, host: string): string[] {
  const out: string[] = [];
  for (const line of psLines.split('\n')) {
    const [id, owner, h] = line.trim().split(/\s+/);
    const pid = Number(owner);
    if (id && Number.isInteger(pid) && pid > 0 && h === host && !alive(pid)) out.push(id);
  }
  return out;
}

async function removeDeadProxies(log: (s: string) => void): Promise<void> {
  const ps = await run(
    [
      ...['docker', 'ps', '-a', '--filter', 'label=pushpull.component=proxy'],
      ...['--format', '{{.ID}} {{.Label "pushpull.lab.owner"}} {{.Label "pushpull.lab.host"}}'],
    ],
    15_000,
  );
  const ids = deadLabProxies(ps.stdout, alive, hostname());
  if (ids.length === 0) return;
  await run(['docker', 'rm', '-f', ...ids], 30_000);
  log(`host: removed ${ids.length} proxy container(s) of lab runs that died on this swarm`);
}

async function leaveSwarm(state: NodesState, log: (s: string) => void): Promise<void> {
  const info = await run(
    ['docker', 'info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.NodeAddr}}'],
    15_000,
  );
  const [swState, addr] = info.stdout.trim().split(' ');
  if (swState !== 'active') return;
  if (state.swarmInitiated && addr === state.plan.bridgeAddress) {
    await removeDeadProxies(log);
    await run(['docker', 'swarm', 'leave', '--force'], 60_000);
    log(`host: left the swarm \`nodes up\` created`);
    return;
  }
  for (const id of Object.values(state.nodeIds)) await run(['docker', 'node', 'rm', '--force', id], 20_000);
  if (state.observerLabelled)
    await run(['docker', 'node', 'update', '--label-rm', ROLE_LABEL, state.observerLabelled], 20_000);
}

/** The swarm's gateway bridge on the host (made by the first task, kept by `swarm leave`), if `up` caused it. */
async function removeGwbridge(state: NodesState): Promise<void> {
  if (!state.swarmInitiated || state.gwbridgeExisted !== false) return;
  const sw = await run(['docker', 'info', '--format', '{{.Swarm.LocalNodeState}}'], 15_000);
  if (sw.stdout.trim() !== 'inactive') return;
  if ((await run(['docker', 'network', 'inspect', 'docker_gwbridge'], 15_000)).code === 0)
    await run(['docker', 'network', 'rm', 'docker_gwbridge'], 30_000);
}

async function stopWorkers(state: NodesState, log: (s: string) => void): Promise<void> {
  for (const w of state.plan.workers) {
    const dh = ['docker', '-H', `unix://${w.socket}`];
    if ((await run([...dh, 'version'], 5000)).code === 0)
      await run([...dh, 'swarm', 'leave', '--force'], 20_000);
    const recorded = state.pids[String(w.index)];
    const pids = new Set(pidsUsing(w.execRoot));
    if (recorded && alive(recorded) && pidsUsing(w.execRoot).includes(recorded)) pids.add(recorded);
    const n = await stopPids([...pids]);
    if (n > 0) log(`${w.netns}: stopped ${n} process(es) (dockerd, containerd, shims)`);
    const mounts = mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), [w.dataRoot, w.execRoot]);
    for (const m of mounts) await run(['umount', '-l', m], 10_000);
  }
}

async function removeNetwork(state: NodesState): Promise<void> {
  const { plan } = state;
  for (const w of plan.workers) {
    await run(['ip', 'netns', 'del', w.netns], 10_000);
    if ((await run(['ip', 'link', 'show', w.vethHost], 5000)).code === 0)
      await run(['ip', 'link', 'del', w.vethHost], 10_000);
  }
  for (let i = 0; i < 10; i++) {
    if ((await run(['iptables', '-C', 'FORWARD', ...plan.rule], 5000)).code !== 0) break;
    await run(['iptables', '-D', 'FORWARD', ...plan.rule], 5000);
  }
  if ((await run(['ip', 'link', 'show', plan.bridge], 5000)).code === 0)
    await run(['ip', 'link', 'del', plan.bridge], 10_000);
}

/** Undo everything recorded; then delete the state file. */
export async function nodesDown(
  state: NodesState,
  statePath: string,
  log: (s: string) => void,
): Promise<void> {
  await leaveSwarm(state, log);
  await removeGwbridge(state);
  await stopWorkers(state, log);
  await removeNetwork(state);
  log(
    `removed ${state.plan.workers.map((w) => w.netns).join(', ')}, ${state.plan.bridge} and its FORWARD rule`,
  );
  for (const w of state.plan.workers) {
    rmSync(dirname(w.dataRoot), { recursive: true, force: true });
    rmSync(w.execRoot, { recursive: true, force: true });
    rmSync(w.pidfile, { force: true });
    rmSync(w.socket, { force: true });
  }
  removeNodesState(statePath);
  for (const d of [state.plan.dir, state.plan.runDir]) {
    try {
      rmdirSync(d);
    } catch {
      // not empty (something not ours) or already gone: left alone
    }
  }
}
