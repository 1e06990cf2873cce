import { parse as parseYaml } from 'yaml';
import { parsePromDuration } from '../core/prom-duration.ts';
import type { PathBudget, PathName, SelfCheckFinding } from '../core/record.ts';

// The record checks itself (#20). A limit the lab asked for but that was not applied, or a count above its
// own limit, is an error of the LAB — never a finding about a path. Pure: the readings come from the edges
// (burst/phases/self-check.ts); these functions compare them with the plan and name every mismatch.

/** A path that stored more series than its own limit: the limit was not in force (or the count is wrong). */
export function storedOverLimit(
  budgets: Partial<Record<PathName, PathBudget>> | undefined,
): SelfCheckFinding[] {
  const out: SelfCheckFinding[] = [];
  for (const [path, b] of Object.entries(budgets ?? {}) as [PathName, PathBudget][]) {
    if (b.seriesLimit === null || b.seriesStored === null) continue;
    if (b.seriesStored > b.seriesLimit)
      out.push({
        what: `${path}: series stored within the series limit`,
        expected: `≤ ${b.seriesLimit}`,
        found: String(b.seriesStored),
      });
  }
  return out;
}

/** Listen addresses differ by runtime by design (where, not what): they are not compared. */
const WHERE_KEYS = new Set(['statsdUdp', 'statsdTcp', 'http', 'otlpHttp']);

/**
 * The collector's configuration in force (its GET /debug/config) against the one the lab's flags resolve to.
 * Every key but the listen addresses must match; a key missing from the reading counts as a mismatch.
 */
export function collectorConfigMismatches(
  expected: Readonly<Record<string, unknown>>,
  found: unknown,
): SelfCheckFinding[] {
  if (typeof found !== 'object' || found === null || Array.isArray(found))
    return [{ what: 'collector: configuration read back', expected: 'a JSON object', found: show(found) }];
  const got = found as Record<string, unknown>;
  const out: SelfCheckFinding[] = [];
  for (const [key, want] of Object.entries(expected)) {
    if (WHERE_KEYS.has(key)) continue;
    if (JSON.stringify(got[key]) !== JSON.stringify(want))
      out.push({ what: `collector: ${key}`, expected: show(want), found: show(got[key]) });
  }
  return out;
}

export interface PrometheusPlan {
  scrapeIntervalMs: number;
  /** The producers job's sample_limit per target (null = none). */
  sampleLimit: number | null;
  /** --pull off: the producers job drops every target. */
  pullOff: boolean;
}

/**
 * Prometheus' configuration in force (the YAML of /api/v1/status/config) against the plan: the global
 * scrape interval, and the producers job's interval and sample_limit.
 */
export function prometheusConfigMismatches(plan: PrometheusPlan, yaml: string): SelfCheckFinding[] {
  let doc: { global?: Record<string, unknown>; scrape_configs?: Record<string, unknown>[] };
  try {
    doc = (parseYaml(yaml) ?? {}) as typeof doc;
  } catch (e) {
    return [{ what: 'prometheus: configuration read back', expected: 'YAML', found: (e as Error).message }];
  }
  const out: SelfCheckFinding[] = [];
  const interval = promMs(doc.global?.scrape_interval);
  if (interval !== plan.scrapeIntervalMs)
    out.push({
      what: 'prometheus: global scrape_interval',
      expected: `${plan.scrapeIntervalMs} ms`,
      found: interval === null ? show(doc.global?.scrape_interval) : `${interval} ms`,
    });
  const job = (doc.scrape_configs ?? []).find((j) => j.job_name === 'producers');
  if (!job) return [...out, { what: 'prometheus: producers job', expected: 'present', found: 'absent' }];
  const jobInterval = promMs(job.scrape_interval);
  if (jobInterval !== null && jobInterval !== plan.scrapeIntervalMs)
    out.push({
      what: 'prometheus: producers scrape_interval',
      expected: `${plan.scrapeIntervalMs} ms`,
      found: `${jobInterval} ms`,
    });
  // Prometheus omits a zero sample_limit (= none) when it prints its configuration.
  const limit = typeof job.sample_limit === 'number' && job.sample_limit > 0 ? job.sample_limit : null;
  if (!plan.pullOff && limit !== plan.sampleLimit)
    out.push({
      what: 'prometheus: producers sample_limit',
      expected: plan.sampleLimit === null ? 'none' : String(plan.sampleLimit),
      found: limit === null ? 'none' : String(limit),
    });
  return out;
}

/** One line for the terminal, the report and the error message. */
export function selfCheckText(findings: readonly SelfCheckFinding[]): string {
  return findings.map((f) => `${f.what}: expected ${f.expected}, found ${f.found}`).join('; ');
}

/** Milliseconds of a Prometheus duration ("15s", "1m30s", "500ms"); null when it is not one. */
function promMs(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  try {
    return parsePromDuration(v);
  } catch {
    return null;
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'absent';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
