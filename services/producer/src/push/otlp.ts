import dc from 'node:diagnostics_channel';
import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { Counter, Gauge, Histogram } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type InstrumentType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { OtlpTemporality } from '@pushpull/common';
import type { LedgerCounts } from '../ledger.ts';
import type { LabelSets } from '../model/labels.ts';
import { type Order, SIDES } from '../model/workload.ts';

// The OTLP push path of one pod: its own OpenTelemetry MeterProvider with a PeriodicExportingMetricReader
// and the OTLP/HTTP protobuf exporter, as an instrumented service runs it. Nothing here re-implements the
// SDK; three seams only:
//   - CountingExporter delegates to the real exporter and counts what the SDK handed it and the final
//     result it reported (the ground truth of the ledger: exports, points, failures);
//   - OffsetReader starts the SDK's own interval at the pod's flush boundary (jitter on: its seeded offset
//     in the interval; off: the wall-clock boundary t mod interval = 0 shared by every pod and producer);
//   - each pod's exporter gets its own http.Agent, so the HTTP requests it sends (retries included: the
//     exporter retries 429/502/503/504 inside one export and reports only the final outcome) are counted
//     per pod from node's `http.client.*` diagnostics channels.

/** Instrument names (docs/contracts.md "Producer"): the StatsD names, latency in ms with the pull buckets. */
export const OTLP_METRICS = {
  orders: 'orders',
  latency: 'order.latency',
  rejects: 'order.rejects',
  queueDepth: 'order.queue_depth',
  heartbeat: 'heartbeat',
} as const;
export const OTLP_LATENCY_BUCKETS_MS = [5, 10, 25, 50, 75, 100, 250, 500, 1000, 2500, 5000, 10000];
/** The exporter's own default request timeout; shorter when the interval is (see OtlpPodOptions). */
export const OTLP_MAX_TIMEOUT_MS = 10_000;
/**
 * Bound on a pod's shutdown (the final export, retries included), so a quiesce or a stop against a receiver
 * that does not answer ends; an export still running then reports its result to the ledger when it ends.
 */
export const OTLP_SHUTDOWN_TIMEOUT_MS = 5_000;

type OtlpCounts = Required<LedgerCounts>;

/** Data points in one export, and the sum of its `orders` points. */
export function pointsIn(rm: ResourceMetrics): { points: number; orders: number } {
  let points = 0;
  let orders = 0;
  for (const sm of rm.scopeMetrics)
    for (const m of sm.metrics) {
      points += m.dataPoints.length;
      if (m.descriptor.name === OTLP_METRICS.orders)
        for (const dp of m.dataPoints) orders += dp.value as number;
    }
  return { points, orders };
}

/** Delegates to the real exporter; counts every export the SDK hands it and the result it reports. */
export class CountingExporter implements PushMetricExporter {
  constructor(
    private readonly inner: PushMetricExporter,
    private readonly ledger: OtlpCounts,
    private readonly temporality: OtlpTemporality,
  ) {}

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const { points, orders } = pointsIn(metrics);
    const led = this.ledger;
    led.otlpExports++;
    this.inner.export(metrics, (result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        led.otlpPointsExported += points;
        // Cumulative points carry the totals since the provider started: the receiver now holds this many.
        // Exports of one reader never overlap (it skips a tick while one is running), hence max for safety.
        if (this.temporality === 'cumulative')
          led.otlpOrdersExported = Math.max(led.otlpOrdersExported, orders);
        else led.otlpOrdersExported += orders;
      } else {
        led.otlpExportsFailed++;
        led.otlpPointsFailed += points;
      }
      resultCallback(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  // The reader asks its exporter which temporality and aggregation to use: pass the real one's answer on.
  selectAggregationTemporality(t: InstrumentType): AggregationTemporality {
    return this.inner.selectAggregationTemporality?.(t) ?? AggregationTemporality.CUMULATIVE;
  }

  selectAggregation(t: InstrumentType) {
    return this.inner.selectAggregation!(t);
  }
}

/** The SDK's periodic reader, its interval started `startInMs` from now instead of at construction. */
class OffsetReader extends PeriodicExportingMetricReader {
  private startTimer: NodeJS.Timeout | null = null;
  private readonly startInMs: number;

  constructor(options: ConstructorParameters<typeof PeriodicExportingMetricReader>[0], startInMs: number) {
    super(options);
    this.startInMs = startInMs;
  }

  protected override onInitialized(): void {
    this.startTimer = setTimeout(() => {
      this.startTimer = null;
      super.onInitialized();
    }, this.startInMs);
    this.startTimer.unref();
  }

  protected override onShutdown(): Promise<void> {
    if (this.startTimer !== null) clearTimeout(this.startTimer);
    this.startTimer = null;
    return super.onShutdown();
  }
}

// Per-pod HTTP accounting: one subscription per process, each pod's agent mapped to its ledger.
const agentLedgers = new WeakMap<http.Agent, OtlpCounts>();
let subscribers = 0;
interface ClientRequestMessage {
  request: http.ClientRequest & { agent?: http.Agent };
}
interface ClientResponseMessage extends ClientRequestMessage {
  response: http.IncomingMessage;
}
const RETRYABLE = new Set([429, 502, 503, 504]);
function onRequestStart(m: unknown): void {
  const led = agentLedgers.get((m as ClientRequestMessage).request.agent as http.Agent);
  if (led) led.otlpRequests++;
}
function onResponseFinish(m: unknown): void {
  const { request, response } = m as ClientResponseMessage;
  const led = agentLedgers.get(request.agent as http.Agent);
  if (led && RETRYABLE.has(response.statusCode ?? 0)) led.otlpRequestsRetryable++;
}
function subscribe(): void {
  if (subscribers++ > 0) return;
  dc.subscribe('http.client.request.start', onRequestStart);
  dc.subscribe('http.client.response.finish', onResponseFinish);
}
function unsubscribe(): void {
  if (--subscribers > 0) return;
  dc.unsubscribe('http.client.request.start', onRequestStart);
  dc.unsubscribe('http.client.response.finish', onResponseFinish);
}

export interface OtlpPodOptions {
  podId: string;
  /** The producer's name: resource attribute `container`, like the pull path's label. */
  producer: string;
  /** `http://HOST:PORT/v1/metrics` */
  url: string;
  temporality: OtlpTemporality;
  intervalMs: number;
  /** When the reader's interval starts, ms from now (the pod's flush boundary). */
  startInMs: number;
}

/** One pod's MeterProvider and instruments. The record path allocates nothing (shared attribute objects). */
export class OtlpPod {
  private readonly provider: MeterProvider;
  private readonly agent: http.Agent;
  private readonly orders: Counter;
  private readonly latency: Histogram;
  private readonly rejects: Counter;
  private readonly depth: Gauge;
  private readonly beat: Counter;
  private stopping: Promise<void> | null = null;
  private readonly shutdownTimeoutMs: number;

  constructor(
    opts: OtlpPodOptions,
    private readonly ledger: OtlpCounts,
    private readonly labels: LabelSets,
  ) {
    // One keep-alive connection per pod, as one process per pod would have.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agentLedgers.set(this.agent, ledger);
    subscribe();
    const agent = this.agent;
    // Retries (and the request timeout) stay inside one interval, like the reader's own export timeout.
    const timeoutMillis = Math.min(OTLP_MAX_TIMEOUT_MS, opts.intervalMs);
    this.shutdownTimeoutMs = Math.min(OTLP_SHUTDOWN_TIMEOUT_MS, timeoutMillis + 500);
    const exporter = new OTLPMetricExporter({
      url: opts.url,
      timeoutMillis,
      temporalityPreference:
        opts.temporality === 'delta'
          ? AggregationTemporalityPreference.DELTA
          : AggregationTemporalityPreference.CUMULATIVE,
      httpAgentOptions: async () => agent,
    });
    const reader = new OffsetReader(
      {
        exporter: new CountingExporter(exporter, ledger, opts.temporality),
        exportIntervalMillis: opts.intervalMs,
        exportTimeoutMillis: timeoutMillis,
      },
      opts.startInMs,
    );
    this.provider = new MeterProvider({
      resource: resourceFromAttributes({
        'service.name': 'order-router',
        'service.instance.id': opts.podId,
        pod: opts.podId,
        container: opts.producer,
      }),
      readers: [reader],
    });
    const meter = this.provider.getMeter('pushpull-producer');
    this.orders = meter.createCounter(OTLP_METRICS.orders, { unit: '{order}' });
    this.latency = meter.createHistogram(OTLP_METRICS.latency, {
      unit: 'ms',
      advice: { explicitBucketBoundaries: OTLP_LATENCY_BUCKETS_MS },
    });
    this.rejects = meter.createCounter(OTLP_METRICS.rejects, { unit: '{order}' });
    this.depth = meter.createGauge(OTLP_METRICS.queueDepth, { unit: '{order}' });
    this.beat = meter.createCounter(OTLP_METRICS.heartbeat);
  }

  /** The push send path for one order: the SDK's counter.add / histogram.record. */
  order(o: Order): void {
    const l = this.labels;
    this.orders.add(1, l.orderLabels[o.instrument]![o.region * SIDES.length + o.side]!);
    this.latency.record(o.latencyMs, l.regionLabels[o.region]!);
    const led = this.ledger;
    led.ordersPushed++;
    led.pushEvents += 2;
    if (o.rejected) {
      this.rejects.add(1, l.rejectLabels[o.region]![o.rejectReason]!);
      led.pushEvents++;
    }
  }

  queueDepth(depth: number): void {
    this.depth.record(depth);
    this.ledger.pushEvents++;
  }

  heartbeat(): void {
    this.beat.add(1);
    this.ledger.heartbeats++;
    this.ledger.pushEvents++;
  }

  /**
   * Stops the pod: the SDK's shutdown runs a final forceFlush export (counted like any other) and stops
   * the reader; nothing is exported afterwards. Resolves when that is done or after the shutdown bound,
   * whichever comes first. Idempotent.
   */
  shutdown(): Promise<void> {
    if (this.stopping === null) {
      // The SDK's own shutdown ends by itself: it waits for a running export, exports once more and drains
      // the exporter, each export bounded by the exporter's timeout, retries included. The pod's agent and
      // its request counting stay until then, so an export that outlives the bound is still counted
      // request by request and its connection is not cut.
      const ended = this.provider
        .shutdown()
        .catch(() => {
          // a failed final export is counted by CountingExporter (when its result arrives)
        })
        .finally(() => {
          this.agent.destroy();
          unsubscribe();
        });
      this.stopping = Promise.race([ended, delay(this.shutdownTimeoutMs, undefined, { ref: false })]);
    }
    return this.stopping;
  }
}
