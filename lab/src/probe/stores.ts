import { parsePromDuration } from '../core/prom-duration.ts';
import type { PullProbe, StoreSelf } from '../core/record.ts';
import { parseExposition } from './exposition.ts';

// The cheapest reading for each question about a store (#24), pure: a store's own /metrics (interval stretch,
// rule evaluations missed and their duration) and /api/v1/targets (each target's health and last scrape
// duration). Neither runs PromQL, so both answer while the store's query engine is behind.

const SELF_FAMILIES = new Set([
  'prometheus_target_interval_length_seconds',
  'prometheus_rule_group_iterations_missed_total',
  'prometheus_rule_group_iterations_total',
  'prometheus_rule_group_last_duration_seconds',
]);

/** A store's own /metrics text → what the observer keeps of it. */
export function storeSelfSnapshot(text: string): StoreSelf {
  const samples = parseExposition(
    text,
    (n) => SELF_FAMILIES.has(n),
    (n) => n === 'prometheus_target_interval_length_seconds',
  );
  let intervalP99: number | null = null;
  let ruleMissed: number | null = null;
  let ruleIterations: number | null = null;
  let ruleLastDurationMax: number | null = null;
  const add = (a: number | null, v: number) => (a ?? 0) + v;
  const max = (a: number | null, v: number) => (a === null || v > a ? v : a);
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    if (s.name === 'prometheus_target_interval_length_seconds') {
      if (s.labels.quantile === '0.99') intervalP99 = max(intervalP99, s.value);
    } else if (s.name === 'prometheus_rule_group_iterations_missed_total')
      ruleMissed = add(ruleMissed, s.value);
    else if (s.name === 'prometheus_rule_group_iterations_total')
      ruleIterations = add(ruleIterations, s.value);
    else ruleLastDurationMax = max(ruleLastDurationMax, s.value);
  }
  return { intervalP99, ruleMissed, ruleIterations, ruleLastDurationMax };
}

/** One active target as /api/v1/targets reports it (the fields the observer reads). */
export interface ActiveTarget {
  labels?: Record<string, string>;
  scrapePool?: string;
  health?: string;
  lastScrapeDuration?: number;
  scrapeTimeout?: string;
  /** When its last scrape started (RFC 3339), and its URL (#28: the two replicas' offsets per target). */
  lastScrape?: string;
  scrapeUrl?: string;
}

/** The fields of the pull probe that /api/v1/targets answers, for one job's targets. */
export type TargetFields = Pick<
  PullProbe,
  'targets' | 'targetsUp' | 'scrapeP50' | 'scrapeP99' | 'scrapeMax' | 'scrapeTimeout' | 'slowTargets'
>;

/** Quantile of sorted values, as PromQL's quantile() (linear interpolation between ranks). */
export function quantileOf(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = q * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/**
 * Health and scrape duration of every scraped target of `job`, as `count(up)` would count them: a target never
 * scraped yet (health "unknown", e.g. a pod just discovered) has no `up` yet and is left out — counting it as
 * down made every pod look failed during warm-up.
 */
export function targetFields(active: readonly ActiveTarget[], job: string): TargetFields {
  const mine = active.filter((t) => (t.labels?.job ?? t.scrapePool) === job);
  const scraped = mine.filter((t) => t.health === 'up' || t.health === 'down');
  const durations = scraped
    .map((t) => t.lastScrapeDuration)
    .filter((d): d is number => typeof d === 'number' && Number.isFinite(d))
    .sort((a, b) => a - b);
  const timeouts = mine.map((t) => durationSeconds(t.scrapeTimeout));
  const timeout = timeouts.reduce<number | null>(
    (a, v) => (v === null ? a : a === null || v > a ? v : a),
    null,
  );
  const slow =
    timeout === null ? null : scraped.filter((t) => (t.lastScrapeDuration ?? 0) > 0.5 * timeout).length;
  return {
    targets: scraped.length === 0 ? null : scraped.length,
    targetsUp: scraped.length === 0 ? null : scraped.filter((t) => t.health === 'up').length,
    scrapeP50: quantileOf(durations, 0.5),
    scrapeP99: quantileOf(durations, 0.99),
    scrapeMax: durations.length === 0 ? null : durations[durations.length - 1]!,
    scrapeTimeout: timeout,
    slowTargets: slow,
  };
}

/** "10s" → 10; anything else (absent, malformed) → null: a bad answer is a gap, never a crash. */
function durationSeconds(text: string | undefined): number | null {
  if (!text) return null;
  try {
    return parsePromDuration(text) / 1000;
  } catch {
    return null;
  }
}

/**
 * #28: every scraped target of `job` → when its last scrape started (epoch ms), keyed by its scrape URL (the
 * same for both replicas: the same discovery). Targets never scraped yet are left out.
 */
export function lastScrapes(active: readonly ActiveTarget[], job: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of active) {
    if ((t.labels?.job ?? t.scrapePool) !== job || (t.health !== 'up' && t.health !== 'down')) continue;
    const ms = t.lastScrape ? Date.parse(t.lastScrape) : Number.NaN;
    const key = t.scrapeUrl ?? t.labels?.pod;
    // Prometheus reports 0001-01-01 for a target not scraped yet.
    if (key && Number.isFinite(ms) && ms > 0) out.set(key, ms);
  }
  return out;
}
