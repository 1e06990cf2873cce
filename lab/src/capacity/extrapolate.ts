import type { TrialOutcome } from './search.ts';

// What the full fleet would need, EXTRAPOLATED from the trials: per component, a straight line through the
// cores (mean over the burst window) and the peak resident memory each trial measured, against pods; read at
// the fleet's size. The basis (which trials, what range) and the fit's error against the trials themselves
// go with every number: a line fitted on 20–160 pods and read at 1,400 is an estimate, and says so. Pure.

export interface Fit {
  /** y = intercept + slope × pods. */
  intercept: number;
  slope: number;
  /** Largest |fit − measured| / measured over the trials used (in-sample); null with one point. */
  maxRelError: number | null;
  /**
   * Out of sample: the line fitted WITHOUT the largest trial, its |prediction − measured| / measured at that
   * trial (the honest error of reading a line beyond its data); null with fewer than two points.
   */
  holdoutRelError: number | null;
  points: number;
}

export interface ComponentNeed {
  component: string;
  cores: number | null;
  memoryGiB: number | null;
  coresFit: Fit | null;
  memoryFit: Fit | null;
  /** Per pod (the fit's slope), and per the component's own unit where the trials measured one. */
  perPod: { cores: number | null; memoryMiB: number | null };
  perUnit: string | null;
}

export interface Extrapolation {
  label: string;
  fleetPods: number;
  basis: string;
  /** The largest load measured, and how far beyond it the fleet lies (×). */
  largestTrialPods: number | null;
  factor: number | null;
  components: ComponentNeed[];
  total: { cores: number | null; memoryGiB: number | null };
}

/** Least squares y = a + b·x; one point (or one x) → through the origin. Null without points. */
export function fitLine(points: readonly { x: number; y: number }[]): Fit | null {
  const ps = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.x > 0);
  const f = fitOnly(ps);
  if (!f) return null;
  const largest = ps.reduce((a, b) => (b.x > a.x ? b : a), ps[0]!);
  const rest = fitOnly(ps.filter((p) => p.x < largest.x));
  const holdoutRelError =
    rest && largest.y > 0 ? Math.abs(rest.intercept + rest.slope * largest.x - largest.y) / largest.y : null;
  return { ...f, holdoutRelError };
}

function fitOnly(ps: readonly { x: number; y: number }[]): Omit<Fit, 'holdoutRelError'> | null {
  if (ps.length === 0) return null;
  const n = ps.length;
  const mx = ps.reduce((s, p) => s + p.x, 0) / n;
  const my = ps.reduce((s, p) => s + p.y, 0) / n;
  const sxx = ps.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  let slope: number;
  let intercept: number;
  if (n < 2 || sxx === 0) {
    slope = my / mx;
    intercept = 0;
  } else {
    slope = ps.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
    intercept = my - slope * mx;
    // A negative intercept or slope would predict negative needs for small fleets: fall back to proportional.
    if (slope < 0 || intercept < 0) {
      slope = ps.reduce((s, p) => s + p.x * p.y, 0) / ps.reduce((s, p) => s + p.x * p.x, 0);
      intercept = 0;
    }
  }
  const errs = ps.filter((p) => p.y > 0).map((p) => Math.abs(intercept + slope * p.x - p.y) / p.y);
  return {
    intercept,
    slope,
    maxRelError: n < 2 || errs.length === 0 ? null : Math.max(...errs),
    points: n,
  };
}

export const predict = (f: Fit | null, x: number): number | null => (f ? f.intercept + f.slope * x : null);

/** Components worth sizing per path (the lab's own process and node-exporter are not the fleet's). */
export const PATH_COMPONENTS: Record<string, readonly string[]> = {
  pull: ['prometheus', 'producers'],
  push: ['collector', 'prometheus', 'producers'],
};

const r3 = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);

function perUnitText(component: string, trials: readonly TrialOutcome[]): string | null {
  const big = [...trials].sort((a, b) => b.load - a.load)[0];
  if (!big) return null;
  const m = big.metrics;
  const rss = m[`rssGiB.${component}`];
  const cores = m[`cores.${component}`];
  if (component === 'prometheus' && m.seriesScraped && rss)
    return `${((rss * 2 ** 30) / m.seriesScraped / 1024).toFixed(1)} KiB per series scraped (${m.seriesScraped.toLocaleString('en-US')} series at ${big.load} pods)`;
  if (component === 'collector' && m.datagramsPerSecPeak && cores)
    return `${((cores / m.datagramsPerSecPeak) * 10_000).toFixed(3)} cores per 10k datagrams/s (peak ${Math.round(m.datagramsPerSecPeak).toLocaleString('en-US')}/s at ${big.load} pods)`;
  return null;
}

/**
 * The fleet's needs on one path from its trials: the held trials when there are two or more (a failed
 * trial's CPU is capped by the machine), else every finished trial.
 */
export function extrapolate(path: string, trials: readonly TrialOutcome[], fleetPods: number): Extrapolation {
  const finished = trials.filter((t) => !t.aborted && t.machine === null);
  const held = finished.filter((t) => t.held);
  const used = held.length >= 2 ? held : finished;
  const loads = used.map((t) => t.load);
  const largest = loads.length > 0 ? Math.max(...loads) : null;
  const components = (PATH_COMPONENTS[path] ?? []).map((component): ComponentNeed => {
    const pts = (key: string) =>
      used.flatMap((t) => {
        const y = t.metrics[key];
        return typeof y === 'number' ? [{ x: t.load, y }] : [];
      });
    const coresFit = fitLine(pts(`cores.${component}`));
    const memoryFit = fitLine(pts(`rssGiB.${component}`));
    return {
      component,
      cores: r3(predict(coresFit, fleetPods)),
      memoryGiB: r3(predict(memoryFit, fleetPods)),
      coresFit,
      memoryFit,
      perPod: {
        cores: coresFit ? r3(coresFit.slope) : null,
        memoryMiB: memoryFit ? r3(memoryFit.slope * 1024) : null,
      },
      perUnit: perUnitText(component, used),
    };
  });
  const sum = (f: (c: ComponentNeed) => number | null) =>
    components.some((c) => f(c) === null) ? null : r3(components.reduce((s, c) => s + f(c)!, 0));
  return {
    label: 'EXTRAPOLATION (not measured)',
    fleetPods,
    basis:
      used.length === 0
        ? 'no finished trial: nothing to extrapolate from'
        : `a straight line per component through ${used.length} ${used === held ? 'held' : 'finished'} trial(s) at ${loads.join(', ')} pods (cores: mean over the burst window; memory: peak RSS), read at ${fleetPods} pods`,
    largestTrialPods: largest,
    factor: largest ? Math.round((fleetPods / largest) * 10) / 10 : null,
    components,
    total: { cores: sum((c) => c.cores), memoryGiB: sum((c) => c.memoryGiB) },
  };
}
