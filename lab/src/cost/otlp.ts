// OTLP push path: the OpenTelemetry metrics SDK records the same checkout events (counter.add with the
// same labels) and exports the accumulated points over OTLP/HTTP (protobuf) to the collector's receiver.
//
// One MeterProvider for the whole experiment, as one service process has one: its counter keeps the
// cumulative totals (the SDK's default temporality, what most users run), and every export sends one point
// per series seen. Nothing here re-implements the SDK. The one seam is the reader: the SDK's
// PeriodicExportingMetricReader would export on its own timer and again at shutdown, so a bare MetricReader
// (the SDK's base class) is used and the run calls collect() + the real exporter itself — exactly what the
// periodic reader does once per interval — and can time each step of that one export.

import type { Counter } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  MetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Clock } from '@pushpull/common';
import type { CheckoutEvent } from './events.ts';

/**
 * The instrument's name. Not `checkout`: the StatsD rows write that name, and the collector refuses an OTLP
 * point whose name StatsD owns (type_conflict). Exposed by the collector as `checkout_otlp` (a monotonic
 * sum: `checkout_otlp_total` with --strict-names).
 */
export const OTLP_CHECKOUT = 'checkout_otlp';

/** One export of the accumulated points: what the caller pays once per interval. */
export interface OtlpExportSample {
  /** reader.collect(): the SDK gathering the accumulated points. */
  collectNs: number;
  /** The synchronous part of exporter.export(): protobuf serialisation, handing the request to http. */
  serializeNs: number;
  /** collect start to the exporter's result (the receiver has answered). */
  wallNs: number;
  /** This process's CPU (user + system) over the same span; an in-process collector's share included. */
  cpuNs: number;
  /** Data points in the export. */
  points: number;
  /** Sum of the export's `checkout_otlp` points: orders recorded since the provider started (cumulative). */
  orders: number;
  ok: boolean;
  /** The exporter's error when the export failed (after its own retries). */
  error: string | null;
}

export interface OtlpRecorder {
  record(e: CheckoutEvent): void;
  /** Collects and exports once; never rejects (a failure is in the sample). */
  exportOnce(): Promise<OtlpExportSample>;
  shutdown(): Promise<void>;
}

/** The SDK's reader base without a timer: points leave only when the run calls collect(). */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

function pointsIn(rm: ResourceMetrics): { points: number; orders: number } {
  let points = 0;
  let orders = 0;
  for (const sm of rm.scopeMetrics)
    for (const m of sm.metrics) {
      points += m.dataPoints.length;
      if (m.descriptor.name === OTLP_CHECKOUT) for (const dp of m.dataPoints) orders += dp.value as number;
    }
  return { points, orders };
}

/**
 * The real exporter's export(), timed: the synchronous part (protobuf serialisation, handing the request to
 * http) and the result. The exporter always reports, after its own timeout at the latest; `limitMs` bounds
 * the wait against a bug, not a case.
 */
function exportTimed(
  exporter: PushMetricExporter,
  rm: ResourceMetrics,
  clock: Clock,
  limitMs: number,
): Promise<{ result: ExportResult; serializeNs: number }> {
  return new Promise((resolve) => {
    let serializeNs = 0;
    const timer = setTimeout(() => {
      const error = new Error(`no export result in ${limitMs} ms`);
      resolve({ result: { code: ExportResultCode.FAILED, error }, serializeNs });
    }, limitMs);
    const t0 = clock.hrtimeNs();
    exporter.export(rm, (result) => {
      clearTimeout(timer);
      // A result before export() returns (nothing to send, queue full): that call was the whole step.
      resolve({ result, serializeNs: serializeNs || Number(clock.hrtimeNs() - t0) });
    });
    serializeNs = Number(clock.hrtimeNs() - t0);
  });
}

let providers = 0;

export interface OtlpRecorderOptions {
  /** The receiver's base URL, `http://127.0.0.1:PORT` (the exporter posts to /v1/metrics). */
  url: string;
  /** The exporter's request timeout (its retries stay inside it); the export gives up 1 s after it. */
  timeoutMs: number;
}

export function createOtlpRecorder(opts: OtlpRecorderOptions, clock: Clock): OtlpRecorder {
  const exporter = new OTLPMetricExporter({ url: `${opts.url}/v1/metrics`, timeoutMillis: opts.timeoutMs });
  const reader = new OnDemandReader({
    aggregationTemporalitySelector: (t) => exporter.selectAggregationTemporality(t),
    aggregationSelector: (t) => exporter.selectAggregation(t),
  });
  const provider = new MeterProvider({
    // A new instance per provider: the collector keeps one series set per instance, so a second experiment
    // against the same collector starts its own cumulative series instead of going backwards on the first.
    resource: resourceFromAttributes({
      'service.name': 'lab-cost',
      'service.instance.id': `lab-cost-${process.pid}-${++providers}`,
    }),
    readers: [reader],
  });
  const counter: Counter = provider.getMeter('pushpull-lab-cost').createCounter(OTLP_CHECKOUT);
  return {
    record: (e) => counter.add(1, e.labels as unknown as Record<string, string>),
    async exportOnce() {
      const cpu0 = process.cpuUsage();
      const t0 = clock.hrtimeNs();
      let rm: ResourceMetrics;
      try {
        rm = (await reader.collect({ timeoutMillis: opts.timeoutMs })).resourceMetrics;
      } catch (e) {
        // Nothing collected, nothing sent: a failed export of no points (the SDK's own periodic reader logs it).
        const ns = Number(clock.hrtimeNs() - t0);
        const failed = {
          collectNs: ns,
          serializeNs: 0,
          wallNs: ns,
          cpuNs: 0,
          points: 0,
          orders: 0,
          ok: false,
        };
        return { ...failed, error: `collect: ${(e as Error).message}` };
      }
      const collectNs = Number(clock.hrtimeNs() - t0);
      const { points, orders } = pointsIn(rm);
      const { result, serializeNs } = await exportTimed(exporter, rm, clock, opts.timeoutMs + 1000);
      const wallNs = Number(clock.hrtimeNs() - t0);
      const cpu = process.cpuUsage(cpu0);
      const ok = result.code === ExportResultCode.SUCCESS;
      return {
        collectNs,
        serializeNs,
        wallNs,
        cpuNs: (cpu.user + cpu.system) * 1000,
        points,
        orders,
        ok,
        error: ok ? null : String(result.error?.message ?? result.error ?? 'failed'),
      };
    },
    async shutdown() {
      await provider.shutdown({ timeoutMillis: opts.timeoutMs });
      await exporter.shutdown();
    },
  };
}
