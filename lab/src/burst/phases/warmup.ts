import type { BurstConfig } from '../../core/record.ts';
import { abortableSleep } from '../../core/time.ts';
import type { RunContext } from '../context.ts';
import { windowSeconds } from '../reuse.ts';

// Warm-up: steady rate until Prometheus has scraped every pod successfully at least twice.

/** How long warm-up may take before the burst starts anyway. */
export const warmupLimitMs = (config: BurstConfig) => 30_000 + 6 * config.scrapeIntervalMs;

export async function warmup(ctx: RunContext): Promise<void> {
  const { config, signal } = ctx;
  await ctx.setPhase('warmup');
  const limitMs = warmupLimitMs(config);
  const deadline = Date.now() + limitMs;
  const prom = ctx.prom();
  let scrapedTwice = 0;
  if (config.pull === false) {
    // Nothing scrapes the pods: a steady period of two intervals, so the collector was scraped meanwhile.
    await abortableSleep(Math.min(limitMs, 2 * config.scrapeIntervalMs), signal);
    return;
  }
  for (let i = 0; i < 10_000; i++) {
    ctx.checkFatal();
    const windowS = windowSeconds(Date.now(), ctx.fleetStartMs, 1, ctx.reuse?.floorMs ?? null);
    scrapedTwice =
      (await prom
        .scalar(`count(sum_over_time(up{job="producers"}[${windowS}s]) >= 2)`, undefined, signal)
        .catch(() => null)) ?? 0;
    if (scrapedTwice >= config.pods) break;
    await ctx.annotateIfStale(); // keeps the lab's own group fresh
    if (Date.now() >= deadline) {
      const msg = `warm-up incomplete: only ${scrapedTwice} of ${config.pods} pods were scraped successfully twice within ${limitMs / 1000} s; the burst was started anyway`;
      ctx.notes.push(msg);
      ctx.progress.note(msg);
      break;
    }
    await abortableSleep(1000, signal);
  }
}
