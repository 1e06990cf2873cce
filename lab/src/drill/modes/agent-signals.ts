import type { AgentSelf } from '../../core/record-agents.ts';
import { remoteWriteLag } from '../../probe/agents.ts';

// #29, the agents column: what the lab read once a second while pull's own tier was failing — each pull
// agent's /metrics (its remote-write queue) and the central store's view of every producer host's pods — and
// when each signal first showed, in seconds since the fault. Pure: the measurement loop (agent-watch.ts)
// records ticks, this reads them.

/** The central store's view of one producer host's pods (its pods' `up`, remote-written by that host's agent). */
export interface HostView {
  /** Pods whose newest `up` is 1; pods with an `up` series at all (an instant query: 5 min lookback). */
  up: number;
  present: number;
  /** Age in seconds of the newest `up` sample of its pods (time() − timestamp(up)); null = none. */
  ageS: number | null;
  /** InstanceDown alerts firing for its pods. */
  alerts: number;
}

export interface Tick {
  /** Seconds since the fault (negative before it). */
  tS: number;
  /** Each agent's /metrics; null = it did not answer. */
  selves: Record<string, AgentSelf | null>;
  /** By producer host; null = the central store did not answer the lab's queries this tick. */
  central: Record<string, HostView> | null;
}

/** The first time each signal showed (seconds since the fault; null = not in the window). */
export interface Signals {
  /** The central store did not answer the lab's queries (any client of it sees this). */
  centralUnansweredS: number | null;
  /** An agent's remote-write queue trailed its WAL by more than the limit (the burst's remote-write-behind). */
  behindS: number | null;
  /** An agent counted retried / failed / dropped samples (more than before the fault). */
  retriedS: number | null;
  failedS: number | null;
  droppedS: number | null;
  /** InstanceDown fired at the central store for a victim host's pod. */
  instanceDownS: number | null;
  /** A victim host's pods' `up` vanished from the central store's instant queries. */
  upGoneS: number | null;
  /** The newest `up` of a victim host's pods got older than the staleness limit (no shipped rule reads this). */
  staleUpS: number | null;
  /** An agent's /metrics stopped answering the lab (nothing in the stack scrapes the agents). */
  agentSilentS: number | null;
  /** The largest remote-write lag seen (seconds), over the watched agents. */
  maxLagS: number | null;
}

export interface SignalScope {
  /** The agents whose remote-write counters count (the victim, or every agent). */
  agents: readonly string[];
  /** The producer hosts whose pods count at the central store. */
  hosts: readonly string[];
  /** Each agent's /metrics just before the fault (the counters' baseline). */
  before: Readonly<Record<string, AgentSelf | null>>;
  behindLimitS: number;
  staleLimitS: number;
  /**
   * The fault is the central store's own (it is stopped): its silence is the signal. Otherwise a query it did
   * not answer in time says the observer's store was slow (a loaded machine), not that the fault showed.
   */
  centralFault: boolean;
}

const grew = (after: number | null | undefined, before: number | null | undefined) =>
  (after ?? 0) > (before ?? 0);

/** When each signal first showed over the ticks at or after the fault. */
export function firstSignals(ticks: readonly Tick[], o: SignalScope): Signals {
  const out: Signals = {
    centralUnansweredS: null,
    behindS: null,
    retriedS: null,
    failedS: null,
    droppedS: null,
    instanceDownS: null,
    upGoneS: null,
    staleUpS: null,
    agentSilentS: null,
    maxLagS: null,
  };
  const first = (k: Exclude<keyof Signals, 'maxLagS'>, t: number, yes: boolean) => {
    if (yes && out[k] === null) out[k] = t;
  };
  for (const tick of ticks) {
    if (tick.tS < 0) continue;
    const t = Math.round(tick.tS * 10) / 10;
    for (const name of o.agents) {
      const a = tick.selves[name];
      first('agentSilentS', t, a === null || a === undefined);
      if (!a) continue;
      const b = o.before[name];
      const lag = remoteWriteLag(a);
      if (lag !== null) out.maxLagS = Math.max(out.maxLagS ?? 0, lag);
      first('behindS', t, lag !== null && lag > o.behindLimitS);
      first('retriedS', t, grew(a.samplesRetried, b?.samplesRetried));
      first('failedS', t, grew(a.samplesFailed, b?.samplesFailed));
      first('droppedS', t, grew(a.samplesDropped, b?.samplesDropped));
    }
    first('centralUnansweredS', t, o.centralFault && tick.central === null);
    if (!tick.central) continue;
    for (const host of o.hosts) {
      const h = tick.central[host];
      first('upGoneS', t, !h || h.present === 0);
      if (!h) continue;
      first('instanceDownS', t, h.alerts > 0);
      first('staleUpS', t, h.ageS !== null && h.ageS > o.staleLimitS);
    }
  }
  return out;
}

/**
 * Detection: the earliest signal a deployment has — the central store not answering, an alert or a vanished
 * `up` there, or the agents' own remote-write counters (what a scrape of the agents would alert on). The stale
 * `up` and a silent agent /metrics are measured, not detection: nothing in the stack reads them.
 */
export function detectedAfter(s: Signals): { afterS: number; by: string } | null {
  const candidates: [number | null, string][] = [
    [s.centralUnansweredS, 'the central store stopped answering queries'],
    [s.behindS, "an agent's remote-write queue fell behind its WAL"],
    [s.retriedS, 'an agent retried samples (prometheus_remote_storage_samples_retried_total)'],
    [s.failedS, 'an agent gave samples up (prometheus_remote_storage_samples_failed_total)'],
    [s.droppedS, 'an agent dropped samples (prometheus_remote_storage_samples_dropped_total)'],
    [s.instanceDownS, 'InstanceDown fired at the central store'],
    [s.upGoneS, "the pods' up vanished from the central store"],
  ];
  let best: { afterS: number; by: string } | null = null;
  for (const [t, by] of candidates)
    if (t !== null && (best === null || t < best.afterS)) best = { afterS: t, by };
  return best;
}

/** What the watched agents' remote-write counters did from the fault to the end (summed over them). */
export interface RemoteWriteDelta {
  retried: number;
  failed: number;
  dropped: number;
  /** Samples still pending in their queues at the end. */
  pendingAtEnd: number;
  walProblems: number;
  /** Agents with no reading at the end (dead or not answering). */
  unread: number;
}

export function remoteWriteDelta(
  agents: readonly string[],
  before: Readonly<Record<string, AgentSelf | null>>,
  after: Readonly<Record<string, AgentSelf | null>>,
): RemoteWriteDelta {
  const d: RemoteWriteDelta = {
    retried: 0,
    failed: 0,
    dropped: 0,
    pendingAtEnd: 0,
    walProblems: 0,
    unread: 0,
  };
  const diff = (a: number | null, b: number | null | undefined) => Math.max(0, (a ?? 0) - (b ?? 0));
  for (const name of agents) {
    const a = after[name];
    const b = before[name];
    if (!a) {
      d.unread++;
      continue;
    }
    d.retried += diff(a.samplesRetried, b?.samplesRetried);
    d.failed += diff(a.samplesFailed, b?.samplesFailed);
    d.dropped += diff(a.samplesDropped, b?.samplesDropped);
    d.pendingAtEnd += a.samplesPending ?? 0;
    d.walProblems +=
      diff(a.walCorruptions, b?.walCorruptions) + diff(a.walTruncationsFailed, b?.walTruncationsFailed);
  }
  return d;
}
