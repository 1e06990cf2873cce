import type { FalsePage, PathName, ProbeSample, Visibility } from '../core/record.ts';
import { ALERT_PATH } from './failures.ts';

// Time-to-visibility (lab/README.md "Visibility") and the pages the open cost. Pure functions of the
// probe series.

/** One reading of a cumulative count. */
export interface CountAt {
  tMs: number;
  v: number;
}

/** Linear interpolation of a cumulative count at `t` (null before the first reading). */
function countAt(points: readonly CountAt[], t: number): number | null {
  if (points.length === 0 || t < points[0]!.tMs) return null;
  for (let i = 1; i < points.length; i++) {
    const b = points[i]!;
    if (b.tMs < t) continue;
    const a = points[i - 1]!;
    return b.tMs === a.tMs ? b.v : a.v + ((b.v - a.v) * (t - a.tMs)) / (b.tMs - a.tMs);
  }
  return points[points.length - 1]!.v;
}

/** The q-quantile of delays where Infinity stands for "never caught up" (null when it lands there). */
function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const v = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return Number.isFinite(v) ? v : null;
}

/**
 * For each whole second t of [fromMs, toMs]: the delay until the stored count first reached what was
 * emitted by t, scaled by `deliveredRatio` (the path's final delivered / emitted) so that orders the path
 * lost — reported by cause — do not also count as late. A stored reading at time u means "stored by u":
 * the delay is an upper bound at the stored series' resolution.
 */
export function visibilityOf(
  emitted: readonly CountAt[],
  stored: readonly CountAt[],
  window: { fromMs: number; toMs: number },
  deliveredRatio: number,
  method: string,
  /**
   * Until when the stored series is known complete (the moment it was read after the run): with no reading
   * after t, a second is "never caught up" rather than unmeasured when the read itself came after the burst
   * — Prometheus answered, it simply had stored nothing more (e.g. it could not scrape the collector).
   */
  readAtMs?: number,
): Visibility | null {
  const ratio = Math.min(1, Math.max(0, deliveredRatio));
  const delays: number[] = [];
  // "Never caught up" needs a reading after the burst that is still short; with no reading after t at all
  // (Prometheus stopped answering), the second is not measured rather than counted as late.
  const lastReading = Math.max(
    stored[stored.length - 1]?.tMs ?? Number.NEGATIVE_INFINITY,
    readAtMs ?? Number.NEGATIVE_INFINITY,
  );
  let unmeasured = 0;
  for (let t = window.fromMs; t <= window.toMs; t += 1000) {
    const e = countAt(emitted, t);
    if (e === null) continue;
    const target = e * ratio - 0.5;
    const hit = stored.find((p) => p.tMs >= t && p.v >= target);
    if (hit) delays.push((hit.tMs - t) / 1000);
    else if (lastReading >= window.toMs) delays.push(Number.POSITIVE_INFINITY);
    else unmeasured++;
  }
  if (delays.length === 0) return null;
  delays.sort((a, b) => a - b);
  return {
    p50Seconds: quantile(delays, 0.5),
    p90Seconds: quantile(delays, 0.9),
    seconds: delays.length,
    neverCaughtUp: delays.filter((d) => !Number.isFinite(d)).length,
    unmeasured,
    resolutionSeconds: resolution(stored, window),
    method,
  };
}

/** The largest gap between consecutive stored readings that overlaps the window, in seconds. */
function resolution(stored: readonly CountAt[], window: { fromMs: number; toMs: number }): number | null {
  let gap: number | null = null;
  for (let i = 1; i < stored.length; i++) {
    const a = stored[i - 1]!.tMs;
    const b = stored[i]!.tMs;
    if (b < window.fromMs || a > window.toMs) continue;
    gap = Math.max(gap ?? 0, (b - a) / 1000);
  }
  return gap;
}

/** A path's emitted and stored series from the probe samples (complete ledger ticks only). */
export function pathCounts(
  samples: readonly ProbeSample[],
  path: PathName,
  producers: number,
): { emitted: CountAt[]; stored: CountAt[] } {
  const emitted: CountAt[] = [];
  const stored: CountAt[] = [];
  let lastStored: number | null = null;
  for (const s of samples) {
    const e = path === 'pull' ? s.ledger?.orders : s.ledger?.ordersPushed;
    if (e !== undefined && e !== null && s.ledgerProducers === producers) emitted.push({ tMs: s.tMs, v: e });
    const st = path === 'pull' ? s.pull?.storedOrders : s.pull?.storedPushOrders;
    // A reading repeats until the stored-orders probe runs again: keep only fresh values.
    if (st !== undefined && st !== null && st !== lastStored) {
      stored.push({ tMs: s.tMs, v: st });
      lastStored = st;
    }
  }
  return { emitted, stored };
}

/**
 * Alerts that fired between the open and quiesce. A burst injects no fault, so each one is a page the
 * open itself cost the on-call engineer.
 */
export function falsePagesOf(
  samples: readonly ProbeSample[],
  window: { fromMs: number; toMs: number },
): FalsePage[] {
  const pages = new Map<string, FalsePage>();
  for (const s of samples) {
    if (s.tMs < window.fromMs || s.tMs > window.toMs || !s.alerts) continue;
    for (const a of s.alerts) {
      if (a.state !== 'firing') continue;
      const p = pages.get(a.name);
      if (p) p.maxFiring = Math.max(p.maxFiring, a.count);
      else
        pages.set(a.name, {
          alert: a.name,
          path: ALERT_PATH[a.name] ?? 'both',
          firstFiringS: (s.tMs - window.fromMs) / 1000,
          maxFiring: a.count,
        });
    }
  }
  return [...pages.values()].sort((a, b) => a.firstFiringS - b.firstFiringS);
}
