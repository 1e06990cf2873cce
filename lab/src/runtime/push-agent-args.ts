// #27: the collector in agent mode, one per producer host (process runtime: per producer process). One
// description of its command, so every runtime that runs the agent tier runs the same agent.

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
