import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type ComponentResources,
  type EnforcedBy,
  RESOURCE_COMPONENTS,
  type ResourceComponent,
  type ResourceCounters,
  type ResourcePlan,
} from '../../core/resources.ts';
import {
  CFS_PERIOD_US,
  type CgroupLayout,
  componentDir,
  detectLayout,
  keyValues,
  RUN_GROUP_PREFIX,
  runDirs,
  V1_CONTROLLERS,
  type V1Controller,
} from './layout.ts';

// The process runtime's budgets: one cgroup per component under the lab's own group, named by run id
// (layout.ts). Created with their limits before any process joins (v1: cpuset.cpus and cpuset.mems first);
// a pid joins its component's group at spawn; the stats are read every probe second; everything is removed
// on down(), exit, Ctrl-C and failure, and the reaper removes what a crashed run left. Synchronous on
// purpose: removal runs from exit handlers. Without permission nothing throws: the components are
// `unenforced`, with the reason.

/** One component's cumulative counters (null = the file is absent on this kernel). */
export type CgroupStats = ResourceCounters;

export interface CgroupSources {
  mounts: string;
  selfCgroup: string;
}

function hostSources(): CgroupSources | null {
  try {
    return {
      mounts: readFileSync('/proc/self/mounts', 'utf8'),
      selfCgroup: readFileSync('/proc/self/cgroup', 'utf8'),
    };
  } catch {
    return null;
  }
}

const read = (p: string): string | null => {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return null;
  }
};
const num = (s: string | null): number | null => {
  if (s === null || s === '' || s === 'max') return null;
  const n = Number(s.split(/\s+/)[0]);
  return Number.isFinite(n) ? n : null;
};

/** The run group's CPU weight: about eight processes' worth (v1 cpu.shares default 1024, v2 cpu.weight 100). */
const RUN_SHARES_V1 = 8 * 1024;
const RUN_WEIGHT_V2 = 8 * 100;

/** v1's "no limit" reads back as a huge page-aligned number. */
const V1_UNLIMITED = 2 ** 62;

export class CgroupManager {
  readonly enforcedBy: Record<ResourceComponent, EnforcedBy>;
  readonly notes: Partial<Record<ResourceComponent, string>> = {};
  private readonly created: string[] = [];
  private labMoved = false;

  private constructor(
    readonly runId: string,
    private readonly layout: CgroupLayout | null,
    readonly plan: ResourcePlan,
  ) {
    this.enforcedBy = Object.fromEntries(RESOURCE_COMPONENTS.map((c) => [c, 'unenforced'])) as Record<
      ResourceComponent,
      EnforcedBy
    >;
  }

  /** Creates every component's group with its limits. Never throws: what failed is `unenforced`, noted. */
  static open(
    runId: string,
    plan: ResourcePlan,
    sources: CgroupSources | null = hostSources(),
  ): CgroupManager {
    const layout = sources ? detectLayout(sources.mounts, sources.selfCgroup) : null;
    const m = new CgroupManager(runId, layout, plan);
    if (!layout) {
      for (const c of RESOURCE_COMPONENTS) m.notes[c] = 'no cgroup v1 or v2 hierarchy found';
      return m;
    }
    try {
      for (const d of runDirs(layout, runId)) m.mkdir(d);
      if (layout.version === 2) m.enableV2(dirname(runDirs(layout, runId)[0]!), runDirs(layout, runId)[0]!);
      m.weighRunGroup();
    } catch (e) {
      for (const c of RESOURCE_COMPONENTS)
        m.notes[c] = `cannot create the run's cgroup: ${(e as Error).message}`;
      m.remove();
      return m;
    }
    for (const c of RESOURCE_COMPONENTS) {
      try {
        m.createComponent(c, plan[c]);
        m.enforcedBy[c] = layout.version === 1 ? 'cgroup-v1' : 'cgroup-v2';
      } catch (e) {
        m.notes[c] = `cannot set its cgroup limits: ${(e as Error).message}`;
      }
    }
    return m;
  }

  get version(): 1 | 2 | null {
    return this.layout?.version ?? null;
  }

  private mkdir(d: string): void {
    if (!existsSync(d)) {
      mkdirSync(d);
      this.created.push(d);
    }
  }

  /**
   * A group competes with its siblings as ONE entity of the default weight: the whole stack under one group
   * would get the share of a single process against every other process on a busy machine (seen 2026-12-07:
   * the producers got 0.2 cores at load average 15). The run's group gets the weight of the processes it
   * holds (about eight), so the quotas, not the grouping, decide what each component gets.
   */
  private weighRunGroup(): void {
    const layout = this.layout!;
    if (layout.version === 2)
      writeFileSync(join(runDirs(layout, this.runId)[0]!, 'cpu.weight'), String(RUN_WEIGHT_V2));
    else writeFileSync(join(dirname(this.dir('lab', 'cpu')), 'cpu.shares'), String(RUN_SHARES_V1));
  }

  /** v2: controllers must be enabled in every parent's subtree_control before a child can use them. */
  private enableV2(own: string, run: string): void {
    for (const d of [own, run]) writeFileSync(join(d, 'cgroup.subtree_control'), '+cpu +cpuset +memory');
  }

  private dir(c: ResourceComponent, controller: V1Controller = 'cpu'): string {
    return componentDir(this.layout!, this.runId, c, controller);
  }

  private createComponent(c: ResourceComponent, r: ComponentResources): void {
    const layout = this.layout!;
    if (layout.version === 2) {
      const d = this.dir(c);
      this.mkdir(d);
      if (r.cpuset !== null) writeFileSync(join(d, 'cpuset.cpus'), r.cpuset);
      if (r.cpus !== null)
        writeFileSync(join(d, 'cpu.max'), `${Math.round(r.cpus * CFS_PERIOD_US)} ${CFS_PERIOD_US}`);
      if (r.memoryBytes !== null) writeFileSync(join(d, 'memory.max'), String(r.memoryBytes));
      return;
    }
    for (const ctl of V1_CONTROLLERS) this.mkdir(this.dir(c, ctl));
    // cpuset: a v1 group has empty cpus and mems until set, and refuses processes until then.
    const cs = this.dir(c, 'cpuset');
    const runCs = dirname(cs);
    const parentCs = dirname(runCs);
    for (const f of ['cpuset.mems', 'cpuset.cpus']) {
      const fromParent = read(join(parentCs, f)) ?? '0';
      if (!read(join(runCs, f))) writeFileSync(join(runCs, f), fromParent);
    }
    writeFileSync(join(cs, 'cpuset.mems'), read(join(runCs, 'cpuset.mems')) ?? '0');
    writeFileSync(join(cs, 'cpuset.cpus'), r.cpuset ?? read(join(runCs, 'cpuset.cpus')) ?? '0');
    const cpu = this.dir(c, 'cpu');
    writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
    writeFileSync(
      join(cpu, 'cpu.cfs_quota_us'),
      r.cpus === null ? '-1' : String(Math.round(r.cpus * CFS_PERIOD_US)),
    );
    if (r.memoryBytes !== null)
      writeFileSync(join(this.dir(c, 'memory'), 'memory.limit_in_bytes'), String(r.memoryBytes));
  }

  /** Puts a process into its component's group (every controller). False (and noted) when it could not. */
  add(c: ResourceComponent, pid: number): boolean {
    if (!this.layout || this.enforcedBy[c] === 'unenforced') return false;
    try {
      const dirs =
        this.layout.version === 2 ? [this.dir(c)] : [...new Set(V1_CONTROLLERS.map((x) => this.dir(c, x)))];
      for (const d of dirs) writeFileSync(join(d, 'cgroup.procs'), String(pid));
      if (c === 'lab' && pid === process.pid) this.labMoved = true;
      return true;
    } catch (e) {
      this.enforcedBy[c] = 'unenforced';
      this.notes[c] = `cannot add pid ${pid} to its cgroup: ${(e as Error).message}`;
      return false;
    }
  }

  /** Cumulative counters of every enforced component. */
  stats(): Partial<Record<ResourceComponent, CgroupStats>> {
    const out: Partial<Record<ResourceComponent, CgroupStats>> = {};
    if (!this.layout) return out;
    for (const c of RESOURCE_COMPONENTS)
      if (this.enforcedBy[c] !== 'unenforced')
        out[c] = this.layout.version === 2 ? this.statsV2(c) : this.statsV1(c);
    return out;
  }

  private statsV1(c: ResourceComponent): CgroupStats {
    return statsV1At(this.dir(c, 'cpu'), this.dir(c, 'cpuacct'), this.dir(c, 'memory'));
  }

  private statsV2(c: ResourceComponent): CgroupStats {
    return statsV2At(this.dir(c));
  }

  /**
   * Removes the run's groups (the lab's own process moved back first). Groups that still hold a process
   * stay (the kernel refuses): they are returned, and the reaper takes them later.
   */
  remove(): string[] {
    if (this.labMoved && this.layout) {
      const own =
        this.layout.version === 2 ? [this.layout.own] : [...new Set(Object.values(this.layout.own))];
      for (const d of own) {
        try {
          writeFileSync(join(d, 'cgroup.procs'), String(process.pid));
        } catch {
          // best effort: the group then stays, and the reaper removes it once the lab has exited
        }
      }
      this.labMoved = false;
    }
    const left: string[] = [];
    for (const d of [...this.created].reverse()) {
      try {
        if (existsSync(d)) rmdirSync(d);
      } catch {
        left.push(d);
      }
    }
    this.created.length = 0;
    this.created.push(...left.reverse());
    return left;
  }

  /**
   * remove(), retried for a bounded while: a child that was just killed leaves its group only once the
   * kernel has finished with it. What is still left after that is for the reaper.
   */
  async removeSettled(timeoutMs = 3000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let left = this.remove();
    for (let i = 0; i < 100 && left.length > 0 && Date.now() < deadline; i++) {
      await new Promise((r) => setTimeout(r, 50));
      left = this.remove();
    }
    return left;
  }
}

/** A v1 group's counters from its cpu, cpuacct and memory dirs. */
export function statsV1At(cpuDir: string, cpuacctDir: string, memDir: string): CgroupStats {
  const cpu = keyValues(read(join(cpuDir, 'cpu.stat')) ?? '');
  const usage = num(read(join(cpuacctDir, 'cpuacct.usage')));
  const limit = num(read(join(memDir, 'memory.limit_in_bytes')));
  return {
    cpuSeconds: usage === null ? null : usage / 1e9,
    nrPeriods: cpu.nr_periods ?? null,
    nrThrottled: cpu.nr_throttled ?? null,
    memoryBytes: num(read(join(memDir, 'memory.usage_in_bytes'))),
    memoryPeakBytes: num(read(join(memDir, 'memory.max_usage_in_bytes'))),
    memoryLimitBytes: limit !== null && limit < V1_UNLIMITED ? limit : null,
    oomKills: keyValues(read(join(memDir, 'memory.oom_control')) ?? '').oom_kill ?? null,
  };
}

/** A v2 group's counters. */
export function statsV2At(d: string): CgroupStats {
  const cpu = keyValues(read(join(d, 'cpu.stat')) ?? '');
  return {
    cpuSeconds: cpu.usage_usec === undefined ? null : cpu.usage_usec / 1e6,
    nrPeriods: cpu.nr_periods ?? null,
    nrThrottled: cpu.nr_throttled ?? null,
    memoryBytes: num(read(join(d, 'memory.current'))),
    memoryPeakBytes: num(read(join(d, 'memory.peak'))),
    memoryLimitBytes: num(read(join(d, 'memory.max'))),
    oomKills: keyValues(read(join(d, 'memory.events')) ?? '').oom_kill ?? null,
  };
}

/** The counters of the group a process is in (a container's main pid): null when unreadable. */
export function statsOfPid(pid: number): CgroupStats | null {
  let self: string;
  let mounts: string;
  try {
    self = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    mounts = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return null;
  }
  const l = detectLayout(mounts, self);
  if (!l) return null;
  return l.version === 2 ? statsV2At(l.own) : statsV1At(l.own.cpu, l.own.cpuacct, l.own.memory);
}

/** Sums counters of several groups (a component of several containers); null fields stay null. */
export function sumStats(xs: readonly CgroupStats[]): CgroupStats | null {
  if (xs.length === 0) return null;
  const add = (k: keyof CgroupStats) =>
    xs.every((x) => x[k] === null) ? null : xs.reduce((a, x) => a + (x[k] ?? 0), 0);
  return {
    cpuSeconds: add('cpuSeconds'),
    nrPeriods: add('nrPeriods'),
    nrThrottled: add('nrThrottled'),
    memoryBytes: add('memoryBytes'),
    memoryPeakBytes: add('memoryPeakBytes'),
    memoryLimitBytes: add('memoryLimitBytes'),
    oomKills: add('oomKills'),
  };
}

/**
 * Removes the groups of earlier runs (any `pushpull-lab-<runId>` under the lab's own groups; only `onlyRunId`
 * when given) whose run id is not in `keepRunIds`. A run any of whose groups still holds a process is left
 * whole (a live run, or one whose processes the process reaper has not killed yet). Returns what was removed.
 */
export function reapCgroups(
  keepRunIds: readonly string[],
  sources: CgroupSources | null = hostSources(),
  onlyRunId?: string,
): string[] {
  const layout = sources ? detectLayout(sources.mounts, sources.selfCgroup) : null;
  if (!layout) return [];
  const bases = layout.version === 2 ? [layout.own] : [...new Set(Object.values(layout.own))];
  const removed: string[] = [];
  for (const base of bases) {
    for (const n of runGroupsUnder(base)) {
      const id = n.slice(RUN_GROUP_PREFIX.length);
      if (keepRunIds.includes(id) || (onlyRunId !== undefined && id !== onlyRunId)) continue;
      if (bases.some((b) => holdsProcesses(join(b, n)))) continue;
      const run = join(base, n);
      try {
        for (const child of readdirSync(run, { withFileTypes: true }))
          if (child.isDirectory()) rmdirSync(join(run, child.name));
        rmdirSync(run);
        removed.push(run);
      } catch {
        // still in use or not ours to remove: left alone
      }
    }
  }
  return removed;
}

function runGroupsUnder(base: string): string[] {
  try {
    return readdirSync(base).filter((n) => n.startsWith(RUN_GROUP_PREFIX));
  } catch {
    return [];
  }
}

/** Does any component group of this run dir hold a process? */
function holdsProcesses(run: string): boolean {
  try {
    return readdirSync(run, { withFileTypes: true }).some(
      (d) => d.isDirectory() && (read(join(run, d.name, 'cgroup.procs')) ?? '') !== '',
    );
  } catch {
    return false;
  }
}

/** The run's groups that exist right now (for tests and `status`). */
export function runGroupsPresent(runId: string, sources: CgroupSources | null = hostSources()): string[] {
  const layout = sources ? detectLayout(sources.mounts, sources.selfCgroup) : null;
  return layout ? runDirs(layout, runId).filter((d) => existsSync(d)) : [];
}
