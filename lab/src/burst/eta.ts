import type { Phase } from '../core/record.ts';

// When will the run end? A pure estimate from the run's planned phases: start (a guess: the stack coming
// up), warm-up (its bound), the lead to the open, the burst window, quiesce, the final scrapes (their
// minimum: two scrape intervals) and collect. While warm-up has not ended the estimate is an upper bound
// (warm-up usually ends well before its bound), afterwards it is close.

export interface RunPlan {
  /** Warm-up's bound: 30 s + 6 scrape intervals (burst/phases/warmup.ts). */
  warmupMaxMs: number;
  /** From scheduling the open to the open (T0). */
  leadMs: number;
  /** The burst window, T0 to quiesce (the fitted --duration). */
  burstMs: number;
  scrapeIntervalMs: number;
}

type Segment = 'start' | 'warmup' | 'scheduled' | 'burst' | 'quiesce' | 'final-scrapes' | 'collect';

const ORDER: readonly Segment[] = [
  'start',
  'warmup',
  'scheduled',
  'burst',
  'quiesce',
  'final-scrapes',
  'collect',
];

/**
 * Guesses for the phases the plan does not bound (the stack's start-up, quiesce, collect). Collect took
 * 22.6 s of a 52 s run (process runtime, 20 pods, --duration 10 --scrape-interval 2s, 2026-12-01).
 */
const START_GUESS_MS = 15_000;
const QUIESCE_GUESS_MS = 1_000;
const COLLECT_GUESS_MS = 20_000;

function segmentOf(p: Phase): Segment | null {
  if (p === 'ramp' || p === 'peak' || p === 'decay' || p === 'after') return 'burst';
  if (p === 'done') return null;
  return p;
}

function plannedMs(seg: Segment, plan: RunPlan): number {
  switch (seg) {
    case 'start':
      return START_GUESS_MS;
    case 'warmup':
      return plan.warmupMaxMs;
    case 'scheduled':
      return plan.leadMs;
    case 'burst':
      return plan.burstMs;
    case 'quiesce':
      return QUIESCE_GUESS_MS;
    case 'final-scrapes':
      // At least two scrape intervals, then the collector's count must stop moving (≥ 1 s).
      return 2 * plan.scrapeIntervalMs + 2_000;
    case 'collect':
      return COLLECT_GUESS_MS;
  }
}

export interface Eta {
  remainingMs: number;
  /** True while warm-up (estimated at its bound) is still ahead or running. */
  upperBound: boolean;
}

/**
 * Time left, from the current phase and when its segment began (the burst's segment begins at the open,
 * whatever profile phase it is in). null once the run is done.
 */
export function estimateRemaining(
  plan: RunPlan,
  phase: Phase,
  segmentStartMs: number,
  nowMs: number,
): Eta | null {
  const seg = segmentOf(phase);
  if (seg === null) return null;
  const i = ORDER.indexOf(seg);
  let remaining = Math.max(0, plannedMs(seg, plan) - (nowMs - segmentStartMs));
  for (const later of ORDER.slice(i + 1)) remaining += plannedMs(later, plan);
  return { remainingMs: remaining, upperBound: i <= ORDER.indexOf('warmup') };
}

/** True when `next` begins a new segment after `prev` (ramp → peak stays in the burst segment). */
export function newSegment(prev: Phase | null, next: Phase): boolean {
  return prev === null || segmentOf(prev) !== segmentOf(next);
}

/** `1m05s`, `42s`: whole seconds, rounded up so a countdown never shows 0 s while still running. */
export function formatEta(eta: Eta): string {
  const s = Math.ceil(eta.remainingMs / 1000);
  const text = s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
  return `eta ${eta.upperBound ? '≤' : '~'}${text}`;
}
