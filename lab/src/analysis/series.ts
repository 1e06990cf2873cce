import type { ProbeSample } from '../core/record.ts';

// Pure helpers over the probe time series: per-second rates from cumulative counters, peaks.

export type Getter = (s: ProbeSample) => number | null | undefined;

export interface Point {
  /** Seconds relative to the burst instant (T0); negative = before the open. */
  x: number;
  y: number | null;
}

export function relSeconds(s: ProbeSample, burstAtMs: number): number {
  return (s.tMs - burstAtMs) / 1000;
}

/** A gauge-like series as points. */
export function gaugeSeries(samples: readonly ProbeSample[], burstAtMs: number, get: Getter): Point[] {
  return samples.map((s) => {
    const v = get(s);
    return {
      x: relSeconds(s, burstAtMs),
      y: v === null || v === undefined || !Number.isFinite(v) ? null : v,
    };
  });
}

/**
 * Per-second rate of a cumulative counter: Δvalue / Δt between this sample and the previous sample that
 * had a value. A decrease (counter reset) yields null rather than a negative rate.
 */
export function rateSeries(samples: readonly ProbeSample[], burstAtMs: number, get: Getter): Point[] {
  const out: Point[] = [];
  let prev: { t: number; v: number } | null = null;
  for (const s of samples) {
    const v = get(s);
    const x = relSeconds(s, burstAtMs);
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out.push({ x, y: null });
      continue;
    }
    if (prev === null || s.tMs <= prev.t || v < prev.v) out.push({ x, y: null });
    else out.push({ x, y: ((v - prev.v) * 1000) / (s.tMs - prev.t) });
    prev = { t: s.tMs, v };
  }
  return out;
}

/**
 * Rate of a counter that Prometheus updates only once per scrape interval (e.g. stored orders): the
 * increase is spread over the time since the last change, so the chart shows a rate, not spikes.
 */
export function steppedRateSeries(samples: readonly ProbeSample[], burstAtMs: number, get: Getter): Point[] {
  const out: Point[] = samples.map((s) => ({ x: relSeconds(s, burstAtMs), y: null as number | null }));
  let lastChange: { i: number; t: number; v: number } | null = null;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const v = get(s);
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (lastChange === null) {
      lastChange = { i, t: s.tMs, v };
      continue;
    }
    if (v === lastChange.v) continue;
    if (v < lastChange.v || s.tMs <= lastChange.t) {
      lastChange = { i, t: s.tMs, v };
      continue;
    }
    const rate = ((v - lastChange.v) * 1000) / (s.tMs - lastChange.t);
    for (let j = lastChange.i + 1; j <= i; j++) out[j]!.y = rate;
    lastChange = { i, t: s.tMs, v };
  }
  return out;
}

export function peak(points: readonly Point[]): number | null {
  let best: number | null = null;
  for (const p of points) if (p.y !== null && (best === null || p.y > best)) best = p.y;
  return best;
}

export function gaugePeak(samples: readonly ProbeSample[], get: Getter): number | null {
  let best: number | null = null;
  for (const s of samples) {
    const v = get(s);
    if (v !== null && v !== undefined && Number.isFinite(v) && (best === null || v > best)) best = v;
  }
  return best;
}

/** Kernel drops on the collector's own UDP socket (exact, per socket; null when the collector lacks it). */
export function socketDropCounter(s: ProbeSample): number | null {
  return s.collector?.socketDrops ?? null;
}

/**
 * Kernel UDP drops of the receiving network namespace: node-exporter's InErrors (⊇ RcvbufErrors), else the
 * collector's own reading of /proc/net/snmp. Host-wide on the process runtime.
 */
export function udpDropCounter(s: ProbeSample): number | null {
  const n = s.node;
  if (n && (n.inErrors !== null || n.rcvbufErrors !== null))
    return Math.max(n.inErrors ?? 0, n.rcvbufErrors ?? 0);
  const c = s.collector;
  if (c && (c.kernelInErrors !== null || c.kernelRcvbufErrors !== null))
    return Math.max(c.kernelInErrors ?? 0, c.kernelRcvbufErrors ?? 0);
  return null;
}

/** Drops the collector itself counted after the socket (parse errors, rejected series, queue drops). */
export function collectorDropCounter(s: ProbeSample): number | null {
  const c = s.collector;
  if (!c) return null;
  if (c.parseErrors === null && c.seriesRejected === null && c.otherDrops === null) return null;
  return (c.parseErrors ?? 0) + (c.seriesRejected ?? 0) + (c.otherDrops ?? 0);
}

/**
 * Pull delivered, per second, as stored: the recording rule pushpull:pull_orders:rate30s when Prometheus
 * evaluated it (cheap, computed inside Prometheus), else the stepped rate of the stored total.
 */
/**
 * The push path's delivered orders/s as Prometheus stored them (recording rule pushpull:push_orders:rate30s,
 * the same kind of measure as the pull path's); run@1 records, which read the collector's whole
 * exposition every tick, fall back to the collector's own count.
 */
export function pushDeliveredRate(samples: readonly ProbeSample[], burstAtMs: number): Point[] {
  if (
    samples.some((s) => s.pull?.storedPushOrdersRate !== null && s.pull?.storedPushOrdersRate !== undefined)
  )
    return gaugeSeries(samples, burstAtMs, (s) => s.pull?.storedPushOrdersRate);
  return rateSeries(samples, burstAtMs, (s) => s.collector?.orders);
}

/** The push path's delivered count so far: stored in Prometheus (run@2), else the collector's (run@1). */
export function pushDeliveredCount(s: ProbeSample): number | null | undefined {
  return s.pull?.storedPushOrders ?? s.collector?.orders;
}

export function pullDeliveredRate(samples: readonly ProbeSample[], burstAtMs: number): Point[] {
  if (samples.some((s) => s.pull?.storedOrdersRate !== null && s.pull?.storedOrdersRate !== undefined))
    return gaugeSeries(samples, burstAtMs, (s) => s.pull?.storedOrdersRate);
  return steppedRateSeries(samples, burstAtMs, (s) => s.pull?.storedOrders);
}
