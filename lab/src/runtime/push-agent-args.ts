import type { ComponentResources } from '../core/resources.ts';
import { containerCollectorAddress } from './producer-args.ts';
import { shareOf } from './resource-limits.ts';

// #27: the collector in agent mode, one per producer host (process runtime: per producer process; docker: per
// producer container; swarm: per producer node). One description of its command and budget, so every runtime
// runs the same agent.

/** How often an agent flushes what it aggregated to the central collector (the DogStatsD/OTel batch scale). */
export const PUSH_AGENT_FLUSH_MS = 1000;
/** The counter family the agent books by outcome: the orders the lab accounts. */
export const PUSH_AGENT_TALLY = 'orders';

/**
 * The agent's flags after its listen addresses: agent mode, where to forward (the central collector's OTLP
 * receiver), its flush interval, the tallied family, and the lab's collector limits (`collectorFlags`: the
 * series budget, the receive buffer), so the agent takes what the central collector would.
 */
export function pushAgentFlags(forwardUrl: string, collectorFlags: readonly string[] = []): string[] {
  return [
    ...['--mode', 'agent', '--forward-otlp', forwardUrl],
    ...['--flush-interval', `${PUSH_AGENT_FLUSH_MS}ms`, '--forward-tally', PUSH_AGENT_TALLY],
    ...collectorFlags,
  ];
}

/** `agent-<i>` sits beside `producer-<i>` (its host). */
export const pushAgentNameOf = (producerName: string) => producerName.replace(/^producer-/, 'agent-');

/** The agent's HTTP port in a container (docker, swarm): its /metrics/self, the collector's own port. */
export const PUSH_AGENT_HTTP_PORT = 9102;

/** The central collector's OTLP receiver as an agent container reaches it on the run's network. */
export const CENTRAL_OTLP_IN_STACK = `http://${containerCollectorAddress('otlp')}/v1/metrics`;

/**
 * An agent container's command (docker and swarm): StatsD over UDP at `statsdUdp` (docker: 127.0.0.1:8125 in
 * its host's network namespace; swarm: 0.0.0.0:8125 on the overlay), no TCP or OTLP listener of its own, its
 * HTTP on the collector's port, then the flags every runtime's agent runs with.
 */
export function pushAgentContainerArgs(statsdUdp: string, collectorFlags: readonly string[] = []): string[] {
  return [
    ...['--statsd-udp', statsdUdp, '--statsd-tcp', 'off'],
    ...['--http', `0.0.0.0:${PUSH_AGENT_HTTP_PORT}`, '--otlp-http', 'off'],
    ...pushAgentFlags(CENTRAL_OTLP_IN_STACK, collectorFlags),
  ];
}

/**
 * Push's budget with agents on an engine runtime, where each container or task is limited on its own (the
 * process runtime puts them all in the collector's one group instead): the central collector half of it,
 * each of `agents` agents the other half in equal shares — as pull's budget is split with its agents (#29).
 */
export function pushBudgets(
  collector: ComponentResources,
  agents: number,
): { central: ComponentResources; agent: ComponentResources } {
  const half = shareOf(collector, 2);
  return { central: half, agent: shareOf(half, agents) };
}
