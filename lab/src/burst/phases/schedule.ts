import { startInstants } from '../../analysis/open-sync.ts';
import { abortableSleep } from '../../core/time.ts';
import { allProducers, type RunContext } from '../context.ts';
import { measureOffsets, observeOpen } from '../open.ts';
import { burstPhaseAt } from '../profile.ts';

// The open: one absolute instant on every producer — in each producer's own clock, shifted by its measured
// offset unless --clock-compensation off; then ramp, hold and decay, each phase marked as the profile
// enters it. Once the open has passed, when each producer actually opened (run.open).

export async function schedule(ctx: RunContext): Promise<void> {
  const { config, profile, signal } = ctx;
  const offsets = await measureOffsets(ctx);
  ctx.burstAtMs = Date.now() + config.leadMs;
  const t0 = ctx.burstAtMs;
  const starts = startInstants(t0, offsets, config.clockCompensation !== false);
  await ctx.setPhase('scheduled', `open at ${new Date(t0).toISOString()}`);
  const confirmations = await allProducers(ctx.members, async (c, m) => {
    await c.schedule(starts.get(m.name) ?? t0, profile, signal);
    return Date.now();
  });
  const late = confirmations.filter((t) => t > t0).length;
  if (late > 0)
    ctx.notes.push(
      `${late} producer(s) confirmed the schedule after the open (they started their ramp late)`,
    );
  // Read beside the phases (the ramp is 800 ms: its mark must not wait for this); never rejects.
  const open = observeOpen(ctx, offsets, starts).catch(() => null);
  await holdUntilEnd(ctx, t0);
  ctx.open = await open;
}

/** Follows the profile's phases until the burst window ends. */
async function holdUntilEnd(ctx: RunContext, t0: number): Promise<void> {
  const endAt = t0 + ctx.config.durationMs;
  for (let i = 0; i < 100_000; i++) {
    ctx.checkFatal();
    const now = Date.now();
    if (now >= endAt) break;
    await ctx.setPhase(burstPhaseAt(ctx.profile, t0, now));
    await ctx.annotateIfStale(now); // keeps PushgatewayGroupStale quiet
    await abortableSleep(Math.min(250, endAt - now), ctx.signal);
  }
}
