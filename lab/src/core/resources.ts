import { LabError } from '@pushpull/common';

// Resources (CPU and memory) as the lab's vocabulary: the components that get a budget, the plan
// (`--cpus`, `--cpuset`, `--memory`), the default plan for a host, the checks that refuse a plan the
// machine cannot give, and the record's `resources.<component>` (DESIGN.md "Budgets make an answer
// transfer"). Pure: the host's cores and memory are parameters. Distinct from the series budget
// (`--series-budget`) and from capacity's time budget (`--budget`).

export * from './resource-plan.ts';

import {
  type ComponentResources,
  type HostResources,
  RESOURCE_COMPONENTS,
  type ResourceComponent,
  type ResourcePlan,
  type StoreMode,
} from './resource-plan.ts';

/** Who enforced a component's budget (or that nobody did). */
export type EnforcedBy = 'cgroup-v1' | 'cgroup-v2' | 'docker' | 'swarm' | 'unenforced';

/** run@3: `resources.<component>` in run.json — the plan, who enforced it, and what was used against it. */
export interface ResourceRecord {
  cpus: number | null;
  cpuset: string | null;
  /** Memory limit in bytes (null = none). */
  memory: number | null;
  enforcedBy: EnforcedBy;
  /** Why it is unenforced, or which part is (swarm: no cpuset). */
  note?: string;
  /** Cores used, per second, over the run (null = not measured). */
  cpuUsedP50: number | null;
  cpuUsedP99: number | null;
  /** Throttled CFS periods / all periods over the run (null = no quota or not measured). */
  throttledShare: number | null;
  memPeakBytes: number | null;
  oomKills: number | null;
}

/** One component's cumulative resource counters at one probe second (null = not readable here). */
export interface ResourceCounters {
  cpuSeconds: number | null;
  nrPeriods: number | null;
  nrThrottled: number | null;
  memoryBytes: number | null;
  memoryPeakBytes: number | null;
  memoryLimitBytes: number | null;
  oomKills: number | null;
}

/** Who enforces each component's budget on a running stack, and why not where it does not. */
export type Enforcement = Record<ResourceComponent, { enforcedBy: EnforcedBy; note?: string }>;

/** run@3: which resource was behind a loss cause or failure signal, and the knob that would move it. */
export interface ResourceCondition {
  /** cpu-budget, rcvbuf, scrape-targets, limit, unenforced, unmeasured, none */
  resource: string;
  /** The component whose resource it is. */
  component: string | null;
  /** One sentence: "the collector ran out of its 0.2-core CPU budget (throttled 64% of periods)". */
  text: string;
  /** What would move it: cores, receive buffer, scrape interval or jitter, the limit. */
  knob: string;
}

/** run@3: orders the profile scheduled against those the producers generated, per second. */
export interface GeneratorShortfall {
  scheduled: number;
  generated: number;
  /** 1 − generated / scheduled over the burst (0 when it kept up or ran ahead). */
  share: number;
  /**
   * 1 − generated / scheduled over the peak seconds only (those scheduled at ≥ 90% of the top rate). The whole
   * burst can hide a generator that fell behind at the open and caught up in the decay (2026-12-07, 90 pods:
   * share 0, peak 17% behind), and the peak is what the answer is about. Absent in older run@3 records.
   */
  peakShare?: number;
  /** Per second of the burst: [seconds after the open, scheduled, generated]. */
  perSecond: [number, number, number][];
}

/** The generator fell further behind than this: the headline says so first. */
export const SHORTFALL_HEADLINE_SHARE = 0.05;

/** The default `--throttled-share`: above it a component counts as out of its CPU budget. */
export const DEFAULT_THROTTLED_SHARE = 0.2;

const GiB = 2 ** 30;
const MiB = 2 ** 20;

const round2 = (x: number) => Math.round(x * 100) / 100;

export { defaultPlan } from './default-plan.ts';

import { defaultPlan } from './default-plan.ts';

/** A plan with no budget at all (`--cpus off --cpuset off --memory off`). */
export function emptyPlan(): ResourcePlan {
  const none = (): ComponentResources => ({ cpus: null, cpuset: null, memoryBytes: null });
  return Object.fromEntries(RESOURCE_COMPONENTS.map((c) => [c, none()])) as ResourcePlan;
}

function flagError(flag: string, value: string, why: string): LabError {
  return new LabError('LAB_ERR_FLAG_VALUE', `--${flag}: ${why}`, { flag, value });
}

/** `COMPONENT=VALUE,...` → pairs; an unknown component or a malformed pair is a usage error naming it. */
function pairs(flag: string, raw: string): [ResourceComponent, string][] {
  const out: [ResourceComponent, string][] = [];
  for (const part of raw.split(',')) {
    const m = /^\s*([a-z-]+)\s*=\s*(\S+)\s*$/.exec(part);
    if (!m)
      throw flagError(
        flag,
        part,
        `"${part}" is not COMPONENT=VALUE (components: ${RESOURCE_COMPONENTS.join(', ')})`,
      );
    if (!(RESOURCE_COMPONENTS as readonly string[]).includes(m[1]!))
      throw flagError(
        flag,
        m[1]!,
        `unknown component "${m[1]}" (components: ${RESOURCE_COMPONENTS.join(', ')})`,
      );
    out.push([m[1] as ResourceComponent, m[2]!]);
  }
  return out;
}

/** "0", "1-3", "0,2-3" → the sorted core numbers; null when malformed. */
export function parseCpuList(text: string): number[] | null {
  const cores = new Set<number>();
  for (const part of text.split(/[,;:]/)) {
    const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part.trim());
    if (!m) return null;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return null;
    for (let i = a; i <= b; i++) cores.add(i);
  }
  return [...cores].sort((x, y) => x - y);
}

const SIZE = /^(\d+(?:\.\d+)?)(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i;
const SIZE_UNIT: Record<string, number> = { b: 1, k: 1024, m: MiB, g: GiB };

/** "512MiB", "2g", "1073741824" → bytes; null when malformed. */
export function parseMemory(text: string): number | null {
  const m = SIZE.exec(text.trim());
  if (!m) return null;
  const unit = SIZE_UNIT[(m[2] ?? 'b')[0]!.toLowerCase()]!;
  const v = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(v) && v > 0 ? v : null;
}

export function formatBytes(n: number): string {
  if (n >= GiB && n % (GiB / 4) === 0) return `${n / GiB}GiB`;
  if (n >= MiB) return `${Math.round(n / MiB)}MiB`;
  return `${Math.round(n / 1024)}KiB`;
}

export interface ResourceFlags {
  cpus?: string | undefined;
  cpuset?: string | undefined;
  memory?: string | undefined;
}

/**
 * The plan from the flags over the host's default plan: `--cpus collector=0.2` changes only the collector's
 * quota; `--cpus off` (or `--cpuset off`, `--memory off`) drops that dimension for every component.
 * Validated against the host: a usage error names the offender.
 */
export function resolvePlan(
  flags: ResourceFlags,
  host: HostResources,
  store: StoreMode = 'per-path',
): ResourcePlan {
  const plan = defaultPlan(host, store);
  const apply = (
    flag: 'cpus' | 'cpuset' | 'memory',
    raw: string | undefined,
    set: (c: ComponentResources, v: string) => void,
    clear: (c: ComponentResources) => void,
  ) => {
    if (raw === undefined || raw.trim() === '' || raw.trim() === 'default') return;
    if (raw.trim() === 'off') {
      for (const c of RESOURCE_COMPONENTS) clear(plan[c]);
      return;
    }
    for (const [name, v] of pairs(flag, raw)) set(plan[name], v);
  };
  apply(
    'cpus',
    flags.cpus,
    (c, v) => {
      c.cpus = v === 'off' ? null : cpusValue(v, host);
    },
    (c) => {
      c.cpus = null;
    },
  );
  apply(
    'cpuset',
    flags.cpuset,
    (c, v) => {
      c.cpuset = v === 'off' ? null : cpusetValue(v, host);
    },
    (c) => {
      c.cpuset = null;
    },
  );
  apply(
    'memory',
    flags.memory,
    (c, v) => {
      c.memoryBytes = v === 'off' ? null : memoryValue(v);
    },
    (c) => {
      c.memoryBytes = null;
    },
  );
  checkPlan(plan, host);
  return plan;
}

function cpusValue(v: string, host: HostResources): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n >= 0.01))
    throw flagError('cpus', v, `"${v}" is not a number of cores ≥ 0.01 (e.g. 0.5)`);
  if (n > host.cores)
    throw flagError('cpus', v, `${v} cores oversubscribes this machine (${host.cores} cores)`);
  return n;
}

function cpusetValue(v: string, host: HostResources): string {
  const list = parseCpuList(v);
  if (!list) throw flagError('cpuset', v, `"${v}" is not a core list (e.g. 1, 0-1, 0,2)`);
  const bad = list.find((c) => c >= host.cores);
  if (bad !== undefined)
    throw flagError('cpuset', v, `core ${bad} does not exist on this machine (cores 0-${host.cores - 1})`);
  return v;
}

function memoryValue(v: string): number {
  const n = parseMemory(v);
  if (n === null || n < 4 * MiB)
    throw flagError('memory', v, `"${v}" is not a size of at least 4MiB (e.g. 512MiB, 2GiB)`);
  return n;
}

/**
 * Refuses a plan the machine cannot give: a quota above its cpuset's cores, cores promised twice over
 * (on every group of components confined to the same cores, and on the whole machine), or more memory
 * than the host has.
 */
export function checkPlan(plan: ResourcePlan, host: HostResources): void {
  const sets = new Map<string, { cores: number[]; members: ResourceComponent[] }>();
  let total = 0;
  for (const c of RESOURCE_COMPONENTS) {
    const r = plan[c];
    const cores = r.cpuset === null ? null : parseCpuList(r.cpuset)!;
    if (r.cpus !== null && cores && r.cpus > cores.length + 1e-9)
      throw flagError(
        'cpus',
        `${c}=${r.cpus}`,
        `${c}=${r.cpus} is more than its cpuset ${r.cpuset} holds (${cores.length} core${cores.length === 1 ? '' : 's'})`,
      );
    total += r.cpus ?? 0;
    if (cores && r.cpus !== null) {
      const key = cores.join(',');
      const e = sets.get(key) ?? { cores, members: [] };
      e.members.push(c);
      sets.set(key, e);
    }
  }
  for (const [key, e] of sets) {
    // Every component whose cores lie inside this set competes for them.
    const inside = RESOURCE_COMPONENTS.filter((c) => {
      const own = plan[c].cpuset === null ? null : parseCpuList(plan[c].cpuset!)!;
      return plan[c].cpus !== null && own?.every((x) => e.cores.includes(x)) === true;
    });
    const sum = inside.reduce((a, c) => a + (plan[c].cpus ?? 0), 0);
    if (sum > e.cores.length + 1e-6)
      throw flagError(
        'cpus',
        inside.map((c) => `${c}=${plan[c].cpus}`).join(','),
        `${inside.map((c) => `${c} ${plan[c].cpus}`).join(' + ')} = ${round2(sum)} cores oversubscribes cpuset ${key} (${e.cores.length} core${e.cores.length === 1 ? '' : 's'}); lower a quota or move a component with --cpuset`,
      );
  }
  if (total > host.cores + 1e-6)
    throw flagError(
      'cpus',
      String(round2(total)),
      `the quotas add up to ${round2(total)} cores, more than this machine's ${host.cores}`,
    );
  const mem = RESOURCE_COMPONENTS.reduce((a, c) => a + (plan[c].memoryBytes ?? 0), 0);
  if (mem > host.memoryBytes)
    throw flagError(
      'memory',
      formatBytes(mem),
      `the memory limits add up to ${formatBytes(mem)}, more than this machine's ${formatBytes(host.memoryBytes)}`,
    );
}

/** One line per component, for the start of a run, `-h` and the README. */
export function planLines(plan: ResourcePlan, store: StoreMode = 'per-path'): string[] {
  // With one shared store, push's own store has nothing to run: not a line of the plan.
  const runs = RESOURCE_COMPONENTS.filter((c) => c !== 'prometheus-push' || store === 'per-path');
  return runs.map((c) => `${c.padEnd(15)} ${componentText(plan[c])}`);
}

export function componentText(r: ComponentResources): string {
  const cpu = r.cpus === null ? 'no CPU quota' : `${r.cpus} cores`;
  const set = r.cpuset === null ? '' : ` on cpuset ${r.cpuset}`;
  const mem = r.memoryBytes === null ? ', no memory limit' : `, ${formatBytes(r.memoryBytes)}`;
  return `${cpu}${set}${mem}`;
}

/** True when the plan sets nothing at all. */
export function isEmptyPlan(plan: ResourcePlan): boolean {
  return RESOURCE_COMPONENTS.every((c) => {
    const r = plan[c];
    return r.cpus === null && r.cpuset === null && r.memoryBytes === null;
  });
}

/** The component a runtime's child belongs to: producer members → producers; base names as they are. */
export function componentOf(name: string): ResourceComponent | null {
  if ((RESOURCE_COMPONENTS as readonly string[]).includes(name)) return name as ResourceComponent;
  if (/^producer-\d+$/.test(name)) return 'producers';
  // #27: a host's collector agent is push's pipeline, as the central collector is (not the generator's).
  if (/^agent-\d+$/.test(name)) return 'collector';
  // #29: the pull agents are pull's pipeline: they share its store's budget (one group for the central store and them).
  if (/^prometheus-agent-\d+$/.test(name)) return 'prometheus';
  return null;
}
