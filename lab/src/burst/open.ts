import {
  bestOffset,
  type ClockExchange,
  type MeasuredOffset,
  type OpenObservation,
  openRecord,
} from '../analysis/open-sync.ts';
import type { RecordOpen } from '../core/record-nodes.ts';
import { abortableSleep } from '../core/time.ts';
import type { ProducerState } from '../probe/control.ts';
import type { ProducerMember } from '../runtime/types.ts';
import { allProducers, type RunContext } from './context.ts';

// The open across clocks (I/O side of analysis/open-sync.ts): measure every producer's clock against the
// lab's through its control API, tell each the open in its own clock, and after the open read when each
// actually opened.

/** Exchanges per producer; the one with the smallest round trip counts. */
const EXCHANGES = 10;

/** `EXCHANGES` timed GET /control/state calls (bounded: each times out with the client). */
async function measure(
  c: { state(signal?: AbortSignal): Promise<ProducerState> },
  signal: AbortSignal,
): Promise<{ offset: MeasuredOffset | null; last: ProducerState | null }> {
  const ex: ClockExchange[] = [];
  let last: ProducerState | null = null;
  for (let i = 0; i < EXCHANGES; i++) {
    const sentMs = Date.now();
    const st = await c.state(signal).catch(() => null);
    const receivedMs = Date.now();
    if (!st) continue;
    last = st;
    ex.push({ sentMs, remoteMs: st.atMs, receivedMs });
  }
  return { offset: bestOffset(ex), last };
}

/** Each producer's offset before the open (null: its control API did not answer). */
export async function measureOffsets(ctx: RunContext): Promise<Map<string, MeasuredOffset | null>> {
  const got = await allProducers(
    ctx.members,
    async (c, m) => [m.name, (await measure(c, ctx.signal)).offset] as const,
  );
  return new Map(got);
}

/** The swarm node of each producer (environment.nodes' task lists); empty off swarm. */
function nodeOfProducers(ctx: RunContext): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of ctx.runtime.environment?.().nodes ?? [])
    for (const t of n.tasks ?? []) if (n.id) out.set(t, n.id);
  return out;
}

/**
 * After the open: every producer's reading of when it opened and its offset again, into run.open; the
 * spread warning goes to the notes and the terminal. Waits (bounded: 5 s) until the open has passed on all.
 */
export async function observeOpen(
  ctx: RunContext,
  before: ReadonlyMap<string, MeasuredOffset | null>,
  starts: ReadonlyMap<string, number>,
): Promise<RecordOpen> {
  const t0 = ctx.burstAtMs ?? Date.now();
  const latest = Math.max(t0, ...[...before.values()].map((o) => t0 - (o?.offsetMs ?? 0)));
  await abortableSleep(Math.min(5000, Math.max(0, latest + 200 - Date.now())), ctx.signal);
  const nodes = nodeOfProducers(ctx);
  const obs = await allProducers(ctx.members, async (c, m: ProducerMember): Promise<OpenObservation> => {
    const { offset, last } = await measure(c, ctx.signal);
    return {
      name: m.name,
      node: nodes.get(m.name) ?? null,
      before: before.get(m.name) ?? null,
      after: offset,
      startAtMs: starts.get(m.name) ?? t0,
      openedOwnMs: last?.openedAtMs ?? null,
      ...(last?.testClockSkewMs ? { testClockSkewMs: last.testClockSkewMs } : {}),
    };
  });
  const open = openRecord(t0, ctx.config.clockCompensation !== false, obs);
  const skewed = open.producers.filter((p) => p.testClockSkewMs);
  if (skewed.length > 0)
    ctx.notes.push(
      `TEST ONLY: ${skewed.length} producer(s) ran with an injected clock skew (${skewed.map((p) => `${p.name} ${p.testClockSkewMs} ms`).join(', ')})`,
    );
  if (open.warning) {
    ctx.notes.push(open.warning);
    ctx.progress.note(`warning: ${open.warning}`);
  }
  return open;
}
