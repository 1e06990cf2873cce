import { describeError } from '@pushpull/common';
import { httpJson, httpText } from '../../core/http.ts';
import type { AgentSelf } from '../../core/record-agents.ts';
import { type AgentTarget, agentSelfSnapshot, podsScrapedAfter } from '../../probe/agents.ts';
import type { PullAgentInfo } from '../../runtime/types.ts';
import type { RunContext } from '../context.ts';

// #29: every pull agent at the cut-off — its remote-write counters (what it still held, failed, dropped) and
// the pods it scraped successfully after quiesce — read just before the central store is asked what it stored,
// so the loss by cause can tell "never scraped" from "scraped, never delivered".

/** One agent at the end; null fields = it did not answer. */
export interface AgentFinal {
  name: string;
  host: string;
  self: AgentSelf | null;
  scrapedAfterQuiesce: string[] | null;
}

const AGENT_READ_TIMEOUT_MS = 10_000;

export async function agentsFinal(ctx: RunContext): Promise<void> {
  if (ctx.config.pullTopology !== 'agent' || !ctx.runtime.pullAgents) return;
  const afterMs = ctx.collected.quiesceAtMs;
  ctx.collected.agents = await Promise.all(ctx.runtime.pullAgents().map((a) => readAgent(ctx, a, afterMs)));
}

async function readAgent(ctx: RunContext, a: PullAgentInfo, afterMs: number): Promise<AgentFinal> {
  const o = { timeoutMs: AGENT_READ_TIMEOUT_MS, signal: ctx.signal };
  const self = await httpText(`${a.url}/metrics`, o)
    .then(agentSelfSnapshot)
    .catch((e: unknown) => {
      ctx.signal.throwIfAborted();
      ctx.notes.push(`pull agents: ${a.name} did not answer /metrics at the cut-off (${describeError(e)})`);
      return null;
    });
  const targets = await httpJson<{ data?: { activeTargets?: AgentTarget[] } }>(
    `${a.url}/api/v1/targets?state=active`,
    o,
  )
    .then((r) => podsScrapedAfter(r.data?.activeTargets ?? [], afterMs))
    .catch(() => null);
  return { name: a.name, host: a.host, self, scrapedAfterQuiesce: targets };
}
