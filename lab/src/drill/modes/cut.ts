import type { PartitionReach, RelayCounts } from '../../runtime/types.ts';

// What a partition's cut itself counted, between the fault and the end of the measurement: pure functions
// over two readings of the runtime's PartitionReach (the process runtime's relays count; docker's and
// swarm's disconnect counts nothing, so there the producer's own send errors are all there is).

/** The relays' activity from the cut to the end (null where the runtime has no relays). */
export type CutCounts =
  | {
      transport: 'udp';
      /** Datagrams the producer sent into the cut: sent, never received by the collector. */
      droppedInCut: number;
      /** Datagrams the relay received from the producer, and forwarded, from the cut to the end. */
      received: number;
      forwarded: number;
      scrapesReset: number;
    }
  | { transport: 'tcp'; pushReset: number; scrapesReset: number };

export function cutCounts(before: RelayCounts | undefined, after: RelayCounts | undefined): CutCounts | null {
  if (!before || !after) return null;
  const scrapesReset = after.scrape.resetByCut - before.scrape.resetByCut;
  const [b, a] = [before.push, after.push];
  if ('udp' in b && 'udp' in a)
    return {
      transport: 'udp',
      droppedInCut: a.udp.droppedInCut - b.udp.droppedInCut,
      received: a.udp.received - b.udp.received,
      forwarded: a.udp.forwarded - b.udp.forwarded,
      scrapesReset,
    };
  if ('tcp' in b && 'tcp' in a)
    return { transport: 'tcp', pushReset: a.tcp.resetByCut - b.tcp.resetByCut, scrapesReset };
  return null;
}

/** How the runtime cut the paths, for the scenario's notes (null where it disconnects a network). */
export function cutNote(runtime: string, reach: PartitionReach): string | null {
  if (!reach.relays) return null;
  return `${runtime} runtime: partition = the producer's relays cut (every path of a partitionable producer goes through a loopback relay in the lab): scrapes and TCP pushes (StatsD over TCP, OTLP) get new connections refused and open ones reset; StatsD datagrams are received and silently dropped, counted as sent but not received; the lab reads the ledgers outside the relays`;
}

/** The push cell's words about what the cut swallowed (empty where the runtime counted nothing). */
export function pushCutWords(c: CutCounts | null): string {
  if (!c) return '';
  if (c.transport === 'udp')
    return `; sent but not received: ${c.droppedInCut} datagrams sent into the cut and silently dropped (the relay counted them; the producer's sends all succeeded), ${c.forwarded} of ${c.received} datagrams the relay received from the cut to the end forwarded`;
  return `; the cut reset ${c.pushReset} open push connection${c.pushReset === 1 ? '' : 's'} (new ones refused until the heal)`;
}

/** The push cell's signal addition: the cause of a UDP loss in the cut, in the grid's own words. */
export function pushCutSignal(c: CutCounts | null): string {
  return c?.transport === 'udp'
    ? `; ${c.droppedInCut} datagrams sent but not received (dropped in the cut)`
    : '';
}

/** Metrics for the record: what the cut swallowed. */
export function cutMetrics(c: CutCounts | null): Record<string, number> {
  if (!c) return {};
  return c.transport === 'udp'
    ? { udpSentNotReceived: c.droppedInCut, scrapesResetByCut: c.scrapesReset }
    : { pushConnectionsResetByCut: c.pushReset, scrapesResetByCut: c.scrapesReset };
}
