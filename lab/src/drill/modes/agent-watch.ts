import { pullDeliveredByPodQuery, scrapedAfterQuery } from '../../analysis/accounting.ts';
import { httpJson, httpText } from '../../core/http.ts';
import type { AgentSelf } from '../../core/record-agents.ts';
import { abortableSleep, mapLimit } from '../../core/time.ts';
import { type AgentTarget, agentSelfSnapshot, podsScrapedAfter, remoteWriteLag } from '../../probe/agents.ts';
import { ControlClient } from '../../probe/control.ts';
import { PromClient } from '../../probe/prom.ts';
import type { Stack } from '../harness.ts';
import type { PodAtCutoff } from './agent-cells.ts';
import type { HostView, Tick } from './agent-signals.ts';

// #29, the agents column's I/O: which agents run on which host, one reading a second of every agent's
// /metrics and of the central store's view of each host's pods, and the pods' orders at a cut-off — the
// ledgers (ground truth, read over the control API, outside the paths) against the central store.

/** A pull agent and the producer host whose pods it scrapes. */
export interface TierAgent {
  name: string;
  host: string;
  url: string;
  pods: string[];
}

export interface Tier {
  agents: TierAgent[];
  /** The central store with a short timeout: while it is stopped, a reading must not hold the loop up. */
  central: PromClient;
  /** The same with a long one, for the cut-off's accounting (a loaded store answers late, not never). */
  accounting: PromClient;
}

/** Short: the loop reads once a second, also while the central store or an agent does not answer. */
const READ_TIMEOUT_MS = 2500;
const ACCOUNTING_TIMEOUT_MS = 20_000;

/** The stack's pull tier, or why the agents column cannot be measured on this runtime. */
export function tierOf(stack: Stack): Tier | string {
  const { runtime, members, endpoints } = stack;
  if (!runtime.pullAgents || !runtime.pullTierFault)
    return `the ${runtime.kind} runtime cannot fail pull's own tier (the central store, a pull agent); the process runtime can`;
  const agents = runtime.pullAgents().map((a) => ({
    ...a,
    pods: members.find((m) => m.name === a.host)?.podIds ?? [],
  }));
  if (agents.length === 0) return 'no pull agents run on this stack (pull topology central)';
  return {
    agents,
    central: new PromClient(endpoints.prometheusUrl, READ_TIMEOUT_MS),
    accounting: new PromClient(endpoints.prometheusUrl, ACCOUNTING_TIMEOUT_MS),
  };
}

/** Every agent's /metrics now (null: it did not answer). */
export async function readSelves(
  tier: Tier,
  signal?: AbortSignal,
): Promise<Record<string, AgentSelf | null>> {
  const read = await Promise.all(
    tier.agents.map((a) =>
      httpText(`${a.url}/metrics`, { timeoutMs: READ_TIMEOUT_MS, ...(signal ? { signal } : {}) })
        .then(agentSelfSnapshot)
        .catch(() => null),
    ),
  );
  return Object.fromEntries(tier.agents.map((a, i) => [a.name, read[i] ?? null]));
}

const byHost = (items: { metric: Record<string, string>; value: [number, string] }[]) =>
  new Map(items.map((i) => [i.metric.container ?? '', Number(i.value[1])]));

/** The central store's view of each host's pods; null when it did not answer. */
export async function readCentral(tier: Tier): Promise<Record<string, HostView> | null> {
  const q = (e: string) => tier.central.vector(e).then(byHost);
  const [up, present, age, alerts] = await Promise.allSettled([
    q('count by (container) (up{job="producers"} == 1)'),
    q('count by (container) (up{job="producers"})'),
    q('max by (container) (time() - timestamp(up{job="producers"}))'),
    q('count by (container) (ALERTS{alertname="InstanceDown",alertstate="firing",job="producers"})'),
  ]);
  if (present.status === 'rejected') return null;
  const val = <T>(r: PromiseSettledResult<T>) => (r.status === 'fulfilled' ? r.value : null);
  const out: Record<string, HostView> = {};
  for (const a of tier.agents) {
    out[a.host] = {
      up: val(up)?.get(a.host) ?? 0,
      present: present.value.get(a.host) ?? 0,
      ageS: val(age)?.get(a.host) ?? null,
      alerts: val(alerts)?.get(a.host) ?? 0,
    };
  }
  return out;
}

export interface WatchOptions {
  tFault: number;
  untilMs: number;
  /** The agents whose lag is charted and checked by `stop`; the hosts whose `up` age is charted. */
  agents: readonly string[];
  hosts: readonly string[];
  /** Ends the watch early (e.g. caught up). */
  stop?: (t: Tick) => boolean;
}

/** Lag of the watched agents (max; null when none answered). */
export function watchedLag(t: Tick, agents: readonly string[]): number | null {
  let lag: number | null = null;
  for (const n of agents) {
    const a = t.selves[n];
    const l = a ? remoteWriteLag(a) : null;
    if (l !== null) lag = Math.max(lag ?? 0, l);
  }
  return lag;
}

function addPoint(series: Record<string, [number, number][]>, key: string, p: [number, number]): void {
  const pts = series[key] ?? [];
  pts.push(p);
  series[key] = pts;
}

/** Reads once a second into `ticks` (and the charts) until `untilMs` or `stop`; returns the last tick. */
export async function watch(
  stack: Stack,
  tier: Tier,
  o: WatchOptions,
  ticks: Tick[],
  series: Record<string, [number, number][]>,
): Promise<Tick | null> {
  const { signal } = stack.deps;
  let last: Tick | null = null;
  for (let i = 0; i < 100_000 && Date.now() < o.untilMs; i++) {
    const t0 = Date.now();
    const [selves, central] = await Promise.all([readSelves(tier, signal), readCentral(tier)]);
    last = { tS: Math.round((t0 - o.tFault) / 100) / 10, selves, central };
    ticks.push(last);
    const lag = watchedLag(last, o.agents);
    if (lag !== null) addPoint(series, 'remoteWriteLagS', [last.tS, lag]);
    const ages = o.hosts.map((h) => central?.[h]?.ageS ?? null).filter((x): x is number => x !== null);
    if (ages.length > 0) addPoint(series, 'upAgeS', [last.tS, Math.max(...ages)]);
    if (o.stop?.(last)) break;
    await abortableSleep(Math.max(0, Math.min(1000 - (Date.now() - t0), o.untilMs - Date.now())), signal);
  }
  return last;
}

/** Each pod's orders per its ledger now, for the given hosts. */
export async function ledgersNow(stack: Stack, hosts: readonly string[]): Promise<Map<string, number>> {
  const members = stack.members.filter((m) => hosts.includes(m.name));
  const ledgers = await mapLimit(members, 4, (m) => new ControlClient(m.baseUrl).ledger(stack.deps.signal));
  const out = new Map<string, number>();
  for (const l of ledgers) for (const [pod, c] of Object.entries(l.pods)) out.set(pod, c.orders);
  return out;
}

async function storedByPod(tier: Tier, hosts: readonly string[]): Promise<Map<string, number> | null> {
  try {
    const out = new Map<string, number>();
    for (const h of hosts)
      for (const [pod, v] of byHostPod(await tier.accounting.vector(pullDeliveredByPodQuery(900, h))))
        out.set(pod, v);
    return out;
  } catch {
    return null;
  }
}

const byHostPod = (items: { metric: Record<string, string>; value: [number, string] }[]) =>
  items.map((i) => [i.metric.pod ?? '', Number(i.value[1])] as const);

async function agentScrapedAfter(a: TierAgent, afterMs: number): Promise<Set<string> | null> {
  try {
    const r = await httpJson<{ data?: { activeTargets?: AgentTarget[] } }>(
      `${a.url}/api/v1/targets?state=active`,
      {
        timeoutMs: READ_TIMEOUT_MS,
      },
    );
    return new Set(podsScrapedAfter(r.data?.activeTargets ?? [], afterMs));
  } catch {
    return null;
  }
}

/**
 * The hosts' pods at a cut-off (now): their ledgers, then — for up to `boundMs` — the central store until it
 * holds every live agent's pods' orders of the cut-off (a scrape after it, remote-written). A dead agent's pods
 * are read once. `atKill`: each pod's ledger at a kill (the dead-agent causes).
 */
export async function podsAtCutoff(
  stack: Stack,
  tier: Tier,
  hosts: readonly string[],
  o: { live: ReadonlySet<string>; boundMs: number; atKill?: ReadonlyMap<string, number> },
): Promise<PodAtCutoff[]> {
  const tC = Date.now();
  const emitted = await ledgersNow(stack, hosts);
  const agents = tier.agents.filter((a) => hosts.includes(a.host));
  const livePods = new Set(agents.filter((a) => o.live.has(a.name)).flatMap((a) => a.pods));
  let stored: Map<string, number> | null = null;
  for (let i = 0; i < 1000; i++) {
    stored = await storedByPod(tier, hosts);
    const done =
      stored !== null && [...livePods].every((p) => (stored?.get(p) ?? 0) >= (emitted.get(p) ?? 0));
    if (done || Date.now() - tC >= o.boundMs) break;
    await abortableSleep(1000, stack.deps.signal);
  }
  const upAfter = await tier.accounting
    .vector(scrapedAfterQuery(tC / 1000))
    .then((v) => new Set(v.map((x) => x.metric.pod ?? '')))
    .catch(() => null);
  const byAgent = new Map(
    await Promise.all(
      agents.map(async (a) => [a.name, o.live.has(a.name) ? await agentScrapedAfter(a, tC) : null] as const),
    ),
  );
  return agents.flatMap((a) =>
    a.pods.map((pod) => ({
      pod,
      host: a.host,
      agent: a.name,
      emitted: emitted.get(pod) ?? 0,
      ...(o.atKill ? { atKill: o.atKill.get(pod) ?? 0 } : {}),
      stored: stored === null ? null : (stored.get(pod) ?? 0),
      scrapedAfter: upAfter === null ? null : upAfter.has(pod),
      scrapedByAgent: byAgent.get(a.name)?.has(pod) ?? null,
    })),
  );
}

/**
 * Share of the outage's scrapes of the hosts' pods that the central store holds at the end (%): the fewest `up`
 * samples of any pod inside the outage (its first and last second left out) against one per scrape interval.
 */
export async function outageStoredPct(
  stack: Stack,
  hosts: readonly string[],
  fromMs: number,
  toMs: number,
): Promise<number | null> {
  const win = Math.floor((toMs - fromMs) / 1000) - 2;
  if (win < 2) return null;
  const sel = `up{job="producers",container=~"${hosts.join('|')}"}`;
  const v = await stack.prom
    .scalar(`min(count_over_time(${sel}[${win}s] @ ${(toMs / 1000 - 1).toFixed(3)}))`)
    .catch(() => null);
  if (v === null) return null;
  const expected = (win * 1000) / stack.scenario.scrapeIntervalMs;
  return Math.min(100, (100 * v) / expected);
}
