// The resource plan's vocabulary: the budgeted components, one component's budget, a plan, the host, and
// where each path's data is stored. Apart from resources.ts so the default plan (default-plan.ts) and the
// flags and checks (resources.ts) both build on it without importing each other.

/** Where each path's data is stored (record.ts re-exports it). */
export type StoreMode = 'per-path' | 'shared';

export const RESOURCE_COMPONENTS = [
  'prometheus',
  'prometheus-push',
  'collector',
  'pushgateway',
  'node-exporter',
  'producers',
  'lab',
] as const;
export type ResourceComponent = (typeof RESOURCE_COMPONENTS)[number];

export interface ComponentResources {
  /** CPU quota in cores (CFS quota / period); null = no quota. */
  cpus: number | null;
  /** Cores it may run on, as a list ("1", "0-1", "0,2"); null = any. */
  cpuset: string | null;
  /** Memory limit in bytes; null = none. */
  memoryBytes: number | null;
}

export type ResourcePlan = Record<ResourceComponent, ComponentResources>;

export interface HostResources {
  cores: number;
  memoryBytes: number;
}
