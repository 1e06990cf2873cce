import type { BurstConfig, PathBudget, PathName, ProbeSample } from '../core/record.ts';

// Fair budgets (DESIGN.md "the comparison is fair"): every limit the lab sets applies to both paths alike or
// to neither. By default neither path is limited — the collector's own series caps are lifted to their
// maxima, as Prometheus has no sample_limit by default. `--series-budget N` gives both paths the same N
// series: the collector's --max-series N, and Prometheus' per-target sample_limit ceil(N / pods).

/** The collector's largest accepted --max-series: "unlimited" for any fleet this lab can run. */
export const COLLECTOR_MAX_SERIES = 100_000_000;
/** Its byte budgets lifted as well (Prometheus has no label-length or series-bytes limit by default). */
const COLLECTOR_UNLIMITED_BYTES = ['--max-series-bytes', String(2 ** 40), '--max-label-value-length', '1MiB'];

export interface Budget {
  /** Flags for the collector's command. */
  collectorFlags: string[];
  /** Prometheus' sample_limit per pod target (null = none). */
  sampleLimit: number | null;
}

export function budgetOf(config: Pick<BurstConfig, 'seriesBudget' | 'pods' | 'collectorRcvbuf'>): Budget {
  const n = config.seriesBudget ?? null;
  const rcvbuf = config.collectorRcvbuf == null ? [] : ['--rcvbuf', String(config.collectorRcvbuf)];
  return {
    collectorFlags: [
      '--max-series',
      String(n ?? COLLECTOR_MAX_SERIES),
      ...COLLECTOR_UNLIMITED_BYTES,
      ...rcvbuf,
    ],
    sampleLimit: n === null ? null : Math.ceil(n / config.pods),
  };
}

/** What each path held at the end and the limit in force, for the record and the report. */
export function pathBudgets(
  config: Pick<BurstConfig, 'seriesBudget' | 'pods'>,
  samples: readonly ProbeSample[],
  collectorSeries: number | null,
): Record<PathName, PathBudget> {
  const n = config.seriesBudget ?? null;
  const b = budgetOf(config);
  const sampleLimit = b.sampleLimit;
  let pullSeries: number | null = null;
  // The most the pods' landed scrapes stored at once (the limit is checked against the peak, not the last
  // reading: a scrape that failed at the end reads 0).
  for (const s of samples)
    if (s.pull?.samplesSum !== null && s.pull?.samplesSum !== undefined)
      pullSeries = Math.max(pullSeries ?? 0, s.pull.samplesSum);
  const setBy = n === null ? 'default' : 'user';
  return {
    pull: {
      seriesStored: pullSeries,
      seriesLimit: sampleLimit === null ? null : sampleLimit * config.pods,
      setBy,
      failsBy:
        sampleLimit === null
          ? 'no limit (Prometheus has no sample_limit by default)'
          : `sample_limit ${sampleLimit} per pod${b.sampleLimit === null ? " (prometheus/prometheus.yml: a cautious team's limit, far above any pod's series)" : ''}: a scrape over it is discarded whole (up == 0), the pod's series go stale until a scrape fits`,
    },
    push: {
      seriesStored: collectorSeries,
      seriesLimit: n,
      setBy,
      failsBy:
        n === null
          ? `no limit (the lab lifts the collector's own cap to ${COLLECTOR_MAX_SERIES.toLocaleString('en-US')})`
          : `--max-series ${n}: each line that would create a series beyond it is refused and counted, the rest still land`,
    },
  };
}
