import { LabError } from '@pushpull/common';
import { paths } from '../../core/paths.ts';
import { pushAgentFlags, pushAgentNameOf } from '../push-agent-args.ts';
import { terminate } from './children.ts';
import { closeForwardRelays, forwardAddress } from './push-agent-faults.ts';
import { addrToUrl, type ProcessStack, startListening, testOnlyArgs, writeLabJson } from './state.ts';

// #27 on the process runtime: one collector in agent mode per producer process, on 127.0.0.1 (port 0 for
// StatsD over UDP and its HTTP), forwarding to the central collector's OTLP receiver. It is a base child
// (`agent-<i>` in s.base): stopped, reaped, CPU- and RSS-read and checked for death with the stack.

export interface StartedPushAgent {
  name: string;
  /** HOST:PORT its pods push StatsD to. */
  udp: string;
  /** Its HTTP base URL (/metrics/self: its books). */
  url: string;
}

/** Where an agent listens: StatsD over UDP and its self-metrics, on loopback ports of its choosing. */
const AGENT_LISTEN = {
  'statsd-udp': '127.0.0.1:0',
  'statsd-tcp': 'off',
  http: '127.0.0.1:0',
  'otlp-http': 'off',
};

/**
 * TEST ONLY: extra agent flags appended after the lab's (the last occurrence wins), e.g. a small forward queue
 * so a short test sees it fill. Every use is announced on stderr; nothing in the lab sets it.
 */
export const TEST_AGENT_ARGS_ENV = 'PUSHPULL_TEST_AGENT_EXTRA_ARGS';

/** Starts the agent of `producer-<i>` and waits for its listening line. */
export async function startPushAgent(
  s: ProcessStack,
  producerName: string,
  signal?: AbortSignal,
): Promise<StartedPushAgent> {
  const otlp = s.collectorStatsd?.otlp;
  if (!otlp)
    throw new LabError('LAB_ERR_CONFIG', 'push topology agent: the central collector has no OTLP receiver');
  const name = pushAgentNameOf(producerName);
  // A partitionable stack: through a relay the drill can cut (push-agent-faults.ts), else to the receiver.
  const forward = await forwardAddress(s, name, otlp);
  const { udp, http } = await startListening(
    s,
    name,
    [
      paths(s.root).collectorMain,
      ...Object.entries(AGENT_LISTEN).flatMap(([flag, at]) => [`--${flag}`, at]),
      ...pushAgentFlags(`http://${forward}/v1/metrics`, s.opts?.collectorFlags ?? []),
      ...testOnlyArgs(TEST_AGENT_ARGS_ENV, 'agents'),
    ],
    signal,
  );
  return { name, udp, url: addrToUrl(http) };
}

/** Stops the agent of a producer that was stopped (scale down). */
export async function stopPushAgent(s: ProcessStack, producerName: string): Promise<void> {
  const name = pushAgentNameOf(producerName);
  const child = s.base.get(name);
  if (!child) return;
  await terminate(child.pid);
  await closeForwardRelays(s, name);
  s.base.delete(name);
  writeLabJson(s);
}
