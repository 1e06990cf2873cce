import { isLabError } from '@pushpull/common';
import type { BurstConfig, RunRecord } from '../core/record.ts';
import { type BurstDeps, createRunContext, type RunContext } from './context.ts';
import { collect } from './phases/collect.ts';
import { finalScrapes } from './phases/final-scrapes.ts';
import { quiesce } from './phases/quiesce.ts';
import { applyReuse } from './phases/reuse.ts';
import { schedule } from './phases/schedule.ts';
import { start } from './phases/start.ts';
import { teardown } from './phases/teardown.ts';
import { warmup } from './phases/warmup.ts';
import { buildRecord } from './record.ts';

// One market-open burst run, end to end:
//   up → scale → warm-up (steady rate until Prometheus scraped every pod twice) → schedule the open at one
//   absolute instant on every producer → ramp/hold/decay → quiesce → final scrapes → collect ledgers and
//   delivered counts → record. Probes run every second throughout. Everything started is torn down in
//   `finally`, including on Ctrl-C (the AbortSignal wakes every wait).

export type { BurstDeps, ProgressSink, SharedStack } from './context.ts';
export { scrapeTimeoutFor } from './context.ts';
export { modelPeak } from './record.ts';

export interface BurstResult {
  record: RunRecord;
  outDir: string;
  /** Ctrl-C / SIGTERM ended the run: the record is partial and says so. */
  interrupted: boolean;
}

/** The run's phases, in order, over one context (burst/phases/). */
const PHASES: readonly ((ctx: RunContext) => Promise<void>)[] = [
  start, // up, scale, probes started
  warmup,
  schedule, // the open, then ramp/hold/decay
  quiesce,
  finalScrapes,
  collect, // ledgers and delivered counts
];

/**
 * Runs the phases; whatever ends them (done, an error, Ctrl-C), a run that got its probes going keeps its
 * record: it is built and handed to `deps.onRecord` (which writes it) BEFORE the stack is torn down, so a
 * second Ctrl-C during teardown cannot lose it. Only a run stopped before it probed anything throws.
 */
export async function runBurst(config0: BurstConfig, deps: BurstDeps): Promise<BurstResult> {
  const ctx = createRunContext(config0, deps);
  let failure: unknown = null;
  let result: BurstResult | null = null;
  try {
    for (const phase of PHASES) await phase(ctx);
  } catch (e) {
    failure = e;
  }
  try {
    await ctx.probe?.stop();
    // A run the self-check stopped keeps its record too: it says what the stack ran instead of the plan.
    if ((ctx.probe && ctx.probe.samples.length > 0) || ctx.selfCheck.length > 0) {
      const interrupted = isLabError(failure, 'LAB_ERR_INTERRUPTED') || deps.signal.aborted;
      applyReuse(ctx); // a shared stack: this run's own counts (burst/reuse.ts)
      result = { record: buildRecord(ctx, failure), outDir: ctx.outDir, interrupted };
      await deps.onRecord?.(result.record, ctx.outDir);
    }
  } finally {
    await teardown(ctx);
  }
  if (!result) throw failure;
  return result;
}
