import { parseCpuList, type ResourcePlan } from '../core/resources.ts';
import type { Extrapolation } from './extrapolate.ts';
import type { SearchResult } from './search.ts';

// Pods per core (`--scaling`), pure: each burst path searched at two receiver CPU budgets (the resource
// plan's quota for Prometheus on pull, the collector on push). Pods per budgeted receiver core at each, the
// ratio between them (1 = linear) with the error the two brackets leave, and — where it is linear — the
// receiver's cores for the fleet read from pods per core instead of the per-component straight line.

/** The receiver whose CPU budget a path's capacity scales with. */
export const RECEIVER = { pull: 'prometheus', push: 'collector' } as const;
export type ScalingPath = keyof typeof RECEIVER;

/** The default budgets: where the generator can still saturate the receiver on 2 cores (at 1 core it cannot). */
export const DEFAULT_SCALING_CORES = [0.25, 0.5] as const;

/** Linear when pods per core at the larger budget is within this share of the smaller's (or the error spans 1). */
export const LINEAR_TOLERANCE = 0.15;

/**
 * A plan with the path's receiver held to `cores`. Where that oversubscribes the receivers' cpuset, the other
 * path's receiver — idle in a trial of this path alone — gives up the excess (down to 0.05 core); everything
 * else as planned.
 */
export function planAt(plan: ResourcePlan, path: ScalingPath, cores: number): ResourcePlan {
  const r = RECEIVER[path];
  const other = RECEIVER[path === 'pull' ? 'push' : 'pull'];
  const out: ResourcePlan = { ...plan, [r]: { ...plan[r], cpus: cores } };
  const set = out[r].cpuset;
  const setCores = set === null ? null : (parseCpuList(set)?.length ?? null);
  const o = out[other];
  if (setCores === null || o.cpus === null || o.cpuset !== set) return out;
  const used = Object.values(out).reduce((s, c) => s + (c.cpuset === set ? (c.cpus ?? 0) : 0), 0);
  const excess = used - setCores;
  if (excess > 1e-9) out[other] = { ...o, cpus: Math.max(0.05, Math.round((o.cpus - excess) * 100) / 100) };
  return out;
}

export interface ScalingPoint {
  cores: number;
  maxHeld: number | null;
  minFailed: number | null;
  limitedBy: SearchResult['limitedBy'];
  /** Pods per budgeted receiver core: the bracket's geometric middle per core, and its ends per core. */
  podsPerCore: { value: number; lo: number; hi: number } | null;
}

export interface PodsPerCore {
  receiver: string;
  points: ScalingPoint[];
  /** Pods per core at the largest budget measured (null unless that search converged on the path). */
  value: number | null;
  /** podsPerCore(larger) / podsPerCore(smaller), with the range the brackets allow. */
  linearity: { ratio: number; lo: number; hi: number; linear: boolean } | null;
  /** Reading the smaller budget's pods per core at the larger budget: |predicted − measured| / measured. */
  oneStepOutError: number | null;
  text: string;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

export function scalingPoint(cores: number, r: SearchResult): ScalingPoint {
  const bracketed = r.limitedBy === 'path' && r.maxHeld !== null && r.minFailed !== null;
  return {
    cores,
    maxHeld: r.maxHeld,
    minFailed: r.minFailed,
    limitedBy: r.limitedBy,
    podsPerCore: bracketed
      ? {
          value: r3(Math.sqrt(r.maxHeld! * r.minFailed!) / cores),
          lo: r3(r.maxHeld! / cores),
          hi: r3(r.minFailed! / cores),
        }
      : null,
  };
}

export function podsPerCore(path: ScalingPath, points: readonly ScalingPoint[]): PodsPerCore {
  const sorted = [...points].sort((a, b) => a.cores - b.cores);
  const receiver = RECEIVER[path];
  const small = sorted[0];
  const large = sorted[sorted.length - 1];
  const base = { receiver, points: sorted };
  if (!small || !large || small === large || !small.podsPerCore || !large.podsPerCore) {
    const missing = sorted.filter((p) => !p.podsPerCore).map((p) => `${p.cores} core (${p.limitedBy})`);
    return {
      ...base,
      value: large?.podsPerCore?.value ?? null,
      linearity: null,
      oneStepOutError: null,
      text: `linearity not measured: ${missing.length > 0 ? `no bracket at ${missing.join(', ')}` : 'fewer than two budgets'}`,
    };
  }
  const a = small.podsPerCore;
  const b = large.podsPerCore;
  const ratio = r3(b.value / a.value);
  const lo = r3(b.lo / a.hi);
  const hi = r3(b.hi / a.lo);
  const linear = Math.abs(ratio - 1) <= LINEAR_TOLERANCE || (lo <= 1 && hi >= 1);
  const oneStepOutError = r3(
    Math.abs(a.value * large.cores - b.value * large.cores) / (b.value * large.cores),
  );
  return {
    ...base,
    value: b.value,
    linearity: { ratio, lo, hi, linear },
    oneStepOutError,
    text: `${receiver}: ${a.value} pods per core at ${small.cores} core, ${b.value} at ${large.cores} core: ratio ${ratio} (${lo}–${hi}), ${linear ? 'linear' : 'not linear'}`,
  };
}

/**
 * The extrapolation on a measured basis: where pods per core was linear, the receiver's cores for the fleet
 * are fleet / pods per core (the brackets' ends give the range; one step out = reading the smaller budget's
 * pods per core at the larger); otherwise the per-component line stands, and the basis says which it is.
 */
export function withPodsPerCore(e: Extrapolation, ppc: PodsPerCore | null): Extrapolation {
  if (!ppc?.linearity?.linear || ppc.value === null) {
    const why = ppc ? ppc.text : 'no --scaling run';
    return {
      ...e,
      basis: `${e.basis}; basis: the per-component straight line (pods per core not used: ${why})`,
    };
  }
  const large = ppc.points[ppc.points.length - 1]!.podsPerCore!;
  const cores = r3(e.fleetPods / ppc.value);
  const components = e.components.map((c) =>
    c.component === ppc.receiver
      ? {
          ...c,
          cores,
          // The "line" is now cores = pods / pods per core; its one-step-out error is the budgets' disagreement.
          coresFit: {
            intercept: 0,
            slope: 1 / ppc.value!,
            maxRelError: null,
            holdoutRelError: ppc.oneStepOutError,
            points: ppc.points.length,
          },
          perPod: { ...c.perPod, cores: r3(1 / ppc.value!) },
          perUnit: `${ppc.value} pods per budgeted core (${r3(e.fleetPods / large.hi)}–${r3(e.fleetPods / large.lo)} cores from the bracket); one step out ±${Math.round((ppc.oneStepOutError ?? 0) * 100)}%`,
        }
      : c,
  );
  const total = components.some((c) => c.cores === null)
    ? e.total
    : { ...e.total, cores: r3(components.reduce((s, c) => s + (c.cores ?? 0), 0)) };
  return {
    ...e,
    components,
    total,
    basis: `${e.basis}; basis for the ${ppc.receiver}: pods per budgeted core (${ppc.text}); the other components: the per-component straight line`,
  };
}
