import { LabError } from '@pushpull/common';
import {
  type ComponentResources,
  type Enforcement,
  formatBytes,
  RESOURCE_COMPONENTS,
  type ResourceComponent,
  type ResourcePlan,
} from '../core/resources.ts';

// The plan rendered for the engine runtimes (pure): docker's HostConfig (NanoCpus, CpusetCpus, Memory), swarm's
// TaskTemplate.Resources.Limits (NanoCPUs, MemoryBytes; swarm has no cpuset), and who enforces what.

/** The compose service name → the budgeted component (the `producer` service → producers). */
export function componentOfService(service: string): ResourceComponent | null {
  if (service === 'producer') return 'producers';
  return (RESOURCE_COMPONENTS as readonly string[]).includes(service) ? (service as ResourceComponent) : null;
}

/** One of `n` containers that share a component's budget (the producers): an equal share each. */
export function shareOf(r: ComponentResources, n: number): ComponentResources {
  const k = Math.max(1, n);
  return {
    cpus: r.cpus === null ? null : Math.max(0.01, Math.round((r.cpus / k) * 1000) / 1000),
    cpuset: r.cpuset,
    memoryBytes: r.memoryBytes === null ? null : Math.max(6 * 2 ** 20, Math.floor(r.memoryBytes / k)),
  };
}

/**
 * The CPU of a producers' budget in proportion to the pods each container hosts (memory stays an equal share).
 * Why: the last producer holds the remainder (60 pods at 50 per producer = 50 + 10), and an equal CPU split
 * starved the 50-pod container at 0.4 core while the 10-pod one idled — the default burst of 2026-12-07 23:30
 * fell 23% behind its profile with the producers' budget 65% used. Shares sum to the budget.
 */
export function podShareOf(r: ComponentResources, pods: readonly number[], i: number): ComponentResources {
  const total = pods.reduce((a, b) => a + b, 0);
  const even = shareOf(r, pods.length);
  if (r.cpus === null || total <= 0) return even;
  const cpus = Math.max(0.01, Math.floor((r.cpus * (pods[i] ?? 0) * 1000) / total) / 1000);
  return { ...even, cpus };
}

export function dockerHostLimits(r: ComponentResources | null): {
  NanoCpus?: number;
  CpusetCpus?: string;
  Memory?: number;
} {
  if (!r) return {};
  return {
    ...(r.cpus !== null ? { NanoCpus: Math.round(r.cpus * 1e9) } : {}),
    ...(r.cpuset !== null ? { CpusetCpus: r.cpuset } : {}),
    ...(r.memoryBytes !== null ? { Memory: r.memoryBytes } : {}),
  };
}

export function swarmLimits(r: ComponentResources | null): { NanoCPUs?: number; MemoryBytes?: number } {
  if (!r) return {};
  return {
    ...(r.cpus !== null ? { NanoCPUs: Math.round(r.cpus * 1e9) } : {}),
    ...(r.memoryBytes !== null ? { MemoryBytes: r.memoryBytes } : {}),
  };
}

/** Who enforces each budget on an engine runtime: the engine, except the lab (a host process) and swarm's cpuset. */
export function engineEnforcement(kind: 'docker' | 'swarm', plan: ResourcePlan | null): Enforcement {
  const out = {} as Enforcement;
  for (const c of RESOURCE_COMPONENTS) {
    const r = plan?.[c];
    if (!r || (r.cpus === null && r.cpuset === null && r.memoryBytes === null))
      out[c] = { enforcedBy: 'unenforced', note: 'no budget in the plan' };
    else if (c === 'lab')
      out[c] = { enforcedBy: 'unenforced', note: `the lab runs on the host, outside the ${kind} engine` };
    else if (kind === 'swarm' && r.cpuset !== null)
      out[c] = {
        enforcedBy: 'swarm',
        note: `cpuset ${r.cpuset} unenforced (swarm has no cpuset); cores and memory enforced`,
      };
    else out[c] = { enforcedBy: kind };
  }
  return out;
}

/**
 * Refuses, before deploying, a budget no swarm node can hold (its task would pend forever): a component's
 * cores or memory above the largest usable node's.
 */
export function checkSwarmFit(
  plan: ResourcePlan,
  nodes: readonly { name: string; usable: boolean; cores: number; memoryBytes: number }[],
): void {
  const usable = nodes.filter((n) => n.usable);
  const cores = Math.max(0, ...usable.map((n) => n.cores));
  const mem = Math.max(0, ...usable.map((n) => n.memoryBytes));
  for (const c of RESOURCE_COMPONENTS) {
    if (c === 'lab') continue;
    const r = plan[c];
    if (r.cpus !== null && r.cpus > cores)
      throw new LabError(
        'LAB_ERR_FLAG_VALUE',
        `--cpus: ${c}=${r.cpus} cores: no swarm node has that many (largest: ${cores}); its task would never be scheduled`,
        { flag: 'cpus', value: `${c}=${r.cpus}` },
      );
    if (r.memoryBytes !== null && r.memoryBytes > mem)
      throw new LabError(
        'LAB_ERR_FLAG_VALUE',
        `--memory: ${c}=${formatBytes(r.memoryBytes)}: no swarm node has that much (largest: ${formatBytes(mem)}); its task would never be scheduled`,
        { flag: 'memory', value: `${c}=${r.memoryBytes}` },
      );
  }
}
