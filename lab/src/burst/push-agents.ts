import type { ProbeSample } from '../core/record.ts';
import type { PushAgentCost, PushAgentReading, PushAgentRecordPart } from '../core/record-push-agents.ts';
import { abortableSleep, mapLimit } from '../core/time.ts';
import { emptyPushReading, readPushAgent } from '../probe/push-agents.ts';
import { PUSH_AGENT_FLUSH_MS, pushAgentNameOf } from '../runtime/push-agent-args.ts';
import type { ProducerMember } from '../runtime/types.ts';
import type { RunContext } from './context.ts';
import { componentCost } from './record-agents.ts';

// #27, the burst's side of the agent tier: every agent's books read each second (a dead agent keeps its
// last reading: what it held then is `agent-died`), a wait at the end until the live agents have forwarded
// what they hold, and the record's part: the final readings and each agent host's CPU and RSS.

const READ_TIMEOUT_MS = 800;

/** Reads every agent once a second until stopped; keeps each one's last answer. */
export class PushAgentWatch {
  readonly last = new Map<string, PushAgentReading>();
  /** After each round: the agents' socket drops summed over their latest readings (for the failure detectors). */
  readonly drops: { tMs: number; total: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private readonly until: number;

  constructor(
    private readonly members: () => readonly ProducerMember[],
    maxDurationMs: number,
  ) {
    this.until = Date.now() + maxDurationMs;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One round of reads (skipped while the previous one runs; bounded in time by maxDurationMs). */
  async tick(signal?: AbortSignal): Promise<void> {
    if (this.busy) return;
    if (Date.now() > this.until) return this.stop();
    this.busy = true;
    try {
      await mapLimit(this.agents(), 8, async ({ name, url }) => {
        const r = await readPushAgent(name, url, READ_TIMEOUT_MS, signal).catch(() => null);
        if (r === null) return;
        const peak = Math.max(r.queuePeakPoints, this.last.get(name)?.queuePeakPoints ?? 0);
        this.last.set(name, { ...r, queuePeakPoints: peak });
      });
      const known = [...this.last.values()].filter((r) => r.socketDrops !== null);
      if (known.length > 0)
        this.drops.push({ tMs: Date.now(), total: known.reduce((a, r) => a + r.socketDrops!, 0) });
    } finally {
      this.busy = false;
    }
  }

  /** Each host's agent once (swarm: a node's producers share their node's agent), by name. */
  private agents(): { name: string; url: string }[] {
    const byName = new Map<string, string>();
    for (const m of this.members()) {
      const name = m.pushAgentName ?? pushAgentNameOf(m.name);
      if (m.pushAgentUrl && !byName.has(name)) byName.set(name, m.pushAgentUrl);
    }
    return [...byName].map(([name, url]) => ({ name, url }));
  }

  /** Every agent's reading, marked dead when it was not running at the end. */
  readings(dead: ReadonlySet<string>): PushAgentReading[] {
    return this.agents().map(
      ({ name }) =>
        ({
          ...(this.last.get(name) ?? emptyPushReading(name)),
          alive: !dead.has(name),
        }) satisfies PushAgentReading,
    );
  }
}

/** The live agents hold nothing (received = forwarded + dropped). */
const drained = (rs: readonly PushAgentReading[]) =>
  rs.every(
    (r) =>
      !r.alive ||
      r.orders.received ===
        r.orders.forwarded +
          r.orders.droppedQueueFull +
          r.orders.droppedForwardFailed +
          r.orders.droppedTooLarge,
  );

/**
 * Collect, agent tier: wait (≤ 20 s) until every live agent has forwarded what it holds, then keep the final
 * readings on the context for the accounting.
 */
export async function collectPushAgents(ctx: RunContext): Promise<void> {
  const w = ctx.pushAgents;
  if (!w) return;
  w.stop();
  const deadline = Date.now() + 20_000 + 2 * PUSH_AGENT_FLUSH_MS;
  let readings: PushAgentReading[] = [];
  for (let i = 0; i < 100; i++) {
    await w.tick(ctx.signal);
    readings = w.readings(new Set(await ctx.runtime.dead()));
    if (drained(readings) || Date.now() > deadline) break;
    await abortableSleep(500, ctx.signal);
  }
  ctx.pushAgentReadings = readings;
  if (!drained(readings))
    ctx.notes.push('agents: a live agent still held orders 20 s after quiesce (counted in flight)');
}

/** CPU cores (mean over the open → quiesce) and peak RSS of each agent, from the probe's per-process reads. */
export function pushAgentCosts(
  samples: readonly ProbeSample[],
  names: readonly string[],
  fromMs: number,
  toMs: number,
): PushAgentCost[] {
  return names.map((name) => {
    const c = componentCost(samples, name, fromMs, toMs);
    return { name, cpuCores: c.cpuCores, rssPeakBytes: c.rssMaxBytes };
  });
}

/** The record's agents part (absent with the central topology). */
export function pushAgentRecordPart(
  ctx: RunContext,
  samples: readonly ProbeSample[],
  t0: number,
): PushAgentRecordPart {
  if (ctx.config.pushTopology !== 'agent' || ctx.pushAgentReadings === null) return {};
  const readings = ctx.pushAgentReadings;
  const to = ctx.collected.quiesceAtMs || Date.now();
  return {
    pushAgents: {
      readings,
      cost: pushAgentCosts(
        samples,
        readings.map((r) => r.name),
        t0,
        to,
      ),
      flushIntervalMs: PUSH_AGENT_FLUSH_MS,
    },
  };
}

/** The agent tier: the pods' datagrams were received by the agents, not the central collector. */
export function pushAgentDatagrams(ctx: RunContext): void {
  if (ctx.pushAgentReadings === null) return;
  ctx.collected.collectorUdpPackets = ctx.pushAgentReadings.reduce((s, r) => s + r.datagrams, 0);
}

/** Start, agent tier: read the agents' books every second from the fleet's start. */
export function watchPushAgents(ctx: RunContext, maxDurationMs: number): void {
  if (ctx.config.pushTopology !== 'agent') return;
  ctx.pushAgents = new PushAgentWatch(() => ctx.members, maxDurationMs);
  ctx.pushAgents.start();
}

/**
 * The agent tier: the pods' datagrams go to the agents, so the central collector's per-second UDP count is
 * no measure of them (it reads 0: the datagram-loss detector would see every datagram missing). Left out
 * (null) in the record's samples; the agents' own socket drops, as known at each probe second, go in
 * `pushAgentDrops` (they count as `agent-rcvbuf`).
 */
export function pushAgentSamples(ctx: RunContext, samples: ProbeSample[]): ProbeSample[] {
  if (ctx.config.pushTopology !== 'agent') return samples;
  return withAgentDrops(
    samples.map((s) => (s.collector ? { ...s, collector: { ...s.collector, packetsUdp: null } } : s)),
    ctx.pushAgents?.drops ?? [],
  );
}

/** Each sample gets the agents' drops as last read at or before its tick (null before the first read). Pure. */
export function withAgentDrops(
  samples: readonly ProbeSample[],
  timeline: readonly { tMs: number; total: number }[],
): ProbeSample[] {
  let j = -1;
  return samples.map((s) => {
    while (j + 1 < timeline.length && timeline[j + 1]!.tMs <= s.tMs) j++;
    return { ...s, pushAgentDrops: j >= 0 ? timeline[j]!.total : null };
  });
}
