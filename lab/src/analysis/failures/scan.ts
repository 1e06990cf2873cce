import type { ProbeSample } from '../../core/record.ts';
import type { Getter } from '../series.ts';

// The scans the failure detectors share: first increase of a counter, first sample matching a predicate.

/** Seconds after the burst instant, to 0.1 s. */
export const secs = (s: ProbeSample, t0: number) => Math.round((s.tMs - t0) / 100) / 10;

export const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toPrecision(3));

/** First sample at/after `fromMs` at which a cumulative counter increased over the previous value. */
export function firstIncrease(
  samples: readonly ProbeSample[],
  get: Getter,
  fromMs = Number.NEGATIVE_INFINITY,
): { sample: ProbeSample; delta: number; value: number } | null {
  let prev: number | null = null;
  for (const s of samples) {
    const v = get(s);
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (prev !== null && v > prev && s.tMs >= fromMs) return { sample: s, delta: v - prev, value: v };
    prev = v; // first value, unchanged, or a counter reset: (re-)baseline
  }
  return null;
}

/** First sample for which `pred` returns a detail. */
export function firstWhere(
  samples: readonly ProbeSample[],
  pred: (s: ProbeSample) => string | null,
): { sample: ProbeSample; detail: string } | null {
  for (const s of samples) {
    const d = pred(s);
    if (d !== null) return { sample: s, detail: d };
  }
  return null;
}
