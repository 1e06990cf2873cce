import { LabError } from '@pushpull/common';
import { paths } from '../../core/paths.ts';
import { renderArgs, stackComponents } from '../components.ts';
import { pushAgentNameOf } from '../push-agent-args.ts';
import type { ProducerMember, PushAgentFaultKind } from '../types.ts';
import { sendSignal, terminate } from './children.ts';
import { TcpRelay } from './relay-tcp.ts';
import { TEST_COLLECTOR_ARGS_ENV } from './stack.ts';
import { type ProcessStack, startListening, testOnlyArgs, writeLabJson } from './state.ts';

// #27, the drill's push-agent column on the process runtime: faults on the agent tier.
//  - kill-agent: SIGKILL the agent beside a producer (`agent-<i>`, a base child).
//  - cut-forward / heal-forward: the agent → central collector path only. Everything shares the host's
//    loopback, so there is no network to cut: on a partitionable stack every agent forwards through its own
//    loopback TCP relay in the lab's process (the relay the producers' partition uses, relay-tcp.ts); the cut
//    refuses new connections and resets open ones. The pods → agent path (UDP) is untouched.
//  - stop-central / start-central: the central collector stopped (SIGTERM, then SIGKILL after the grace
//    period) and started again on the same addresses — empty: what it had counted died with it.

/** Each stack's agent forward relays by agent name (only partitionable stacks have them). */
const forwardRelays = new WeakMap<ProcessStack, Map<string, TcpRelay>>();

/** Why an agent's forward path cannot be cut on this stack. */
const NO_FORWARD_RELAY =
  "the process runtime cuts an agent's forward path only through the lab's relay, which a stack started without partitionable (or a persistent `up` stack) does not have";

/**
 * Where the agent on this host forwards: the central OTLP receiver `otlp` (HOST:PORT) itself, or — on a
 * partitionable, non-persistent stack — a relay to it that `cut-forward` can cut.
 */
export async function forwardAddress(s: ProcessStack, agentName: string, otlp: string): Promise<string> {
  if (s.opts?.partitionable !== true || s.persistent) return otlp;
  const relay = new TcpRelay(otlp, `${agentName} forward relay`);
  const at = await relay.listen();
  const relays = forwardRelays.get(s) ?? new Map<string, TcpRelay>();
  relays.set(agentName, relay);
  forwardRelays.set(s, relays);
  return at;
}

/** Closes one agent's forward relay (scale down), or every one (teardown). */
export async function closeForwardRelays(s: ProcessStack, agentName?: string): Promise<void> {
  const relays = forwardRelays.get(s);
  if (!relays) return;
  const names = agentName === undefined ? [...relays.keys()] : [agentName];
  await Promise.all(names.map((n) => relays.get(n)?.close()));
  for (const n of names) relays.delete(n);
}

/** The agent child beside `member` (its host). */
function agentOf(s: ProcessStack, member: ProducerMember | undefined): string {
  if (!member) throw new LabError('LAB_ERR_SCENARIO', 'an agent fault names the producer host');
  const name = pushAgentNameOf(member.name);
  if (!s.base.has(name))
    throw new LabError(
      'LAB_ERR_SCENARIO',
      `no push agent beside ${member.name} (${name}): the stack runs push topology agent only when its producers were scaled with pushTopology agent`,
    );
  return name;
}

function relayOf(s: ProcessStack, agentName: string): TcpRelay {
  const r = forwardRelays.get(s)?.get(agentName);
  if (!r)
    throw new LabError('LAB_ERR_FAULT_UNSUPPORTED', `${agentName}: ${NO_FORWARD_RELAY}`, {
      agent: agentName,
    });
  return r;
}

/** Cuts (or heals) the forward path of every agent that has a relay. */
export async function cutAllForwards(s: ProcessStack, cut: boolean): Promise<void> {
  const relays = [...(forwardRelays.get(s)?.values() ?? [])];
  await Promise.all(relays.map((r) => (cut ? r.cut() : r.heal())));
}

export async function pushAgentFault(
  s: ProcessStack,
  kind: PushAgentFaultKind,
  member?: ProducerMember,
): Promise<void> {
  switch (kind) {
    case 'kill-agent':
      sendSignal(s.base.get(agentOf(s, member))!.pid, 'SIGKILL');
      return;
    case 'cut-forward':
      return relayOf(s, agentOf(s, member)).cut();
    case 'heal-forward':
      return relayOf(s, agentOf(s, member)).heal();
    case 'stop-central': {
      const c = s.base.get('collector');
      if (c) await terminate(c.pid);
      return;
    }
    case 'start-central':
      return startCentral(s);
  }
}

/** The central collector again, on the addresses it had (its clients — agents, Prometheus — keep them). */
async function startCentral(s: ProcessStack): Promise<void> {
  const st = s.collectorStatsd;
  const http = s.endpoints?.collectorHttpUrl.replace('http://', '');
  if (!s.opts || !st || !http) throw new LabError('LAB_ERR_CONFIG', 'start-central before up()');
  const at: Record<string, string> = {
    'statsd-udp': st.udp,
    'statsd-tcp': st.tcp ?? '127.0.0.1:0',
    http,
    'otlp-http': st.otlp ?? 'off',
  };
  const spec = stackComponents(s.opts).collector;
  await startListening(
    s,
    'collector',
    [
      paths(s.root).collectorMain,
      ...renderArgs(spec, (p) => at[p.flag] ?? '127.0.0.1:0'),
      ...testOnlyArgs(TEST_COLLECTOR_ARGS_ENV, 'collector'),
    ],
    s.opts.signal,
  );
  writeLabJson(s);
}
