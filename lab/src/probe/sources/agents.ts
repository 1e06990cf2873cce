import { httpJson, httpText } from '../../core/http.ts';
import type { AgentSelf } from '../../core/record-agents.ts';
import type { PullAgentInfo } from '../../runtime/types.ts';
import { type AgentTarget, agentSelfSnapshot, centralReceiverSnapshot } from '../agents.ts';
import { emptyPull } from '../sample.ts';
import { targetFields } from '../stores.ts';
import { PROBE_TIMEOUT_MS, type ProbeSource, type ProbeTargets, TICK_MS } from './source.ts';

// #29: the pull agents, every second — each agent's own /metrics (remote-write queue, WAL, scrape interval) and
// /api/v1/targets (its pods' health and scrape durations: with agents, the central store scrapes no pod), and
// the central store's receiver counters from its /metrics. One source: the agents answer together or the
// tick's reading is partial (an agent that did not answer is left out and the source counts as failed).

/** The agents' active targets, as the central store's /api/v1/targets answers. */
async function agentTargets(a: PullAgentInfo, signal: AbortSignal): Promise<AgentTarget[]> {
  const r = await httpJson<{ data?: { activeTargets?: AgentTarget[] } }>(
    `${a.url}/api/v1/targets?state=active`,
    { timeoutMs: PROBE_TIMEOUT_MS, signal },
  );
  return r.data?.activeTargets ?? [];
}

export function agentsSource(t: ProbeTargets & { agents: () => PullAgentInfo[] }): ProbeSource {
  return {
    name: 'agents',
    periodMs: TICK_MS,
    duty: 3,
    async read(s, { signal }) {
      const agents = t.agents();
      const read = await Promise.allSettled(
        agents.map(async (a) => ({
          self: agentSelfSnapshot(
            await httpText(`${a.url}/metrics`, { timeoutMs: PROBE_TIMEOUT_MS, signal }),
          ),
          targets: await agentTargets(a, signal),
        })),
      );
      const selves: Record<string, AgentSelf> = {};
      const targets: AgentTarget[] = [];
      const failed: string[] = [];
      read.forEach((r, i) => {
        const name = agents[i]!.name;
        if (r.status === 'rejected') failed.push(name);
        else {
          selves[name] = r.value.self;
          targets.push(...r.value.targets);
        }
      });
      s.agents = selves;
      const intervals = Object.values(selves)
        .map((a) => a.intervalP99)
        .filter((v): v is number => v !== null);
      s.pull = {
        ...emptyPull(),
        ...(failed.length === 0 ? targetFields(targets, 'producers') : {}),
        intervalP99: intervals.length > 0 ? Math.max(...intervals) : null,
      };
      // The central store's receiver counters: best effort — a store too busy to answer is the store-self
      // sources' finding, not a gap in what the agents said.
      const central = await httpText(`${t.prom.baseUrl}/metrics`, {
        timeoutMs: PROBE_TIMEOUT_MS,
        signal,
      }).catch(() => null);
      const receiver = central === null ? null : centralReceiverSnapshot(central);
      if (receiver) s.centralReceiver = receiver;
      if (failed.length > 0) throw new Error(`no answer from ${failed.join(', ')}`);
    },
  };
}
