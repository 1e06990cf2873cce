import type { ProbeSample } from '../../core/record.ts';
import { socketDropCounter } from '../series.ts';
import { firstIncrease } from './scan.ts';

// Whose kernel UDP drops are these? On a namespace of its own (docker) every drop is the collector's. On
// the host's namespace (process runtime) the counters also move for every other process, so a drop counts
// only where this run can be shown to be losing datagrams; this file finds that scope once, for the
// kernel-drop and UdpReceiveErrors detectors.

export interface OwnDatagramLoss {
  sample: ProbeSample;
  deficit: number;
  tolerance: number;
  /** The check before it, which found none of this run's datagrams missing. */
  previousCheckMs: number | null;
}

/**
 * This run's datagram deficit per tick: Σ ledger datagrams − datagrams the collector received. In-flight
 * datagrams and the time between the two reads (each read lands in the sample current when it completes)
 * make it wobble around 0; the allowance is max(1000, the send rate × (250 ms + both reads' durations)).
 * The first check over the allowance that the next check confirms is where this run started losing
 * datagrams. Exact, and independent of any other process on the host.
 */
export function firstOwnDatagramLoss(samples: readonly ProbeSample[]): OwnDatagramLoss | null {
  let prev: { t: number; sent: number } | null = null;
  let rate = 0;
  let previousCheckMs: number | null = null;
  let candidate: OwnDatagramLoss | null = null;
  for (const s of samples) {
    const sent = s.ledger?.datagrams;
    if (sent === undefined || sent === null) continue;
    if (prev && s.tMs > prev.t) rate = ((sent - prev.sent) * 1000) / (s.tMs - prev.t);
    prev = { t: s.tMs, sent };
    const got = s.collector?.packetsUdp;
    if (got === null || got === undefined) continue;
    const skewMs = (s.probeMs.ledgers ?? 0) + (s.probeMs.collector ?? 0);
    const tolerance = Math.max(1000, rate * (0.25 + skewMs / 1000));
    if (sent - got > tolerance) {
      if (candidate) return candidate;
      candidate = { sample: s, deficit: sent - got, tolerance, previousCheckMs };
    } else candidate = null;
    previousCheckMs = s.tMs;
  }
  return null;
}

export interface KernelScope {
  /** The collector exposes its own socket's drops (sk_drops). */
  hasSocketDrops: boolean;
  /** The first increase of those socket drops. */
  socket: ReturnType<typeof firstIncrease>;
  /** Host-wide kernel drops count from this instant on (±∞: all or none). */
  kernelFrom: number;
  /** Why a host-wide kernel signal was not counted (the `discounted` reason). */
  sharedReason: string;
}

/**
 * The collector's own socket drops (sk_drops) are exact and per socket: when it exposes them, they are
 * the kernel-drop signal, whatever the namespace. Otherwise the namespace's counters are used, and on a
 * shared namespace only drops since the last check that found none of this run's datagrams missing can
 * be this run's (the loss happened between that check and the first one that found it).
 */
export function kernelScope(
  samples: readonly ProbeSample[],
  sharedNetns: boolean | undefined,
  own: OwnDatagramLoss | null,
): KernelScope {
  const hasSocketDrops = samples.some(
    (s) => s.collector?.socketDrops !== null && s.collector?.socketDrops !== undefined,
  );
  const socket = hasSocketDrops ? firstIncrease(samples, socketDropCounter) : null;
  const kernelFrom = !sharedNetns
    ? Number.NEGATIVE_INFINITY
    : socket
      ? socket.sample.tMs
      : hasSocketDrops
        ? Number.POSITIVE_INFINITY
        : own
          ? (own.previousCheckMs ?? Number.NEGATIVE_INFINITY) + 1
          : Number.POSITIVE_INFINITY;
  // #27: with the agent tier the pods' datagrams go to the agents, whose drops are their own signal.
  const whose = samples.some((s) => (s.pushAgentDrops ?? 0) > 0)
    ? "the agents' sockets (agent-udp-drop) or another process's"
    : "another process's drops";
  const moved = hasSocketDrops
    ? socket
      ? "moved before the collector's own socket dropped anything"
      : "moved, but the collector's own socket dropped nothing"
    : own
      ? "moved while all of this run's datagrams were still reaching the collector"
      : "moved, but none of this run's datagrams was lost";
  const sharedReason = `host-wide kernel UDP counters (process runtime) ${moved}: ${whose}`;
  return { hasSocketDrops, socket, kernelFrom, sharedReason };
}
