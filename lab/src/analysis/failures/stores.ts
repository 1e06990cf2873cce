import type { PathName, ProbeSample, StoreComponentName } from '../../core/record.ts';
import type { Detection } from './detection.ts';

// A store that misses rule evaluations is a failure of its path (#24), not only a gap in the measuring: its
// recording rules (each path's stored orders, the rates) and its alerts thin out exactly when they matter.
// Read from the store's own /metrics (prometheus_rule_group_iterations_missed_total), which answers when its
// query engine does not.

/** The paths a store serves: with one store per path its own; a shared store serves both. */
function pathsOfStore(store: StoreComponentName, perPath: boolean): PathName[] {
  if (!perPath) return ['pull', 'push'];
  return store === 'prometheus-push' ? ['push'] : ['pull'];
}

/** Missed evaluations of one store over the samples: the first sample where the count grew, and by how much. */
export function ruleMisses(
  samples: readonly ProbeSample[],
  store: StoreComponentName,
  t0: number,
): { first: ProbeSample; missed: number } | null {
  let base: number | null = null;
  let first: ProbeSample | null = null;
  let last: number | null = null;
  for (const s of samples) {
    const v = s.stores?.[store]?.ruleMissed;
    if (v === null || v === undefined) continue;
    // The baseline: the last reading before the open (else the first after it).
    if (s.tMs < t0 || base === null) {
      base = v;
      if (s.tMs < t0) continue;
    }
    if (v > base && first === null) first = s;
    last = v;
  }
  if (first === null || base === null || last === null) return null;
  return { first, missed: last - base };
}

/** "Prometheus fell behind its rule evaluation, N missed" for each store that did. */
export function ruleEvaluationMissed({ samples, t0, add }: Detection): void {
  const perPath = samples.some((s) => s.stores?.['prometheus-push'] !== undefined);
  for (const store of ['prometheus', 'prometheus-push'] as const) {
    const m = ruleMisses(samples, store, t0);
    if (!m) continue;
    const name =
      store === 'prometheus' ? (perPath ? "pull's Prometheus" : 'Prometheus (shared)') : "push's Prometheus";
    for (const path of pathsOfStore(store, perPath))
      add(
        path,
        'rule-evaluation-missed',
        m.first,
        `${name} fell behind its rule evaluation, ${m.missed} missed (prometheus_rule_group_iterations_missed_total)`,
      );
  }
}
