import type { HostResources, ResourcePlan, StoreMode } from './resource-plan.ts';

// The default resource plan for a host (DESIGN.md "Budgets make an answer transfer"; docs/resources.md).
// Pure: the host's cores and memory are parameters.

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const round2 = (x: number) => Math.round(x * 100) / 100;
const listOf = (a: number, b: number) => (a === b ? String(a) : `${a}-${b}`);

/**
 * The default plan for a host (#24: each path on its own store). Each path's pipeline gets the same CPU and
 * memory in total — pull: its Prometheus; push: the collector and its own Prometheus (`prometheus-push`).
 * With 2+ cores the generator (producers) and observer (lab) run on the lower half of the cores and the
 * receivers on the upper half, so neither side can take the other's CPU. On 2 cores: producers 0.8 + lab 0.2
 * on core 0; Prometheus 0.45 | collector 0.25 + prometheus-push 0.2 | Pushgateway 0.05 + node-exporter 0.05
 * on core 1. With `shared` (one Prometheus for both paths) the plan is the one before per-path stores:
 * Prometheus 0.45 and collector 0.45, and prometheus-push has nothing to run. Memory: each path 1/5 of the
 * host (≤ 8 GiB: Prometheus held 3.9 GiB RSS in the 140-pod default burst of 2026-12-01), split evenly
 * between the collector and its store on the push side; the producers 1/5 (≤ 8 GiB), the lab 1/12 (≤ 2 GiB).
 */
export function defaultPlan(host: HostResources, store: StoreMode = 'per-path'): ResourcePlan {
  const c = Math.max(1, Math.floor(host.cores));
  const m = host.memoryBytes;
  // Whole quarter-GiB steps: a plan that reads the same on machines of nearly the same size.
  const mem = (share: number, cap: number) =>
    Math.min(cap, Math.max(256 * MiB, Math.floor((m * share) / (256 * MiB)) * 256 * MiB));
  const pathMem = mem(1 / 5, 8 * GiB);
  const memory = { producers: mem(1 / 5, 8 * GiB), lab: mem(1 / 12, 2 * GiB), path: pathMem };
  if (c < 2) {
    // One core shared by all: quotas in the same proportions, no cpusets.
    const one = (cpus: number, memoryBytes: number) => ({ cpus, cpuset: null, memoryBytes });
    return withPushStore(
      {
        producers: one(0.4, memory.producers),
        lab: one(0.1, memory.lab),
        prometheus: one(0.22, memory.path),
        collector: one(0.22, memory.path),
        'prometheus-push': one(0, 0),
        pushgateway: one(0.03, 256 * MiB),
        'node-exporter': one(0.03, 128 * MiB),
      },
      store,
    );
  }
  const gen = Math.floor(c / 2);
  const genSet = listOf(0, gen - 1);
  const recvSet = listOf(gen, c - 1);
  const labCpus = round2(Math.min(1, 0.2 * gen));
  const path = round2((c - gen - 2 * 0.05) / 2);
  return withPushStore(
    {
      producers: { cpus: round2(gen - labCpus), cpuset: genSet, memoryBytes: memory.producers },
      lab: { cpus: labCpus, cpuset: genSet, memoryBytes: memory.lab },
      prometheus: { cpus: path, cpuset: recvSet, memoryBytes: memory.path },
      collector: { cpus: path, cpuset: recvSet, memoryBytes: memory.path },
      'prometheus-push': { cpus: null, cpuset: recvSet, memoryBytes: null },
      pushgateway: { cpus: 0.05, cpuset: recvSet, memoryBytes: 256 * MiB },
      'node-exporter': { cpus: 0.05, cpuset: recvSet, memoryBytes: 128 * MiB },
    },
    store,
  );
}

/**
 * The push pipeline's share split between the collector and its store, its total kept equal to pull's
 * Prometheus: the store 4/9 of the CPU (0.2 of 0.45 on 2 cores) and half the memory. `shared`: no push store.
 */
function withPushStore(plan: ResourcePlan, store: StoreMode): ResourcePlan {
  const total = plan.prometheus;
  if (store === 'shared') {
    plan['prometheus-push'] = { cpus: null, cpuset: null, memoryBytes: null };
    return plan;
  }
  const storeCpus = round2(((total.cpus ?? 0) * 4) / 9);
  const storeMem = Math.floor((total.memoryBytes ?? 0) / 2 / MiB) * MiB;
  plan.collector = {
    cpus: round2((total.cpus ?? 0) - storeCpus),
    cpuset: total.cpuset,
    memoryBytes: (total.memoryBytes ?? 0) - storeMem,
  };
  plan['prometheus-push'] = { cpus: storeCpus, cpuset: total.cpuset, memoryBytes: storeMem };
  return plan;
}
