// The OTLP row of lab:cost: per timed run, the SDK's per-event record cost (timed exactly like the pull and
// StatsD rows) and one export of the accumulated points to the collector's OTLP receiver (one interval's
// export), reconciled with what the receiver itself counted: points accepted/refused, requests answered,
// and the increase of the `checkout_otlp` series (orders delivered).

import { type Clock, LabError } from '@pushpull/common';
import { parseExposition, sumSamples } from '../core/exposition.ts';
import { httpGet } from '../core/http.ts';
import { median } from '../model/stats.ts';
import { type CheckoutEvent, makeCheckoutEvents } from './events.ts';
import { type CostSummary, medianSummary, summarizeNs, timeEach } from './measure.ts';
import { OTLP_CHECKOUT, type OtlpExportSample, type OtlpRecorder } from './otlp.ts';

/** The receiver's own counters (its `collector_otlp_*` self-metrics) and the orders it holds. */
export interface OtlpCounts {
  /** collector_otlp_points_total{outcome="accepted"} */
  accepted: number;
  /** collector_otlp_points_total{outcome="refused"} */
  refused: number;
  /** collector_otlp_requests_total, every status code. */
  requests: number;
  /** collector_otlp_requests_total{code="200"} */
  requestsOk: number;
  /** collector_otlp_request_bytes_total */
  bytes: number;
  /** Sum of every `checkout_otlp` series (`checkout_otlp_total` with --strict-names). */
  orders: number;
}

export async function readOtlpCounts(httpUrl: string): Promise<OtlpCounts> {
  const r = await httpGet(`${httpUrl}/metrics`);
  if (r.status !== 200)
    throw new LabError('LAB_ERR_CHILD_EXIT', `collector ${httpUrl}/metrics answered HTTP ${r.status}`);
  const s = parseExposition(r.body.toString('utf8'));
  return {
    accepted: sumSamples(s, ['collector_otlp_points_total'], { outcome: 'accepted' }),
    refused: sumSamples(s, ['collector_otlp_points_total'], { outcome: 'refused' }),
    requests: sumSamples(s, ['collector_otlp_requests_total']),
    requestsOk: sumSamples(s, ['collector_otlp_requests_total'], { code: '200' }),
    bytes: sumSamples(s, ['collector_otlp_request_bytes_total']),
    orders: sumSamples(s, [OTLP_CHECKOUT, `${OTLP_CHECKOUT}_total`]),
  };
}

/** What one run (or the warm-up) exported and what the receiver counted of it. */
export interface OtlpTraffic {
  exports: number;
  exportsFailed: number;
  pointsExported: number;
  pointsAccepted: number;
  pointsRefused: number;
  /** Requests the receiver answered (retries included) and those answered 200. */
  requests: number;
  requestsOk: number;
  /** Request body bytes the receiver read. */
  bytes: number;
  ordersRecorded: number;
  /** Orders newly carried by successful exports (increase of the cumulative total exported). */
  ordersExported: number;
  /** Increase of the receiver's `checkout_otlp` series. */
  ordersDelivered: number;
}

export interface OtlpRunResult extends OtlpTraffic {
  cost: CostSummary;
  export: OtlpExportSample;
}

export interface OtlpPathDeps {
  clock: Clock;
  httpUrl: string;
  readOtlpCounts: (httpUrl: string) => Promise<OtlpCounts>;
  sleep: (ms: number) => Promise<void>;
  /** Bound on waiting for the receiver's request counter to show every export. */
  settleTimeoutMs: number;
}

const NO_TRAFFIC: OtlpTraffic = Object.freeze({
  exports: 0,
  exportsFailed: 0,
  pointsExported: 0,
  pointsAccepted: 0,
  pointsRefused: 0,
  requests: 0,
  requestsOk: 0,
  bytes: 0,
  ordersRecorded: 0,
  ordersExported: 0,
  ordersDelivered: 0,
});

/** One recorder (one MeterProvider) for the whole experiment; tracks the cumulative total exported. */
export class OtlpPath {
  private ordersExportedSoFar = 0;

  constructor(
    private readonly rec: OtlpRecorder,
    private readonly deps: OtlpPathDeps,
  ) {}

  /** The timed record loop, then one export, then the receiver's counts. */
  async timedRun(events: readonly CheckoutEvent[]): Promise<OtlpRunResult> {
    const before = await this.deps.readOtlpCounts(this.deps.httpUrl);
    const cost = summarizeNs(timeEach(events, this.rec.record, this.deps.clock));
    const sample = await this.rec.exportOnce();
    const traffic = await this.traffic(before, [sample], events.length);
    return { ...traffic, cost, export: sample };
  }

  /** Untimed records in chunks of 250, one export per chunk (so the export path is warm too). */
  async warmUp(n: number, seed: number): Promise<OtlpTraffic> {
    if (n <= 0) return { ...NO_TRAFFIC };
    const before = await this.deps.readOtlpCounts(this.deps.httpUrl);
    const chunk = 250;
    const events = makeCheckoutEvents(Math.min(n, chunk), seed);
    const samples: OtlpExportSample[] = [];
    for (let done = 0; done < n; done += chunk) {
      const k = Math.min(chunk, n - done);
      for (let i = 0; i < k; i++) this.rec.record(events[i]!);
      samples.push(await this.rec.exportOnce());
    }
    return this.traffic(before, samples, n);
  }

  shutdown(): Promise<void> {
    return this.rec.shutdown();
  }

  private async traffic(
    before: OtlpCounts,
    samples: readonly OtlpExportSample[],
    recorded: number,
  ): Promise<OtlpTraffic> {
    const after = await this.settle(before, samples.filter((s) => s.ok).length);
    let ordersExported = 0;
    for (const s of samples) {
      if (!s.ok) continue;
      // Cumulative: each successful export carries the total since the provider started.
      ordersExported += s.orders - this.ordersExportedSoFar;
      this.ordersExportedSoFar = s.orders;
    }
    return {
      exports: samples.length,
      exportsFailed: samples.filter((s) => !s.ok).length,
      pointsExported: samples.reduce((a, s) => a + s.points, 0),
      pointsAccepted: after.accepted - before.accepted,
      pointsRefused: after.refused - before.refused,
      requests: after.requests - before.requests,
      requestsOk: after.requestsOk - before.requestsOk,
      bytes: after.bytes - before.bytes,
      ordersRecorded: recorded,
      ordersExported,
      ordersDelivered: after.orders - before.orders,
    };
  }

  /**
   * Points are applied before the receiver answers, but it counts the request once the answer is written:
   * poll (bounded) until every successful export shows in its request counter (a failed one may never).
   */
  private async settle(before: OtlpCounts, exports: number): Promise<OtlpCounts> {
    const pollMs = 20;
    let now = await this.deps.readOtlpCounts(this.deps.httpUrl);
    for (let waited = 0; now.requests - before.requests < exports; waited += pollMs) {
      if (waited >= this.deps.settleTimeoutMs) break;
      await this.deps.sleep(pollMs);
      now = await this.deps.readOtlpCounts(this.deps.httpUrl);
    }
    return now;
  }
}

export interface OtlpRow {
  /** Per-event record cost (counter.add): median over the warm runs of each statistic. */
  cost: CostSummary;
  /** The cold run (first calls in the process, first export: new connection, cold serialiser). */
  cold: CostSummary;
  /** p99 of each warm run. */
  p99NsRepeats: number[];
  temporality: 'cumulative';
  /** One export per run of every accumulated point: warm medians, and the cold run's. */
  export: {
    wallNs: number;
    cpuNs: number;
    collectNs: number;
    serializeNs: number;
    points: number;
    wallNsCold: number;
    cpuNsCold: number;
  };
  /** Totals over every timed run (cold + warm). */
  totals: OtlpTraffic;
  /** The cold run first, then each warm run. */
  perRun: OtlpTraffic[];
  /** Distinct errors of failed exports (the exporter's final result, after its retries). */
  errors: string[];
}

function sumTraffic(runs: readonly OtlpTraffic[]): OtlpTraffic {
  const out: OtlpTraffic = { ...NO_TRAFFIC };
  for (const r of runs) for (const k of Object.keys(out) as (keyof OtlpTraffic)[]) out[k] += r[k];
  return out;
}

/** The row from the timed runs (cold first). Pure. */
export function otlpRow(runs: readonly OtlpRunResult[]): OtlpRow {
  const warm = runs.slice(1);
  const cold = runs[0]!;
  const m = (f: (s: OtlpExportSample) => number) => median(warm.map((r) => f(r.export)));
  const perRun = runs.map(({ cost: _c, export: _e, ...traffic }) => traffic);
  return {
    cost: medianSummary(warm.map((r) => r.cost)),
    cold: cold.cost,
    p99NsRepeats: warm.map((r) => r.cost.p99Ns),
    temporality: 'cumulative',
    export: {
      wallNs: m((s) => s.wallNs),
      cpuNs: m((s) => s.cpuNs),
      collectNs: m((s) => s.collectNs),
      serializeNs: m((s) => s.serializeNs),
      points: m((s) => s.points),
      wallNsCold: cold.export.wallNs,
      cpuNsCold: cold.export.cpuNs,
    },
    totals: sumTraffic(perRun),
    perRun,
    errors: [...new Set(runs.flatMap((r) => (r.export.error === null ? [] : [r.export.error])))],
  };
}
