import { type AgentFinals, type AgentPodOutcome, agentPullLossCauses } from '../analysis/agent-causes.ts';
import type { PullPodOutcome } from '../analysis/causes.ts';
import type { FirstFailure, LossCause, ProbeSample } from '../core/record.ts';
import type { AgentRecord, PullAgentsRecord } from '../core/record-agents.ts';
import { agentNameOf } from '../core/record-agents.ts';
import type { RunContext } from './context.ts';

// #29: the record's part for pull through per-host agents — the loss by cause from the agents' own
// remote-write counters, and every agent's cost and state beside the central store's.

/** Signals that mean an agent fell behind its own scrape interval. */
const AGENT_OVERLOAD = new Set(['interval-stretch']);

/** The pull path's causes with agents: each pod's host agent and whether it scraped the pod after quiesce. */
export function agentCauses(
  ctx: RunContext,
  lost: number,
  pods: readonly (PullPodOutcome & { producer: string })[],
  firstFailures: readonly FirstFailure[],
): LossCause[] {
  const finals: Record<string, AgentFinals[string]> = {};
  const scraped = new Map<string, Set<string> | null>();
  for (const a of ctx.collected.agents ?? []) {
    finals[a.name] = a.self;
    scraped.set(a.name, a.scrapedAfterQuiesce ? new Set(a.scrapedAfterQuiesce) : null);
  }
  const outcomes: AgentPodOutcome[] = pods.map((p) => {
    const agent = agentNameOf(p.producer);
    const set = scraped.get(agent);
    return { ...p, agent, scrapedByAgent: set ? set.has(p.pod) : null };
  });
  const overloaded = firstFailures.some((f) => f.path === 'pull' && AGENT_OVERLOAD.has(f.signal));
  return agentPullLossCauses(lost, outcomes, finals, overloaded);
}

/**
 * Cores a component used from the open to quiesce (its CPU seconds per second), and its peak RSS in that
 * window: one reading for the pull agents (#29) and the push agents (#27).
 */
export function componentCost(samples: readonly ProbeSample[], name: string, fromMs: number, toMs: number) {
  const inWindow = samples.filter((s) => s.tMs >= fromMs && s.tMs <= toMs && s.cpu?.[name] !== undefined);
  const a = inWindow[0];
  const b = inWindow[inWindow.length - 1];
  const cpuCores =
    a && b && b.tMs > a.tMs
      ? Math.round(((b.cpu![name]! - a.cpu![name]!) / ((b.tMs - a.tMs) / 1000)) * 1000) / 1000
      : null;
  let rssMaxBytes: number | null = null;
  for (const s of samples) {
    const v = s.tMs >= fromMs && s.tMs <= toMs ? s.rss?.[name] : undefined;
    if (v !== undefined && (rssMaxBytes === null || v > rssMaxBytes)) rssMaxBytes = v;
  }
  return { cpuCores, rssMaxBytes };
}

/** run.json `pullAgents`: null unless the run had agents. */
export function pullAgentsRecord(ctx: RunContext, samples: readonly ProbeSample[]): PullAgentsRecord | null {
  if (ctx.config.pullTopology !== 'agent') return null;
  const fromMs = ctx.burstAtMs ?? samples[0]?.tMs ?? 0;
  const toMs = ctx.collected.quiesceAtMs || Date.now();
  const finals = new Map((ctx.collected.agents ?? []).map((a) => [a.name, a]));
  const names = new Set<string>([...finals.keys()]);
  for (const s of samples) for (const k of Object.keys(s.agents ?? {})) names.add(k);
  const agents: AgentRecord[] = [...names].sort().map((name) => {
    const f = finals.get(name);
    const host = f?.host ?? `producer-${name.replace(/^prometheus-agent-/, '')}`;
    return {
      name,
      host,
      pods: ctx.members.find((m) => m.name === host)?.podIds.length ?? 0,
      final: f?.self ?? null,
      scrapedAfterQuiesce: f?.scrapedAfterQuiesce ? f.scrapedAfterQuiesce.length : null,
      ...componentCost(samples, name, fromMs, toMs),
    };
  });
  const receiver = [...samples].reverse().find((s) => s.centralReceiver)?.centralReceiver ?? null;
  return {
    topology: 'agent',
    agents,
    central: { name: 'prometheus', ...componentCost(samples, 'prometheus', fromMs, toMs), receiver },
    budget:
      ctx.config.resources === undefined
        ? 'no resource plan: the agents and the central store ran unbudgeted'
        : ctx.runtime.kind === 'process'
          ? "one budget for pull's pipeline: the central store and every agent in the prometheus cgroup (resources.prometheus)"
          : "pull's budget split: the central store half, the agents the other half in equal shares (resources.prometheus sums them)",
  };
}
