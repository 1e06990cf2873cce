import { join } from 'node:path';

// Where the lab's cgroups live (pure: the texts of /proc/self/mounts and /proc/self/cgroup are parameters,
// so a fixture tree can stand in for /sys/fs/cgroup). v1: one mount per controller (cpu, cpuacct, cpuset,
// memory; possibly co-mounted as cpu,cpuacct); v2: one unified mount. The run's groups are created under
// the lab's own group in each hierarchy: <own>/pushpull-lab-<runId>/<component>.

export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

export type CgroupLayout =
  | {
      version: 1 /** The lab's own group per controller (absolute dirs). */;
      own: Record<V1Controller, string>;
    }
  | { version: 2 /** The lab's own group in the unified hierarchy (absolute dir). */; own: string };

/** The prefix of every run's group: the reaper finds leftovers by it. */
export const RUN_GROUP_PREFIX = 'pushpull-lab-';

export const runGroupName = (runId: string) => `${RUN_GROUP_PREFIX}${runId}`;

interface Mount {
  dir: string;
  type: string;
  options: string[];
}

function mountsOf(text: string): Mount[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 4)
    .map((f) => ({ dir: unescapeMount(f[1]!), type: f[2]!, options: f[3]!.split(',') }));
}

/** /proc/mounts escapes spaces and the like as octal (\040). */
const unescapeMount = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** hierarchy-id:controllers:path lines → controller → path ('' key = the v2 line "0::/path"). */
function selfPaths(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[2] === '') out.set('', m[3]!);
    for (const c of m[2]!.split(',')) if (c) out.set(c, m[3]!);
  }
  return out;
}

/** A mount dir joined with a group path, without a trailing slash for the root group. */
const under = (dir: string, p: string) => join(dir, p).replace(/(.)\/+$/, '$1');

/**
 * The layout on this host: v1 when the four controllers are mounted as v1 hierarchies (this machine: the v2
 * mount at /sys/fs/cgroup/unified holds no controllers); else v2 when a cgroup2 mount exists; else null.
 */
export function detectLayout(mountsText: string, selfCgroupText: string): CgroupLayout | null {
  const mounts = mountsOf(mountsText);
  const paths = selfPaths(selfCgroupText);
  const v1: Partial<Record<V1Controller, string>> = {};
  for (const c of V1_CONTROLLERS) {
    const m = mounts.find((x) => x.type === 'cgroup' && x.options.includes(c));
    const p = paths.get(c);
    if (m && p !== undefined) v1[c] = under(m.dir, p);
  }
  if (V1_CONTROLLERS.every((c) => v1[c] !== undefined))
    return { version: 1, own: v1 as Record<V1Controller, string> };
  const unified = mounts.find((x) => x.type === 'cgroup2');
  const p = paths.get('');
  if (unified && p !== undefined) return { version: 2, own: under(unified.dir, p) };
  return null;
}

/** The run's group dir(s): per controller on v1, one on v2. */
export function runDirs(layout: CgroupLayout, runId: string): string[] {
  const name = runGroupName(runId);
  if (layout.version === 2) return [join(layout.own, name)];
  // cpu and cpuacct may be one mount (cpu,cpuacct): the same dir once.
  return [...new Set(V1_CONTROLLERS.map((c) => join(layout.own[c], name)))];
}

/** One component's group in one controller (v1) or the unified hierarchy (v2). */
export function componentDir(
  layout: CgroupLayout,
  runId: string,
  component: string,
  controller: V1Controller = 'cpu',
): string {
  const base = layout.version === 2 ? layout.own : layout.own[controller];
  return join(base, runGroupName(runId), component);
}

/** The CFS period the lab uses; the quota is cpus × this. */
export const CFS_PERIOD_US = 100_000;

/** Parses "key value" lines (cpu.stat, memory.events, memory.stat) into numbers. */
export function keyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(-?\d+)$/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}
