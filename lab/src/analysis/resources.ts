import type { BurstConfig, ProbeSample } from '../core/record.ts';
import { isAgentName } from '../core/record-agents.ts';
import {
  componentOf,
  type Enforcement,
  type GeneratorShortfall,
  RESOURCE_COMPONENTS,
  type ResourceComponent,
  type ResourcePlan,
  type ResourceRecord,
} from '../core/resources.ts';

// Use against budget, from the probe's per-second counters (pure): CPU used per second, the share of CFS
// periods throttled, memory peak, OOM kills — per component over a window — and the generator shortfall
// (orders the profile scheduled against those the producers generated).

type Window = { fromMs: number; toMs: number };

const inWindow = (samples: readonly ProbeSample[], w: Window) =>
  samples.filter((s) => s.tMs >= w.fromMs && s.tMs <= w.toMs);

function quantile(xs: number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** Cumulative CPU seconds of a component at a sample: the budget counters, else the runtime's per-pid reading. */
function cpuAt(s: ProbeSample, c: ResourceComponent): number | null {
  return s.resources?.[c]?.cpuSeconds ?? perPid(s.cpu, c);
}

/**
 * A component's per-pid reading; pull's (`prometheus`) includes its agents' (#29: pull's pipeline), push's
 * (`collector`) its agents' (#27: `agent-<k>`, push's pipeline).
 */
export function perPid(rec: Record<string, number> | null | undefined, c: ResourceComponent): number | null {
  if (!rec) return null;
  let v = rec[c] ?? null;
  if (c === 'prometheus') for (const [k, x] of Object.entries(rec)) if (isAgentName(k)) v = (v ?? 0) + x;
  if (c === 'collector')
    for (const [k, x] of Object.entries(rec)) if (componentOf(k) === 'collector' && k !== c) v = (v ?? 0) + x;
  return v;
}

/** Cores used in each probe second of the window. */
export function cpuUsedPerSecond(samples: readonly ProbeSample[], c: ResourceComponent, w: Window): number[] {
  const xs: number[] = [];
  let prev: { t: number; v: number } | null = null;
  for (const s of inWindow(samples, w)) {
    const v = cpuAt(s, c);
    if (v === null) continue;
    if (prev && s.tMs > prev.t && v >= prev.v) xs.push((v - prev.v) / ((s.tMs - prev.t) / 1000));
    prev = { t: s.tMs, v };
  }
  return xs;
}

/** Throttled CFS periods / periods of a component over the window (null = no counters there). */
export function throttledShareIn(
  samples: readonly ProbeSample[],
  c: ResourceComponent,
  w: Window,
): number | null {
  const xs = inWindow(samples, w).filter(
    (s) => s.resources?.[c]?.nrPeriods != null && s.resources?.[c]?.nrThrottled != null,
  );
  // One sample before the window too: a window of one second still has a difference.
  const before = [...samples].reverse().find((s) => s.tMs < w.fromMs && s.resources?.[c]?.nrPeriods != null);
  const all = before ? [before, ...xs] : xs;
  if (all.length < 2) return null;
  const a = all[0]!.resources![c]!;
  const b = all[all.length - 1]!.resources![c]!;
  const periods = b.nrPeriods! - a.nrPeriods!;
  return periods > 0 ? Math.max(0, Math.min(1, (b.nrThrottled! - a.nrThrottled!) / periods)) : 0;
}

/** Mean cores a component used over the window (null = not measured). */
export function cpuMeanIn(samples: readonly ProbeSample[], c: ResourceComponent, w: Window): number | null {
  const xs = inWindow(samples, w).filter((s) => cpuAt(s, c) !== null);
  if (xs.length < 2) return null;
  const a = xs[0]!;
  const b = xs[xs.length - 1]!;
  return (cpuAt(b, c)! - cpuAt(a, c)!) / ((b.tMs - a.tMs) / 1000);
}

/** run@3 `resources`: per component, the plan, who enforced it, and its use over the window. */
export function resourceRecords(
  plan: ResourcePlan,
  enforcement: Enforcement | null,
  samples: readonly ProbeSample[],
  w: Window,
): Record<ResourceComponent, ResourceRecord> {
  const out = {} as Record<ResourceComponent, ResourceRecord>;
  for (const c of RESOURCE_COMPONENTS) {
    const used = cpuUsedPerSecond(samples, c, w);
    const counters = samples.map((s) => s.resources?.[c]).filter((x) => x != null);
    const peaks = [
      ...counters.map((x) => x.memoryPeakBytes ?? x.memoryBytes ?? 0),
      ...samples.map((s) => perPid(s.rss, c) ?? 0),
    ];
    const ooms = counters.map((x) => x.oomKills).filter((x): x is number => x !== null);
    const e = enforcement?.[c] ?? {
      enforcedBy: 'unenforced' as const,
      note: 'this runtime enforces no budget',
    };
    out[c] = {
      cpus: plan[c].cpus,
      cpuset: plan[c].cpuset,
      memory: plan[c].memoryBytes,
      enforcedBy: e.enforcedBy,
      ...(e.note ? { note: e.note } : {}),
      cpuUsedP50: round3(quantile(used, 0.5)),
      cpuUsedP99: round3(quantile(used, 0.99)),
      throttledShare: round3(plan[c].cpus === null ? null : throttledShareIn(samples, c, w)),
      memPeakBytes: peaks.some((x) => x > 0) ? Math.max(...peaks) : null,
      // The groups are created with the run: the last reading is the run's count.
      oomKills: ooms.length > 0 ? ooms[ooms.length - 1]! : null,
    };
  }
  return out;
}

const round3 = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);

type ProfileRates = NonNullable<BurstConfig['profile']>;

/** The profile's fleet-wide rate (orders/s) at `dt` ms after the open: linear ramp, hold, linear decay. */
export function profileRateAt(p: ProfileRates, dt: number): number {
  if (dt < 0) return p.steadyOrdersPerSecond;
  if (dt < p.rampMs)
    return p.steadyOrdersPerSecond + ((p.peakOrdersPerSecond - p.steadyOrdersPerSecond) * dt) / p.rampMs;
  if (dt < p.rampMs + p.holdMs) return p.peakOrdersPerSecond;
  const d = dt - p.rampMs - p.holdMs;
  if (d < p.decayMs)
    return p.peakOrdersPerSecond + ((p.afterOrdersPerSecond - p.peakOrdersPerSecond) * d) / p.decayMs;
  return p.afterOrdersPerSecond;
}

/** Orders the profile schedules for this fleet in [a, b) ms after the open (10 ms steps: exact enough). */
export function scheduledOrders(p: ProfileRates, scale: number, a: number, b: number): number {
  let total = 0;
  for (let t = a; t < b; t += 10)
    total += (profileRateAt(p, t + Math.min(10, b - t) / 2) * Math.min(10, b - t)) / 1000;
  return total * scale;
}

/**
 * Orders the profile scheduled against those the producers generated (ledger `orders`, read from every
 * producer), per probe second of the burst window. Null without a profile or two complete ledger readings.
 */
export function generatorShortfall(
  samples: readonly ProbeSample[],
  config: Pick<BurstConfig, 'profile' | 'pods' | 'fleetPods' | 'producers'>,
  burstAtMs: number,
  untilMs: number,
): GeneratorShortfall | null {
  const p = config.profile;
  if (!p) return null;
  const scale = config.pods / config.fleetPods;
  const full = samples.filter(
    (s) => s.ledger && s.ledgerProducers >= config.producers && s.tMs >= burstAtMs - 1000 && s.tMs <= untilMs,
  );
  if (full.length < 2) return null;
  const perSecond: [number, number, number][] = [];
  let scheduled = 0;
  let generated = 0;
  for (let i = 1; i < full.length; i++) {
    const a = full[i - 1]!;
    const b = full[i]!;
    const sch = scheduledOrders(p, scale, a.tMs - burstAtMs, b.tMs - burstAtMs);
    const gen = b.ledger!.orders - a.ledger!.orders;
    scheduled += sch;
    generated += gen;
    perSecond.push([Math.round((b.tMs - burstAtMs) / 100) / 10, Math.round(sch), gen]);
  }
  const top = Math.max(0, ...perSecond.map((x) => x[1]));
  const peak = perSecond.filter((x) => x[1] >= 0.9 * top);
  const peakScheduled = peak.reduce((a, x) => a + x[1], 0);
  const peakGenerated = peak.reduce((a, x) => a + x[2], 0);
  return {
    scheduled: Math.round(scheduled),
    generated,
    share: behind(scheduled, generated),
    peakShare: behind(peakScheduled, peakGenerated),
    perSecond,
  };
}

/** How far generated fell behind scheduled, as a share rounded to 0.1% (0 when it kept up or ran ahead). */
function behind(scheduled: number, generated: number): number {
  return scheduled > 0 ? Math.max(0, Math.round((1 - generated / scheduled) * 1000) / 1000) : 0;
}
