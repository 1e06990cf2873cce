import { join } from 'node:path';
import { LabError } from '@pushpull/common';

// `nodes up N`: the names, addresses, paths and commands of N swarm worker nodes made on this machine (a
// dockerd per network namespace, veths to one bridge on a project-owned subnet). Pure: the host steps in
// host.ts only run what this file plans, and `down` undoes exactly the plan recorded in the state file.

/** Default subnet: inside 198.18.0.0/15 (RFC 2544, benchmarking), outside Docker's pools. `--subnet` sets it. */
export const DEFAULT_SUBNET = '198.18.231.0/24';
/** The node label the workers get (the swarm runtime's placement reads `pushpull.role`). */
export const ROLE_LABEL = 'pushpull.role';
export const PRODUCER_ROLE = 'producer';
export const OBSERVER_ROLE = 'observer';
/** The comment on the one FORWARD rule `up` adds (so it is found exactly). */
export const RULE_COMMENT = 'pushpull-lab-nodes';
export const MAX_NODES = 8;
/** Where `nodes up` keeps data roots and its state file (nodes.json) unless --dir / LAB_NODES_DIR says. */
export const DEFAULT_NODES_DIR = '/var/lib/pushpull-lab/nodes';

/**
 * Address ranges Docker allocates from by default: local networks (172.17–31/16, 192.168/16 in /20s) and
 * swarm overlays (10.0.0.0/8). A project subnet inside one of them could collide with a later network.
 */
export const DOCKER_DEFAULT_POOLS = ['172.16.0.0/12', '192.168.0.0/16', '10.0.0.0/8'] as const;

export interface WorkerPlan {
  index: number;
  /** Network namespace (/run/netns/NAME). */
  netns: string;
  vethHost: string;
  vethNode: string;
  address: string;
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  socket: string;
  /** The node's own docker0 (inside its namespace). */
  bip: string;
}

export interface NodesPlan {
  subnet: string;
  prefix: number;
  bridge: string;
  bridgeAddress: string;
  /** `iptables` arguments after -I/-C/-D FORWARD. */
  rule: string[];
  dir: string;
  runDir: string;
  workers: WorkerPlan[];
}

interface Cidr {
  base: number;
  prefix: number;
}

/** "198.18.231.0/24" → base and prefix; LAB_ERR_FLAG_VALUE for anything else. */
export function parseCidr(s: string, what = '--subnet'): Cidr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s.trim());
  const parts = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : -1;
  if (!m || parts.some((p) => p > 255) || prefix > 32)
    throw new LabError('LAB_ERR_FLAG_VALUE', `${what} "${s}" is not an IPv4 CIDR like ${DEFAULT_SUBNET}`, {
      value: s,
    });
  const ip = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (ip & mask) >>> 0, prefix };
}

const ipText = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** Do two CIDRs share any address? Pure. */
export function overlaps(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  const p = Math.min(x.prefix, y.prefix);
  const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
  return (x.base & mask) >>> 0 === (y.base & mask) >>> 0;
}

/** Destinations of `ip -4 route show table all` output (the default route is not a clash). Pure. */
export function routeDestinations(ipRouteOutput: string): string[] {
  const out: string[] = [];
  for (const line of ipRouteOutput.split('\n')) {
    const words = line.trim().split(/\s+/);
    // "local 127.0.0.1 dev lo table local …", "broadcast …": the destination follows the route type.
    const dest = /^(local|broadcast|unicast|unreachable|blackhole|prohibit)$/.test(words[0] ?? '')
      ? words[1]
      : words[0];
    if (!dest || dest === 'default') continue;
    const cidr = dest.includes('/') ? dest : `${dest}/32`;
    if (/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(cidr)) out.push(cidr);
  }
  return out;
}

/** Every clash of the subnet with a route or a Docker pool/network, one sentence each. Pure. */
export function subnetClashes(
  subnet: string,
  routes: readonly string[],
  dockerRanges: readonly string[],
): string[] {
  const out: string[] = [];
  for (const r of routes) if (overlaps(subnet, r)) out.push(`a route to ${r} exists`);
  for (const d of dockerRanges)
    if (overlaps(subnet, d)) out.push(`Docker's address pool or network ${d} covers it`);
  return out;
}

/** The whole plan for N workers. LAB_ERR_FLAG_VALUE for N outside 1..MAX_NODES or a subnet too small. */
export function planNodes(n: number, subnet: string, dir: string, runDir: string): NodesPlan {
  if (!Number.isInteger(n) || n < 1 || n > MAX_NODES)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `nodes up: N must be a whole number from 1 to ${MAX_NODES} (worker nodes besides the host's manager), got "${n}"`,
      { value: n },
    );
  const { base, prefix } = parseCidr(subnet);
  if (prefix > 27 || prefix < 16)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--subnet "${subnet}": use a /16 to /27 (the bridge takes .1, node i takes .${10}+i)`,
      { value: subnet },
    );
  const canon = `${ipText(base)}/${prefix}`;
  const bridge = 'pplbr0';
  const workers: WorkerPlan[] = [];
  for (let i = 1; i <= n; i++) {
    const exec = join(runDir, `n${i}`);
    workers.push({
      index: i,
      netns: `pushpull-n${i}`,
      vethHost: `pplv${i}`,
      vethNode: `pplv${i}n`,
      address: ipText(base + 10 + i),
      dataRoot: join(dir, `n${i}`, 'data'),
      execRoot: exec,
      pidfile: `${exec}.pid`,
      socket: `${exec}.sock`,
      bip: `10.232.${i}.1/24`,
    });
  }
  return {
    subnet: canon,
    prefix,
    bridge,
    bridgeAddress: ipText(base + 1),
    rule: ['-i', bridge, '-o', bridge, '-m', 'comment', '--comment', RULE_COMMENT, '-j', 'ACCEPT'],
    dir,
    runDir,
    workers,
  };
}

/** The host commands that build the bridge, the rule and each namespace (argv arrays, in order). Pure. */
export function networkCommands(plan: NodesPlan): string[][] {
  const { bridge } = plan;
  const cmds: string[][] = [
    ['ip', 'link', 'add', bridge, 'type', 'bridge'],
    ['ip', 'addr', 'add', `${plan.bridgeAddress}/${plan.prefix}`, 'dev', bridge],
    ['ip', 'link', 'set', bridge, 'up'],
    ['iptables', '-I', 'FORWARD', '1', ...plan.rule],
  ];
  for (const w of plan.workers)
    cmds.push(
      ['ip', 'netns', 'add', w.netns],
      ['ip', 'link', 'add', w.vethHost, 'type', 'veth', 'peer', 'name', w.vethNode],
      ['ip', 'link', 'set', w.vethHost, 'master', bridge],
      ['ip', 'link', 'set', w.vethHost, 'up'],
      ['ip', 'link', 'set', w.vethNode, 'netns', w.netns],
      ['ip', '-n', w.netns, 'addr', 'add', `${w.address}/${plan.prefix}`, 'dev', w.vethNode],
      ['ip', '-n', w.netns, 'link', 'set', w.vethNode, 'up'],
      ['ip', '-n', w.netns, 'link', 'set', 'lo', 'up'],
    );
  return cmds;
}

/** The worker's dockerd, started inside its namespace with nsenter (not `ip netns exec`: see DESIGN.md). */
export function daemonCommand(w: WorkerPlan): string[] {
  return [
    'nsenter',
    `--net=/run/netns/${w.netns}`,
    'dockerd',
    '--data-root',
    w.dataRoot,
    '--exec-root',
    w.execRoot,
    '--pidfile',
    w.pidfile,
    '-H',
    `unix://${w.socket}`,
    '--bip',
    w.bip,
    '--storage-driver',
    'overlay2',
  ];
}
