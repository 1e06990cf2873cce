import { scrapedAfterQuery } from '../../analysis/accounting.ts';
import { httpText } from '../../core/http.ts';
import { abortableSleep } from '../../core/time.ts';
import { collectorSnapshot } from '../../probe/exposition.ts';
import type { RunContext } from '../context.ts';

// Final scrapes: let Prometheus scrape every pod again after quiesce, and the collector read what is
// still in its socket buffer, so both paths' totals are complete.

export async function finalScrapes(ctx: RunContext): Promise<void> {
  await ctx.setPhase('final-scrapes');
  await waitForScrapesAfterQuiesce(ctx);
  await waitForCollectorDrained(ctx);
}

/** At least two scrape intervals, until every pod was scraped successfully after quiesce (or a deadline). */
async function waitForScrapesAfterQuiesce(ctx: RunContext): Promise<void> {
  const { config, signal } = ctx;
  const quiesceAtMs = ctx.collected.quiesceAtMs;
  const prom = ctx.prom();
  const minWaitUntil = quiesceAtMs + 2 * config.scrapeIntervalMs;
  const finalDeadline = quiesceAtMs + 4 * config.scrapeIntervalMs + 15_000;
  let scrapedAfter = 0;
  for (let i = 0; i < 10_000; i++) {
    ctx.checkFatal();
    const now = Date.now();
    await ctx.annotateIfStale(now);
    if (now >= minWaitUntil && config.pull === false) break; // no pod is scraped: the intervals suffice
    if (now >= minWaitUntil) {
      scrapedAfter =
        (await prom
          .scalar(`count(${scrapedAfterQuery(quiesceAtMs / 1000)})`, undefined, signal)
          .catch(() => null)) ?? 0;
      if (scrapedAfter >= config.pods) break;
      if (now >= finalDeadline) {
        ctx.notes.push(
          `final scrapes: only ${scrapedAfter} of ${config.pods} pods were scraped successfully after quiesce; the rest count as pull loss`,
        );
        break;
      }
    }
    await abortableSleep(500, signal);
  }
}

/**
 * The collector must have read what is still in its socket buffer: wait (≤ 20 s) until the lines it has
 * read stop moving (its self-metrics: cheap to read). If they still move then, the orders it still took in
 * during the last second (read from its whole exposition once) are recorded as in flight.
 */
async function waitForCollectorDrained(ctx: RunContext): Promise<void> {
  const read = async (path: string) =>
    collectorSnapshot(
      await httpText(`${ctx.stack.collectorHttpUrl}${path}`, { timeoutMs: 60_000, signal: ctx.signal }),
    );
  let prev: number | null = null;
  for (let i = 0; i < 20; i++) {
    const snap = await read('/metrics/self');
    ctx.collected.collectorRcvbuf = snap.rcvbufBytes;
    if (prev !== null && snap.lines === prev) return;
    prev = snap.lines;
    await abortableSleep(1000, ctx.signal);
  }
  const a = (await read('/metrics')).orders ?? 0;
  await abortableSleep(1000, ctx.signal);
  ctx.collected.collectorStillRising = Math.max(0, ((await read('/metrics')).orders ?? 0) - a);
  ctx.notes.push(
    `the collector was still reading lines 20 s after quiesce (+${ctx.collected.collectorStillRising.toLocaleString('en-US')} orders in the last second): counted as in flight`,
  );
}
