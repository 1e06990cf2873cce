import type {
  FirstFailure,
  ObserverRecord,
  PathAccount,
  PathName,
  ProbeSample,
  StoreComponentName,
} from '../core/record.ts';
import { ruleMisses } from './failures/stores.ts';

// What the observer saw (#24), pure: per probe source, the share of burst seconds in which a reading was
// taken in that second (a late reading counts for the second it arrived in: the probe loop merges it into
// the sample current when it completes), which claims rest on a source read too seldom, and whether each
// path's visibility kept the resolution it claims or its store fell behind.

/** The probe period coverage is measured at. */
export const COVERAGE_PERIOD_MS = 1000;
/** Below this share of burst seconds a source is sparse, and so is every claim drawn from it. */
export const SPARSE_BELOW = 0.9;
/** The resolution visibility must keep (seconds between stored readings); above it the store fell behind. */
export const VISIBILITY_RESOLUTION_S = 5;

/** Share of the window's seconds in which each source delivered a reading (failed reads do not count). */
export function coverageOf(
  samples: readonly ProbeSample[],
  w: { fromMs: number; toMs: number },
): { seconds: number; coverage: Record<string, number> } {
  const seconds = Math.max(0, Math.ceil((w.toMs - w.fromMs) / COVERAGE_PERIOD_MS));
  const covered = new Map<string, Set<number>>();
  for (const s of samples) {
    for (const source of Object.keys(s.probeMs)) if (!covered.has(source)) covered.set(source, new Set());
    if (s.tMs < w.fromMs || s.tMs >= w.toMs) continue;
    const sec = Math.floor((s.tMs - w.fromMs) / COVERAGE_PERIOD_MS);
    for (const source of Object.keys(s.probeMs))
      if (!s.failedProbes?.includes(source)) covered.get(source)!.add(sec);
  }
  const coverage: Record<string, number> = {};
  for (const [source, secs] of [...covered].sort((a, b) => a[0].localeCompare(b[0])))
    coverage[source] = seconds === 0 ? 0 : Math.round((secs.size / seconds) * 1000) / 1000;
  return { seconds, coverage };
}

/** The probe source a failure signal is read from (null: not a single source's reading). */
export function sourceOfSignal(f: Pick<FirstFailure, 'signal' | 'path'>, perPath: boolean): string | null {
  const s = f.signal;
  if (s === 'slow-scrape' || s === 'failed-scrape') return 'targets';
  if (s === 'interval-stretch') return 'prometheus-self';
  if (s.startsWith('remote-write')) return 'agents'; // #29: read from the pull agents' own /metrics
  if (s === 'rule-evaluation-missed')
    return f.path === 'push' && perPath ? 'prometheus-push-self' : 'prometheus-self';
  if (s.startsWith('sample-limit')) return 'prometheus';
  if (s.startsWith('alert:')) return 'alerts';
  if (s.startsWith('collector') || s === 'receiver-refused') return 'collector';
  if (s.startsWith('kernel')) return 'node-exporter';
  if (s === 'datagram-loss' || s === 'send-error' || s.startsWith('export')) return 'ledgers';
  return null;
}

/** One path's visibility against the resolution it claims, and its store's missed rule evaluations. */
function visibilityCheck(
  path: PathName,
  account: PathAccount | undefined,
  store: StoreComponentName,
  missed: number,
): NonNullable<ObserverRecord['visibility']>[PathName] {
  const res = account?.visibility?.resolutionSeconds ?? null;
  const behind = res !== null && res > VISIBILITY_RESOLUTION_S;
  return {
    store,
    resolutionSeconds: res,
    ruleEvaluationsMissed: missed,
    ...(behind
      ? {
          behind: `${store} fell behind: ${path} visibility kept a resolution of ${res} s, not ${VISIBILITY_RESOLUTION_S} s (${missed} rule evaluation${missed === 1 ? '' : 's'} missed in the burst)`,
        }
      : {}),
  };
}

export interface ObserverInput {
  samples: readonly ProbeSample[];
  fromMs: number;
  toMs: number;
  perPath: boolean;
  paths: Partial<Record<PathName, PathAccount>>;
}

/** The record's `observer`: coverage per source, the sparse ones, each path's visibility resolution. */
export function observerOf(i: ObserverInput): ObserverRecord {
  const { seconds, coverage } = coverageOf(i.samples, { fromMs: i.fromMs, toMs: i.toMs });
  const sparse = Object.entries(coverage)
    .filter(([, c]) => c < SPARSE_BELOW)
    .map(([source]) => source);
  const storeOf = (p: PathName): StoreComponentName =>
    p === 'push' && i.perPath ? 'prometheus-push' : 'prometheus';
  const cut = i.samples.filter((s) => s.tMs < i.toMs);
  const missed = (p: PathName) => ruleMisses(cut, storeOf(p), i.fromMs)?.missed ?? 0;
  return {
    periodMs: COVERAGE_PERIOD_MS,
    seconds,
    coverage,
    sparse,
    visibility: {
      pull: visibilityCheck('pull', i.paths.pull, storeOf('pull'), missed('pull')),
      push: visibilityCheck('push', i.paths.push, storeOf('push'), missed('push')),
    },
  };
}

/** Marks each failure drawn from a sparse source, in place; returns the sentence for the verdict (or null). */
export function markSparse(
  observer: ObserverRecord,
  failures: FirstFailure[],
  perPath: boolean,
): string | null {
  for (const f of failures) {
    const src = sourceOfSignal(f, perPath);
    if (src && observer.sparse.includes(src))
      f.detail += ` [sparse: ${src} read in ${pct(observer.coverage[src] ?? 0)} of burst seconds]`;
  }
  const behind = (['pull', 'push'] as const)
    .map((p) => observer.visibility?.[p]?.behind)
    .filter((b): b is string => typeof b === 'string');
  const parts: string[] = [];
  if (observer.sparse.length > 0)
    parts.push(
      `Sparse observation: ${observer.sparse.map((s) => `${s} ${pct(observer.coverage[s] ?? 0)}`).join(', ')} of burst seconds (below ${pct(SPARSE_BELOW)}); claims drawn from them are sparse.`,
    );
  parts.push(...behind.map((b) => `${b[0]!.toUpperCase()}${b.slice(1)}.`));
  return parts.length > 0 ? parts.join(' ') : null;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
