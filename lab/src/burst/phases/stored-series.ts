import { describeError } from '@pushpull/common';
import { type RunContext, storeName } from '../context.ts';

// Each path's stored orders over the burst, for time-to-visibility: the recording rules
// pushpull:pull_orders:stored and pushpull:push_orders:stored (prometheus/rules), which Prometheus evaluates
// every 5 s. A rule value at time u sums what had been stored and was queryable at u, so reading the rule's
// raw points after the run gives "stored by u" without the lab scanning every order series (its live probe
// of that scan backs off under load and would leave a reading every half minute). When Prometheus falls
// behind, evaluations are missed and the points thin out: the record keeps the resolution.

const RULES = { pull: 'pushpull:pull_orders:stored', push: 'pushpull:push_orders:stored' } as const;

export async function storedSeries(ctx: RunContext): Promise<void> {
  const from = ctx.burstAtMs;
  const to = ctx.collected.quiesceAtMs;
  if (from === null || !(to > from)) return;
  const endMs = Date.now();
  const windowS = Math.ceil((endMs - from) / 1000) + 1;
  for (const path of ['pull', 'push'] as const) {
    if (path === 'push' && ctx.config.pushMode === 'off') continue;
    if (path === 'pull' && ctx.config.pull === false) continue;
    try {
      // Each path's series from its own store (#24; the shared one with --store shared).
      const m = await ctx.store(path, 30_000).matrix(`${RULES[path]}[${windowS}s]`, endMs / 1000, ctx.signal);
      const values = m[0]?.values ?? [];
      ctx.collected.stored[path] = {
        points: values.map(([t, v]) => [Math.round(t * 1000), Number(v)] as [number, number]),
        readAtMs: endMs,
        from: `the recording rule ${RULES[path]} in ${storeName(ctx.stack, path)} (evaluated every 5 s inside the store; raw points read after the run)`,
      };
    } catch (e) {
      ctx.signal.throwIfAborted();
      ctx.notes.push(
        `visibility (${path}): ${RULES[path]} could not be read after the run (${describeError(e)}); the live probe readings are used`,
      );
    }
  }
}
