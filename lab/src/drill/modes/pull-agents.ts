import { BEHIND_INTERVALS } from '../../analysis/failures/agents.ts';
import type { AgentSelf } from '../../core/record-agents.ts';
import { abortableSleep, mapLimit } from '../../core/time.ts';
import { ControlClient } from '../../probe/control.ts';
import type { PullTierFaultKind } from '../../runtime/types.ts';
import { type AgentDrillParams, agentParams } from '../agents-scenario.ts';
import { notAppliedCell } from '../grid.ts';
import type { Stack } from '../harness.ts';
import type { Scenario } from '../scenario.ts';
import { deadAgentCauses, deadAgentCell, type OutageFacts, outageCauses, outageCell } from './agent-cells.ts';
import { firstSignals, remoteWriteDelta, type Signals, type Tick } from './agent-signals.ts';
import {
  ledgersNow,
  outageStoredPct,
  podsAtCutoff,
  readSelves,
  type Tier,
  type TierAgent,
  tierOf,
  watch,
  watchedLag,
} from './agent-watch.ts';
import type { DrillMode, ModeOutcome } from './types.ts';

// #29, the drill's agents column (pull through per-host agents: a Prometheus in agent mode per producer host
// remote-writing to the central store), three rows:
//   central-store-down    the central store stopped (SIGSTOP) for `outage`, then back: the agents buffer in
//                         their WAL, then catch up or drop — which, by their remote-write counters;
//   pull-agent-dies       one agent SIGKILLed (at the peak): what its host's pods lost, by cause, and whether
//                         anything at the central store notices;
//   pull-agent-partition  one agent's remote write to the central store cut for `outage` (its scrapes intact),
//                         then healed.
// Process runtime (its pull-tier faults); elsewhere the cell says "not applied on this runtime".

const CENTRAL = 'prometheus';
const never = (v: number | null) => v ?? -1;

/** Thresholds, in seconds, from the scrape interval: the burst's remote-write-behind, caught up, stale `up`. */
export function limitsOf(scrapeIntervalMs: number) {
  const i = scrapeIntervalMs / 1000;
  return {
    behindS: Math.max(10, BEHIND_INTERVALS * i),
    caughtUpS: Math.max(6, 2 * i),
    staleS: 3 * i,
  };
}

/** Market-open: the open is scheduled on every producer and the fault comes `at` after it; steady: `at` from now. */
async function openThenWait(stack: Stack, p: AgentDrillParams): Promise<void> {
  const { scenario: s, members, deps } = stack;
  if (s.profile === 'market-open') {
    const openAt = Date.now() + 2000;
    await mapLimit(members, 8, (m) => new ControlClient(m.baseUrl).schedule(openAt, undefined, deps.signal));
    await abortableSleep(openAt - Date.now(), deps.signal);
  }
  await abortableSleep(p.atMs, deps.signal);
}

function notApplied(stack: Stack, why: string): ModeOutcome {
  return { cells: [notAppliedCell('agents', stack.variant.name, why)], metrics: {}, series: {}, notes: [] };
}

const victimOf = (stack: Stack, tier: Tier, p: AgentDrillParams): TierAgent => {
  const host = stack.members[p.agent ?? 0]?.name;
  return tier.agents.find((a) => a.host === host) ?? tier.agents[0]!;
};

function signalMetrics(s: Signals): Record<string, number> {
  return {
    centralUnansweredAfterS: never(s.centralUnansweredS),
    remoteWriteBehindAfterS: never(s.behindS),
    samplesRetriedAfterS: never(s.retriedS),
    instanceDownAfterS: never(s.instanceDownS),
    upGoneAfterS: never(s.upGoneS),
    staleUpAfterS: never(s.staleUpS),
    maxRemoteWriteLagS: never(s.maxLagS),
  };
}

interface Window {
  before: Record<string, AgentSelf | null>;
  ticks: Tick[];
  series: Record<string, [number, number][]>;
  tFault: number;
  tBack: number;
  caughtUpAfterS: number | null;
}

/** The fault for `outageMs`, undone however the watch ends; then the watch until the agents caught up. */
async function outageWindow(
  stack: Stack,
  tier: Tier,
  fault: { on: PullTierFaultKind; off: PullTierFaultKind; target: string },
  names: readonly string[],
  hosts: readonly string[],
): Promise<Window> {
  const { scenario: s, runtime, deps } = stack;
  const p = agentParams(s);
  const before = await readSelves(tier, deps.signal);
  const ticks: Tick[] = [];
  const series: Record<string, [number, number][]> = {};
  const tFault = Date.now();
  await runtime.pullTierFault!(fault.on, fault.target);
  deps.log(`${s.name}/${stack.variant.name}: ${fault.on} ${fault.target} for ${p.outageMs} ms`);
  try {
    await watch(stack, tier, { tFault, untilMs: tFault + p.outageMs!, agents: names, hosts }, ticks, series);
  } finally {
    await runtime.pullTierFault!(fault.off, fault.target);
  }
  const tBack = Date.now();
  const limit = limitsOf(s.scrapeIntervalMs).caughtUpS;
  const caughtUp = (t: Tick) => {
    const lag = watchedLag(t, names);
    return names.every((n) => t.selves[n]) && lag !== null && lag <= limit;
  };
  const stop = { tFault, untilMs: tBack + p.catchUpMs, agents: names, hosts, stop: caughtUp };
  const last = await watch(stack, tier, stop, ticks, series);
  const caughtUpAfterS =
    last && caughtUp(last) ? Math.max(0, Math.round(tFault + last.tS * 1000 - tBack) / 1000) : null;
  return { before, ticks, series, tFault, tBack, caughtUpAfterS };
}

/** The central store down, or one agent's remote write cut: fault, watch, recover, catch up, account. */
async function outage(stack: Stack, what: OutageFacts['what']): Promise<ModeOutcome> {
  const { scenario: s, variant: v, runtime } = stack;
  const tier = tierOf(stack);
  if (typeof tier === 'string') return notApplied(stack, tier);
  const p = agentParams(s);
  const lim = limitsOf(s.scrapeIntervalMs);
  const victim = what === 'partition' ? victimOf(stack, tier, p) : null;
  const agents = victim ? [victim] : tier.agents;
  const names = agents.map((a) => a.name);
  const hosts = agents.map((a) => a.host);
  const fault = victim
    ? ({ on: 'partition', off: 'heal', target: victim.name } as const)
    : ({ on: 'pause', off: 'resume', target: CENTRAL } as const);
  await openThenWait(stack, p);
  const w = await outageWindow(stack, tier, fault, names, hosts);
  const signals = firstSignals(w.ticks, {
    agents: names,
    hosts,
    before: w.before,
    behindLimitS: lim.behindS,
    staleLimitS: lim.staleS,
    centralFault: what === 'central-down',
  });
  const pods = await podsAtCutoff(stack, tier, hosts, { live: new Set(names), boundMs: cutoffBound(s) });
  const after = await readSelves(tier, stack.deps.signal);
  const facts: OutageFacts = {
    what,
    outageS: (w.tBack - w.tFault) / 1000,
    signals,
    rw: remoteWriteDelta(names, w.before, after),
    caughtUpAfterS: w.caughtUpAfterS,
    catchUpBoundS: p.catchUpMs / 1000,
    outageStoredPct: await outageStoredPct(stack, hosts, w.tFault, w.tBack),
    pods,
    causes: outageCauses(pods, after),
  };
  const others = tier.agents.filter((a) => !names.includes(a.name)).map((a) => a.name);
  return {
    cells: [outageCell(v.name, facts)],
    metrics: {
      ...signalMetrics(signals),
      caughtUpAfterS: never(w.caughtUpAfterS),
      samplesRetried: facts.rw.retried,
      samplesFailed: facts.rw.failed,
      samplesDropped: facts.rw.dropped,
      samplesPendingAtEnd: facts.rw.pendingAtEnd,
      outageScrapesStoredPct: never(facts.outageStoredPct),
      ...(others.length > 0 ? { otherAgentsMaxLagS: never(maxLag(w.ticks, others)) } : {}),
    },
    series: w.series,
    notes: [outageNote(runtime.kind, what)],
  };
}

/** The largest lag of these agents over the ticks after the fault (the agents a partition did not cut). */
function maxLag(ticks: readonly Tick[], agents: readonly string[]): number | null {
  let max: number | null = null;
  for (const t of ticks) {
    const l = t.tS >= 0 ? watchedLag(t, agents) : null;
    if (l !== null) max = Math.max(max ?? 0, l);
  }
  return max;
}

/** How long the cut-off waits for a live agent's pods to arrive: two scrapes, the queue's 5 s send deadline. */
const cutoffBound = (s: Scenario) => 2 * s.scrapeIntervalMs + 5000 + 3000;

function outageNote(runtime: string, what: OutageFacts['what']): string {
  return what === 'central-down'
    ? `${runtime} runtime: the central store SIGSTOPped for the outage, then SIGCONTed — the agents' connections stay open and unanswered (remote_timeout 30 s), as with a hung store; the lab's own queries time out. Detection: the first of the central store not answering, an agent's queue over the burst's remote-write-behind limit, retried/failed/dropped samples`
    : `${runtime} runtime: partition = the agent's remote write through its own loopback relay in the lab (the producers' partition mechanism): new connections refused, open ones reset; the agent's scrapes of its pods go on untouched, and the other agents keep writing`;
}

/** One agent SIGKILLed: its host's pods run on, unscraped. */
async function agentDies(stack: Stack): Promise<ModeOutcome> {
  const { scenario: s, variant: v, runtime } = stack;
  const tier = tierOf(stack);
  if (typeof tier === 'string') return notApplied(stack, tier);
  const p = agentParams(s);
  const lim = limitsOf(s.scrapeIntervalMs);
  const victim = victimOf(stack, tier, p);
  await openThenWait(stack, p);
  const before = await readSelves(tier, stack.deps.signal);
  const atKill = await ledgersNow(stack, [victim.host]);
  const tFault = Date.now();
  await runtime.pullTierFault!('kill', victim.name);
  stack.deps.log(`${s.name}/${v.name}: kill ${victim.name} (${victim.pods.length} pods on ${victim.host})`);
  const ticks: Tick[] = [];
  const series: Record<string, [number, number][]> = {};
  const watchMs = s.observeMs - p.atMs;
  const last = await watch(
    stack,
    tier,
    { tFault, untilMs: tFault + watchMs, agents: [victim.name], hosts: [victim.host] },
    ticks,
    series,
  );
  const signals = firstSignals(ticks, {
    agents: [victim.name],
    hosts: [victim.host],
    before,
    behindLimitS: lim.behindS,
    staleLimitS: lim.staleS,
    centralFault: false,
  });
  const pods = await podsAtCutoff(stack, tier, [victim.host], { live: new Set(), boundMs: 0, atKill });
  const causes = deadAgentCauses(pods);
  const upAgeAtEndS = last?.central?.[victim.host]?.ageS ?? null;
  const cell = deadAgentCell(v.name, {
    agent: victim.name,
    watchS: watchMs / 1000,
    signals,
    upAgeAtEndS,
    staleLimitS: lim.staleS,
    pods,
    causes,
  });
  const byCause = (c: string) => causes.find((x) => x.cause === c)?.orders ?? 0;
  return {
    cells: [cell],
    metrics: {
      ...signalMetrics(signals),
      agentMetricsGoneAfterS: never(signals.agentSilentS),
      upAgeAtEndS: never(upAgeAtEndS),
      lostBeforeKill: byCause('agent-killed-unsent'),
      lostAfterKill: byCause('agent-dead-unscraped'),
      victimHostPods: victim.pods.length,
    },
    series,
    notes: [
      `${runtime.kind} runtime: ${victim.name} SIGKILLed; its host's pods kept running. The central store does not scrape the agents, and prometheus/rules ships no absent-series or staleness rule: a dead agent's pods keep their last up (1) for the 5 min lookback`,
    ],
  };
}

/** Every agent mode runs pull through per-host agents; the partition also needs its agents' relays. */
const agentStack = (relays: boolean) => () => ({
  pullTopology: 'agent' as const,
  ...(relays ? { agentRelays: true } : {}),
});

export const centralStoreDown: DrillMode = {
  stackOptions: agentStack(false),
  run: (s) => outage(s, 'central-down'),
};
export const pullAgentDies: DrillMode = { stackOptions: agentStack(false), run: agentDies };
export const pullAgentPartition: DrillMode = {
  stackOptions: agentStack(true),
  run: (s) => outage(s, 'partition'),
};
