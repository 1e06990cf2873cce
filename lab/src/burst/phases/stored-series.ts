import { describeError } from '@pushpull/common';
import { storedOrdersExpression, storedPushOrdersExpression } from '../../probe/prom.ts';
import type { RunContext } from '../context.ts';

// Each path's stored orders over the burst, read once after the run with a range query (Prometheus is
// quiet by then): the same instant query the probe runs, evaluated every few seconds of the window by
// sample timestamp. During the open the live probe of that query can take seconds and backs off, which
// would leave the visibility measure with a reading every half minute; this one does not depend on it.
// A stored value at t is data scraped at t; it became queryable when that scrape finished, so the
// visibility measure adds the scrape duration of the time (lab/README.md "Visibility").

export async function storedSeries(ctx: RunContext): Promise<void> {
  const from = ctx.burstAtMs;
  const to = ctx.collected.quiesceAtMs;
  if (from === null || !(to > from)) return;
  const interval = ctx.config.scrapeIntervalMs;
  const stepS = Math.max(1, Math.round(interval / 4000));
  const end = Math.min(Date.now(), to + 2 * interval + 5000);
  const exprs = {
    pull: storedOrdersExpression(interval),
    push: storedPushOrdersExpression(interval),
  } as const;
  // How long the scrapes of the time took: the stored value of a scrape became queryable that much later.
  const durations = {
    pull: 'quantile(0.5, scrape_duration_seconds{job="producers"})',
    push: 'max(scrape_duration_seconds{job="collector"})',
  } as const;
  const range = (expr: string) => ctx.prom(30_000).range(expr, from / 1000, end / 1000, stepS, ctx.signal);
  for (const path of ['pull', 'push'] as const) {
    if (path === 'push' && ctx.config.pushMode === 'off') continue;
    try {
      const values = (await range(exprs[path]))[0]?.values ?? [];
      const took = new Map(((await range(durations[path]))[0]?.values ?? []).map(([t, v]) => [t, Number(v)]));
      ctx.collected.stored[path] = {
        points: values.map(
          ([t, v]) => [Math.round((t + (took.get(t) ?? 0)) * 1000), Number(v)] as [number, number],
        ),
        from: `${exprs[path]} every ${stepS} s from the open to 2 scrape intervals after quiesce (a range query after the run), each value counted visible ${durations[path]} later (when its scrape had finished)`,
      };
    } catch (e) {
      ctx.signal.throwIfAborted();
      ctx.notes.push(
        `visibility (${path}): the stored series could not be read after the run (${describeError(e)}); the live probe readings are used`,
      );
      // Prometheus is not answering: do not spend another 30 s on the other path.
      if (path === 'pull') break;
    }
  }
}
