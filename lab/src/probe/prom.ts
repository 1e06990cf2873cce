import { LabError } from '@pushpull/common';
import { httpJson } from '../core/http.ts';
import type { AlertObservation, PullProbe } from '../core/record.ts';

// Prometheus HTTP API: instant queries, raw samples, alerts. Several scalar expressions are folded into ONE
// request per probe tick (each tagged with a `probe_key` label), so probing costs one query, not fifteen.

interface ApiResponse<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}
type VectorItem = { metric: Record<string, string>; value: [number, string] };
type MatrixItem = { metric: Record<string, string>; values: [number, string][] };
type QueryData =
  | { resultType: 'vector'; result: VectorItem[] }
  | { resultType: 'scalar'; result: [number, string] }
  | { resultType: 'matrix'; result: MatrixItem[] };

/** The Prometheus probe's expressions (producers job), by PullProbe field. */
export const PULL_EXPRESSIONS: Record<
  Exclude<keyof PullProbe, 'storedOrders' | 'storedPushOrders'>,
  string
> = {
  targets: 'count(up{job="producers"})',
  targetsUp: 'count(up{job="producers"} == 1)',
  scrapeP50: 'quantile(0.5, scrape_duration_seconds{job="producers"})',
  scrapeP99: 'quantile(0.99, scrape_duration_seconds{job="producers"})',
  scrapeMax: 'max(scrape_duration_seconds{job="producers"})',
  scrapeTimeout: 'max(scrape_timeout_seconds{job="producers"})',
  slowTargets:
    'count(scrape_duration_seconds{job="producers"} > 0.5 * scrape_timeout_seconds{job="producers"})',
  // Samples the last scrape of each target STORED: a scrape over sample_limit is discarded whole (up 0), but
  // scrape_samples_scraped still reports what the target exposed, so count only targets whose scrape landed.
  samplesSum: 'sum(scrape_samples_scraped{job="producers"} * up{job="producers"})',
  samplesMax: 'max(scrape_samples_scraped{job="producers"})',
  bodyBytesMax: 'max(scrape_body_size_bytes{job="producers"})',
  bodyBytesAvg: 'avg(scrape_body_size_bytes{job="producers"})',
  sampleLimitExceeded: 'sum(prometheus_target_scrapes_exceeded_sample_limit_total)',
  intervalP99: 'max(prometheus_target_interval_length_seconds{quantile="0.99"})',
  collectorUp: 'max(up{job="collector"})',
  // A recording rule (prometheus/rules): one precomputed series, cheap even when Prometheus is loaded.
  storedOrdersRate: 'max(pushpull:pull_orders:rate30s)',
  storedPushOrdersRate: 'max(pushpull:push_orders:rate30s)',
};

/**
 * The pull path's delivered orders so far: the last stored value of every pod's orders_total series
 * (range selectors skip staleness markers, so a pod whose last scrape failed still counts what it
 * delivered before). Costlier than the rest (all order series), so probed less often.
 */
export function storedOrdersExpression(scrapeIntervalMs: number): string {
  return `sum(last_over_time(orders_total{job="producers"}[${Math.ceil((3 * scrapeIntervalMs) / 1000) + 1}s]))`;
}

/**
 * The push path's delivered orders as Prometheus stored them from the collector: the same place and the
 * same kind of query as the pull path's, so both paths' visibility is measured alike.
 */
export function storedPushOrdersExpression(scrapeIntervalMs: number, ordersFamily = 'orders'): string {
  return `sum(last_over_time(${ordersFamily}{job="collector"}[${Math.ceil((3 * scrapeIntervalMs) / 1000) + 1}s]))`;
}

type ProbeKey = keyof typeof PULL_EXPRESSIONS;

/** What /api/v1/targets answers without PromQL (stores.ts targetFields): left out of the PromQL probe. */
export const TARGET_KEYS: readonly ProbeKey[] = [
  'targets',
  'targetsUp',
  'scrapeP50',
  'scrapeP99',
  'scrapeMax',
  'scrapeTimeout',
  'slowTargets',
];
/** What a store's own /metrics answers without PromQL (stores.ts storeSelfSnapshot). */
const SELF_KEYS: readonly ProbeKey[] = ['intervalP99'];
/** The PromQL probe's expressions that concern the push path's store (the collector's job and orders). */
const PUSH_KEYS: readonly ProbeKey[] = ['collectorUp', 'storedPushOrdersRate'];

/**
 * #24: the PromQL probe of each store — only what neither /api/v1/targets nor the store's /metrics answers —
 * plus each path's stored orders as its recording rule holds them (one precomputed series: an instant read
 * costs the store nothing like the scan of every order series). `shared` = both paths' in one query.
 */
export function storeExpressions(store: 'pull' | 'push' | 'shared'): Record<string, string> {
  const pick = (keep: (k: ProbeKey) => boolean) =>
    Object.fromEntries(
      (Object.keys(PULL_EXPRESSIONS) as ProbeKey[])
        .filter((k) => !TARGET_KEYS.includes(k) && !SELF_KEYS.includes(k) && keep(k))
        .map((k) => [k, PULL_EXPRESSIONS[k]]),
    );
  const pull = { ...pick((k) => !PUSH_KEYS.includes(k)), storedOrders: 'max(pushpull:pull_orders:stored)' };
  const push = {
    ...pick((k) => PUSH_KEYS.includes(k)),
    storedPushOrders: 'max(pushpull:push_orders:stored)',
  };
  return store === 'pull' ? pull : store === 'push' ? push : { ...pull, ...push };
}

const KEY_LABEL = 'probe_key';

/** The Pushgateway grouping key the lab pushes its phase annotations under (docs/contracts.md). */
export const LAB_ANNOTATION_JOB = 'pushpull_lab';

/** `label_replace(e1, "probe_key", "k1", "", "") or label_replace(e2, ...)`: one query, many scalars. */
export function combineExpressions(exprs: Record<string, string>): string {
  return Object.entries(exprs)
    .map(([k, e]) => `label_replace(${e}, "${KEY_LABEL}", "${k}", "", "")`)
    .join(' or ');
}

export function decodeCombined(
  result: readonly VectorItem[],
  keys: readonly string[],
): Record<string, number | null> {
  const out: Record<string, number | null> = Object.fromEntries(keys.map((k) => [k, null]));
  for (const item of result) {
    const k = item.metric[KEY_LABEL];
    if (k === undefined || !(k in out)) continue;
    const v = Number(item.value[1]);
    out[k] = Number.isFinite(v) ? v : null;
  }
  return out;
}

/** Counts that PromQL returns as "no result" when zero: make them 0 when their population exists. */
export function pullProbeFrom(
  values: Record<string, number | null>,
): Omit<PullProbe, 'storedOrders' | 'storedPushOrders'> {
  const v = values as Record<keyof typeof PULL_EXPRESSIONS, number | null>;
  return {
    ...v,
    targetsUp: v.targets !== null && v.targetsUp === null ? 0 : v.targetsUp,
    slowTargets: v.scrapeMax !== null && v.slowTargets === null ? 0 : v.slowTargets,
    sampleLimitExceeded: v.sampleLimitExceeded,
  };
}

export class PromClient {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 5000,
  ) {}

  private async api<T>(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<T> {
    const qs = new URLSearchParams(params).toString();
    const url = `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
    let r: ApiResponse<T>;
    try {
      r = await httpJson<ApiResponse<T>>(url, { timeoutMs: this.timeoutMs, signal });
    } catch (e) {
      // Prometheus answers 400/422 with a JSON error body: surface its message.
      const m = /HTTP \d+ (\{.*)/s.exec((e as Error).message);
      if (m) {
        try {
          const body = JSON.parse(m[1]!) as ApiResponse<T>;
          throw new LabError('LAB_ERR_PROMETHEUS', `${params.query ?? path}: ${body.error ?? 'error'}`, {
            query: params.query,
          });
        } catch (inner) {
          if (inner instanceof LabError) throw inner;
        }
      }
      throw e;
    }
    if (r.status !== 'success' || r.data === undefined)
      throw new LabError(
        'LAB_ERR_PROMETHEUS',
        `${params.query ?? path}: ${r.errorType ?? ''} ${r.error ?? 'no data'}`,
        {
          query: params.query,
        },
      );
    return r.data;
  }

  async query(expr: string, timeSec?: number, signal?: AbortSignal): Promise<QueryData> {
    const params: Record<string, string> = { query: expr };
    if (timeSec !== undefined) params.time = timeSec.toFixed(3);
    return this.api<QueryData>('/api/v1/query', params, signal);
  }

  /** A range query: one series per label set, values at every `stepSec` from `startSec` to `endSec`. */
  async range(
    expr: string,
    startSec: number,
    endSec: number,
    stepSec: number,
    signal?: AbortSignal,
  ): Promise<MatrixItem[]> {
    const d = await this.api<QueryData>(
      '/api/v1/query_range',
      { query: expr, start: startSec.toFixed(3), end: endSec.toFixed(3), step: String(stepSec) },
      signal,
    );
    if (d.resultType !== 'matrix')
      throw new LabError('LAB_ERR_PROMETHEUS', `${expr}: expected a matrix, got a ${d.resultType}`);
    return d.result;
  }

  /** A single number (first element of a vector, or a scalar); null when the result is empty. */
  async scalar(expr: string, timeSec?: number, signal?: AbortSignal): Promise<number | null> {
    const d = await this.query(expr, timeSec, signal);
    if (d.resultType === 'scalar') return Number(d.result[1]);
    if (d.resultType === 'vector') {
      const first = d.result[0];
      return first ? Number(first.value[1]) : null;
    }
    throw new LabError('LAB_ERR_PROMETHEUS', `${expr}: expected a vector, got a ${d.resultType}`);
  }

  async vector(expr: string, timeSec?: number, signal?: AbortSignal): Promise<VectorItem[]> {
    const d = await this.query(expr, timeSec, signal);
    if (d.resultType !== 'vector')
      throw new LabError('LAB_ERR_PROMETHEUS', `${expr}: expected a vector, got a ${d.resultType}`);
    return d.result;
  }

  /** Raw samples of a range selector (`expr` must be `selector[range]`), evaluated at `timeSec`. */
  async matrix(expr: string, timeSec?: number, signal?: AbortSignal): Promise<MatrixItem[]> {
    const d = await this.query(expr, timeSec, signal);
    if (d.resultType !== 'matrix')
      throw new LabError('LAB_ERR_PROMETHEUS', `${expr}: expected a matrix, got a ${d.resultType}`);
    return d.result;
  }

  async combined(
    exprs: Record<string, string>,
    signal?: AbortSignal,
    /** Evaluation time, epoch seconds (default: now). */
    timeSec?: number,
  ): Promise<Record<string, number | null>> {
    return decodeCombined(await this.vector(combineExpressions(exprs), timeSec, signal), Object.keys(exprs));
  }

  async alerts(signal?: AbortSignal): Promise<AlertObservation[]> {
    const d = await this.api<{ alerts: { labels: Record<string, string>; state: string }[] }>(
      '/api/v1/alerts',
      {},
      signal,
    );
    return summarizeAlerts(d.alerts);
  }
}

export function summarizeAlerts(
  alerts: readonly { labels: Record<string, string>; state: string }[],
): AlertObservation[] {
  const by = new Map<string, AlertObservation>();
  for (const a of alerts) {
    // The lab's own phase-annotation group on the Pushgateway is not a measured push source.
    if (a.labels.job === LAB_ANNOTATION_JOB) continue;
    const name = a.labels.alertname ?? 'unnamed';
    const state = a.state === 'firing' ? 'firing' : a.state === 'pending' ? 'pending' : null;
    if (!state) continue;
    const key = `${name}\0${state}`;
    const cur = by.get(key);
    if (cur) cur.count++;
    else by.set(key, { name, state, count: 1 });
  }
  return [...by.values()].sort((a, b) => a.name.localeCompare(b.name) || a.state.localeCompare(b.state));
}
