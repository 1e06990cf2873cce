import { allProducers, type RunContext } from '../context.ts';

// Quiesce: stop generating and flush the push buffers.

export async function quiesce(ctx: RunContext): Promise<void> {
  await ctx.setPhase('quiesce');
  ctx.collected.quiesceAtMs = Date.now();
  await allProducers(ctx.members, (c) => c.quiesce(ctx.signal));
}
