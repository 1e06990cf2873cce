import { httpText } from '../../core/http.ts';
import { collectorSnapshot } from '../../probe/exposition.ts';
import { allProducers, type RunContext } from '../context.ts';
import { pullDelivered } from './pull-totals.ts';

// Collect: the ground truth (every producer's ledger) and what each path delivered; then a last probe
// tick, and the run is done.

export async function collect(ctx: RunContext): Promise<void> {
  const { collected, signal } = ctx;
  await ctx.setPhase('collect');
  collected.ledgers = await allProducers(ctx.members, (c) => c.ledger(signal));
  await pullDelivered(ctx);
  await pushDelivered(ctx);
  await ctx.probe!.finalTick();
  await ctx.setPhase('done');
}

/** Push delivered: what the collector counted, and the UDP datagrams it received. */
async function pushDelivered(ctx: RunContext): Promise<void> {
  const { collected } = ctx;
  const finalSnap = collectorSnapshot(
    await httpText(`${ctx.stack.collectorHttpUrl}/metrics`, { timeoutMs: 60_000, signal: ctx.signal }),
  );
  collected.pushDelivered = finalSnap.orders ?? 0;
  collected.collectorUdpPackets = finalSnap.packetsUdp;
  collected.collectorRcvbuf = finalSnap.rcvbufBytes ?? collected.collectorRcvbuf;
}
