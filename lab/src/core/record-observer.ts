// #24: the record's view of the observer itself — each store's own metrics per probe second, and what the
// observer saw of the burst (coverage per source). Pure data, re-exported by record.ts.

import type { StoreMode } from './resources.ts';

export type { StoreMode };

type PathName = 'pull' | 'push';

/**
 * Where each path's data is stored (#24): `per-path` = pull's Prometheus scrapes the pods, push's Prometheus
 * (`prometheus-push`) the collector and Pushgateway — same version and configuration apart from their targets;
 * `shared` = one Prometheus stores both (the lab before #24; for comparison and small machines).
 */
export const STORE_MODES: readonly StoreMode[] = ['per-path', 'shared'];

/** The Prometheus components that store a path's data (#24). */
export type StoreComponentName = 'prometheus' | 'prometheus-push';

/** A store's own metrics (its /metrics: no PromQL, answers while queries do not). null = absent. */
export interface StoreSelf {
  /** max of prometheus_target_interval_length_seconds{quantile="0.99"}: the scrape interval as kept. */
  intervalP99: number | null;
  /** Σ prometheus_rule_group_iterations_missed_total (cumulative): evaluations the store skipped. */
  ruleMissed: number | null;
  /** Σ prometheus_rule_group_iterations_total (cumulative). */
  ruleIterations: number | null;
  /** max of prometheus_rule_group_last_duration_seconds: the slowest group's last evaluation. */
  ruleLastDurationMax: number | null;
}

/** #24: what the observer saw of the burst (analysis/observer.ts). */
export interface ObserverRecord {
  /** The probe period coverage is measured at (1 s). */
  periodMs: number;
  /** Burst seconds (the open to quiesce). */
  seconds: number;
  /** Per probe source: share of burst seconds in which a reading was taken (arrived) in that second. */
  coverage: Record<string, number>;
  /** Sources below 90%: every claim drawn from them is marked sparse. */
  sparse: string[];
  /** Per path: the store its stored data came from, the visibility resolution kept, rule evaluations missed. */
  visibility?: Record<
    PathName,
    {
      store: StoreComponentName;
      resolutionSeconds: number | null;
      ruleEvaluationsMissed: number;
      /** Set when the resolution is above 5 s: which store fell behind, and by how much. */
      behind?: string;
    }
  >;
}
