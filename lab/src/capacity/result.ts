import type { Criteria } from './criteria.ts';
import { type Extrapolation, extrapolate } from './extrapolate.ts';
import type { CapacityConfig, CapacityPath } from './flags.ts';
import { type PodsPerCore, withPodsPerCore } from './scaling.ts';
import type { SearchResult } from './search.ts';

// capacity.json: per path the search's answer in one sentence beside its numbers, the extrapolation to the
// full fleet, and what the Pushgateway's measured rate says about the ~10k pushes/s claim. Pure.

export const CAPACITY_SCHEMA = 'pushpull-lab/capacity@1';

export interface PathReport extends SearchResult {
  /** pods, or pushes/s. */
  unit: string;
  answer: string;
  /** How the path was measured alone. */
  measuredAs: string;
  /** --scaling: pods per budgeted receiver core and linearity (burst paths; null without --scaling). */
  podsPerCore?: PodsPerCore | null;
  /** --scaling: the search at each receiver budget (the path's own answer is the largest budget's). */
  atBudgets?: { cores: number; result: SearchResult }[];
}

export interface CapacityResult {
  schema: typeof CAPACITY_SCHEMA;
  startedAt: string;
  finishedAt: string;
  runtime: string;
  /** The budget's deadline passed before every path finished; Ctrl-C ended the search. */
  budgetEnded: boolean;
  interrupted: boolean;
  config: CapacityConfig;
  criteria: Criteria;
  environment: { cores: number; memoryGiB: number | null; node: string };
  paths: Partial<Record<CapacityPath, PathReport>>;
  extrapolation: Partial<Record<'pull' | 'push', Extrapolation>>;
  pushgatewayClaim: string | null;
  notes: string[];
}

export const MEASURED_AS: Record<CapacityPath, string> = {
  pull: 'pull alone: Prometheus scrapes every pod; push off (--push-mode off)',
  push: 'push alone: the pods push StatsD to the collector; Prometheus scrapes the collector, not the pods (--pull off)',
  pushgateway:
    'a rate-driven pusher (the lab process) PUTs pod-sized groups to the Pushgateway, every group stored before each step; no producers; Prometheus scrapes the Pushgateway',
};

const fmt = (v: number | string | null) =>
  v === null ? 'n/a' : typeof v === 'number' ? v.toLocaleString('en-US') : v;

/** " (2 of 3 held)" / "2 of 2 failed; " for a level with more than one counted trial. */
function replicatesText(r: SearchResult, load: number | null, held: boolean): string {
  const l = r.levels.find((x) => x.load === load);
  if (!l || l.trials <= 1) return '';
  return held ? ` (${l.passes} of ${l.trials} held)` : `${l.trials - l.passes} of ${l.trials} failed; `;
}

/** The one-sentence answer for a path. */
export function answerOf(r: SearchResult, unit: string): string {
  const held =
    r.maxHeld === null
      ? 'no load held'
      : `${fmt(r.maxHeld)} ${unit} held${replicatesText(r, r.maxHeld, true)}`;
  const half =
    r.halfPassLoad === null ? '' : `; the pass fraction crosses ½ near ${fmt(r.halfPassLoad)} ${unit}`;
  const failed =
    r.minFailed === null
      ? ''
      : `; ${fmt(r.minFailed)} ${unit} failed (${replicatesText(r, r.minFailed, false)}${r.failedCriterion} = ${fmt(r.failedValue)})${half}`;
  const atLeast = r.maxHeld === null ? 'no trial held yet' : `≥ ${fmt(r.maxHeld)} ${unit}`;
  switch (r.limitedBy) {
    case 'path':
      return `${held}${failed}`;
    case 'machine':
      return `${atLeast}; this machine gave out first (${r.machine?.resource} at ${fmt(r.machine?.load ?? null)} ${unit})${failed}`;
    case 'budget':
      return `${atLeast}${failed}; the budget, not the path, ended the search`;
    case 'config':
      return `${atLeast}: every trial held up to the configured maximum`;
  }
}

/** What the Pushgateway's search says about "it serialises pushes and bends above ~10k pushes/s". */
export function pushgatewayClaim(r: SearchResult | undefined, claimed = 10_000): string | null {
  if (!r) return null;
  const at = (load: number | null) => r.trials.find((t) => t.load === load && !t.aborted);
  const cores = (load: number | null) => at(load)?.metrics['cores.pushgateway'];
  const held = r.maxHeld ?? 0;
  const coreText = (load: number | null) => {
    const c = cores(load);
    return typeof c === 'number' ? ` (the Pushgateway used ${c.toFixed(2)} cores there)` : '';
  };
  if (r.limitedBy === 'path' && r.minFailed !== null) {
    const where =
      r.minFailed <= claimed * 0.5
        ? `well below the claimed ~${fmt(claimed)}/s`
        : held >= claimed * 2
          ? `well above the claimed ~${fmt(claimed)}/s`
          : `near the claimed ~${fmt(claimed)}/s`;
    return `the Pushgateway bent between ${fmt(held)} and ${fmt(r.minFailed)} pushes/s (${r.failedCriterion} = ${fmt(r.failedValue)})${coreText(r.minFailed)}: ${where} on this machine`;
  }
  if (r.limitedBy === 'machine')
    return `not settled on this machine: ${r.machine?.resource} gave out at ${fmt(r.machine?.load ?? null)} pushes/s; the Pushgateway held ${fmt(held)} pushes/s${coreText(r.maxHeld)}${held >= claimed ? `, above the claimed ~${fmt(claimed)}/s` : ''}`;
  if (r.limitedBy === 'config')
    return `the Pushgateway held every rate up to ${fmt(held)} pushes/s${coreText(r.maxHeld)}${held >= claimed ? `: the ~${fmt(claimed)}/s bottleneck does not show here` : ''}`;
  return `not settled: the search ended (budget or Ctrl-C) with ${fmt(held)} pushes/s held`;
}

/** `interrupted`: Ctrl-C, not the budget, stopped this path's search (its answer says so). */
export function pathReport(path: CapacityPath, r: SearchResult, interrupted = false): PathReport {
  const unit = path === 'pushgateway' ? 'pushes/s' : 'pods';
  const answer = interrupted
    ? `${answerOf(r, unit).replace(/; the budget, not the path, ended the search$/, '')}; interrupted (Ctrl-C) before the search ended`
    : answerOf(r, unit);
  return { ...r, unit, answer, measuredAs: MEASURED_AS[path] };
}

/** The extrapolation block for the burst paths that ran. */
export function extrapolations(
  paths: CapacityResult['paths'],
  fleetPods: number,
): CapacityResult['extrapolation'] {
  const out: CapacityResult['extrapolation'] = {};
  for (const p of ['pull', 'push'] as const) {
    const r = paths[p];
    if (r) out[p] = withPodsPerCore(extrapolate(p, r.trials, fleetPods), r.podsPerCore ?? null);
  }
  return out;
}
