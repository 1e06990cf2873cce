import { parseBytes } from '@pushpull/common';
import { httpText } from '../../core/http.ts';
import { abortableSleep, mapLimit } from '../../core/time.ts';
import { ControlClient } from '../../probe/control.ts';
import { collectorSnapshot, parseExposition } from '../../probe/exposition.ts';
import type { Cell } from '../grid.ts';
import { pct, type Stack } from '../harness.ts';
import type { Scenario } from '../scenario.ts';
import type { ModeOutcome } from './types.ts';

// Synchronised export, OTLP: every pod's MeterProvider exports on the same wall-clock boundary (jitter off)
// or at its own offset (jitter on). The receiver's side of it is read from its self-metrics, polled every
// POLL_MS: requests per poll (all answers), requests answered 429/503 (its in-flight byte budget full) and
// the in-flight bytes gauge. Loss: every pod quiesced (its final export), against the ledgers.

export const POLL_MS = 100;
const MAX_POLLS = 36_000; // an hour of polls: the scenario's observe window is bounded far below

export interface ReceiverSample {
  requests: number;
  throttled: number;
  inflightBytes: number;
}

/** The receiver's request counters and in-flight gauge from its self-metrics text. */
export function receiverSample(text: string): ReceiverSample {
  const out: ReceiverSample = { requests: 0, throttled: 0, inflightBytes: 0 };
  const keep = new Set(['collector_otlp_requests_total', 'collector_otlp_inflight_bytes']);
  for (const s of parseExposition(text, (n) => keep.has(n))) {
    if (!Number.isFinite(s.value)) continue;
    if (s.name === 'collector_otlp_inflight_bytes') out.inflightBytes = s.value;
    else {
      out.requests += s.value;
      if (s.labels.code === '429' || s.labels.code === '503') out.throttled += s.value;
    }
  }
  return out;
}

/** Requests per poll interval from successive samples (a counter reset counts as 0). */
export function perPoll(samples: readonly ReceiverSample[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < samples.length; i++)
    out.push(Math.max(0, samples[i]!.requests - samples[i - 1]!.requests));
  return out;
}

/** The collector flag for the scenario's OTLP in-flight budget (params.otlpMaxInflight), if it sets one. */
export function otlpCollectorFlags(s: Scenario): string[] {
  const v = s.params.otlpMaxInflight;
  return v === undefined
    ? []
    : ['--otlp-max-inflight-bytes', String(parseBytes(String(v), 'otlpMaxInflight'))];
}

async function pollReceiver(stack: Stack): Promise<ReceiverSample[]> {
  const { scenario: s, deps, endpoints } = stack;
  const samples: ReceiverSample[] = [];
  const t0 = Date.now();
  for (let i = 0; i < MAX_POLLS && Date.now() - t0 < s.observeMs; i++) {
    const started = Date.now();
    const text = await httpText(`${endpoints.collectorHttpUrl}/metrics/self`, { timeoutMs: 5000 }).catch(
      () => null,
    );
    if (text !== null) samples.push(receiverSample(text));
    await abortableSleep(Math.max(0, POLL_MS - (Date.now() - started)), deps.signal);
  }
  return samples;
}

export async function runOtlpFlush(stack: Stack): Promise<ModeOutcome> {
  const { scenario: s, variant: v, deps, endpoints } = stack;
  const out: ModeOutcome = { cells: [], metrics: {}, series: {}, notes: [] };
  const samples = await pollReceiver(stack);
  const bins = perPoll(samples);
  const st = {
    peak: Math.max(0, ...bins),
    mean: bins.length ? bins.reduce((a, b) => a + b, 0) / bins.length : 0,
  };
  out.series[`OTLP requests per ${POLL_MS} ms (${v.name})`] = bins.map((c, i) => [(i * POLL_MS) / 1000, c]);
  const finals = await mapLimit(stack.members, 8, (m) => new ControlClient(m.baseUrl).quiesce(deps.signal));
  await abortableSleep(1500, deps.signal);
  const after = collectorSnapshot(
    await httpText(`${endpoints.collectorHttpUrl}/metrics`, { timeoutMs: 10_000 }),
  );
  const sum = (k: 'ordersPushed' | 'otlpExportsFailed' | 'otlpRequestsRetryable') =>
    finals.reduce((a, l) => a + (l.total[k] ?? 0), 0);
  const pushed = sum('ordersPushed');
  const delivered = after.orders ?? 0;
  const throttled = (samples.at(-1)?.throttled ?? 0) - (samples[0]?.throttled ?? 0);
  const peakInflight = Math.max(0, ...samples.map((x) => x.inflightBytes));
  out.metrics.otlpPeakRequests = st.peak;
  out.metrics.otlpMeanRequests = st.mean;
  out.metrics.peakToMean = st.mean > 0 ? st.peak / st.mean : 0;
  out.metrics.otlpThrottled = throttled;
  out.metrics.otlpPeakInflightBytes = peakInflight;
  out.metrics.otlpExportsFailed = sum('otlpExportsFailed');
  out.cells.push(
    otlpFlushCell(s, v.name, v.push.jitter, v.push.flushIntervalMs, {
      ...st,
      throttled,
      peakInflight,
      pushed,
      delivered,
      failed: sum('otlpExportsFailed'),
      retryable: sum('otlpRequestsRetryable'),
    }),
  );
  return out;
}

export function otlpFlushCell(
  s: Scenario,
  variant: string,
  jitter: boolean,
  intervalMs: number,
  m: {
    peak: number;
    mean: number;
    throttled: number;
    peakInflight: number;
    pushed: number;
    delivered: number;
    failed: number;
    retryable: number;
  },
): Cell {
  const lost = Math.max(0, m.pushed - m.delivered);
  return {
    column: 'push-otlp',
    variant,
    detectedAfterS: null,
    detectable: false,
    signal: `peak ${m.peak} requests/${POLL_MS} ms at the receiver, ${(m.mean > 0 ? m.peak / m.mean : 0).toFixed(1)}× the mean; ${m.throttled} answered 429/503; peak in-flight ${m.peakInflight} B`,
    lostCount: lost,
    lostPct: pct(lost, m.pushed),
    detail: `${s.pods} pods exporting every ${intervalMs / 1000} s, jitter ${jitter ? 'on' : 'off'}: ${m.retryable} requests answered 429/5xx at the producers, ${m.failed} exports failed after retries; ${m.pushed} orders recorded, ${m.delivered} at the receiver`,
  };
}
