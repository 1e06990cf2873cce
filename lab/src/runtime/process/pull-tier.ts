import { LabError } from '@pushpull/common';
import { isAgentName } from '../../core/record-agents.ts';
import type { PullTierFaultKind } from '../types.ts';
import { sendSignal } from './children.ts';
import { TcpRelay } from './relay-tcp.ts';
import type { ProcessStack } from './state.ts';

// #29 drill on the process runtime: faults on pull's own tier — the central store (`prometheus`) and the pull
// agents (`prometheus-agent-<i>`) — rather than on a producer. Signals for kill/pause/resume. A partition of
// one agent from the central store cuts its remote write only: on a stack up with `agentRelays`, each agent
// remote-writes through its own loopback TCP relay (relay-tcp.ts, the producers' partition mechanism), so a cut
// refuses new connections and resets the open ones while the agent's scrapes of its pods go on untouched.

/** Each stack's agent relays by agent name (kept beside the stack, closed at its teardown). */
const RELAYS = new WeakMap<ProcessStack, Map<string, TcpRelay>>();

const CENTRAL = 'prometheus';

/** Opens the agent's remote-write relay towards the central store (`http://HOST:PORT`); its HOST:PORT. */
export async function openAgentRelay(s: ProcessStack, agent: string, centralUrl: string): Promise<string> {
  const relay = new TcpRelay(new URL(centralUrl).host, `${agent} remote-write relay`);
  await relay.listen();
  const byName = RELAYS.get(s) ?? new Map<string, TcpRelay>();
  byName.set(agent, relay);
  RELAYS.set(s, byName);
  return relay.address();
}

/** Closes one agent's relay (the agent was removed), or every one (teardown). */
export async function closeAgentRelays(s: ProcessStack, agent?: string): Promise<void> {
  const byName = RELAYS.get(s);
  if (!byName) return;
  const names = agent === undefined ? [...byName.keys()] : [agent];
  await Promise.all(names.map((n) => byName.get(n)?.close()));
  for (const n of names) byName.delete(n);
}

function unsupported(kind: PullTierFaultKind, component: string, why: string): never {
  throw new LabError('LAB_ERR_FAULT_UNSUPPORTED', `fault "${kind}" on ${component}: ${why}`, {
    kind,
    component,
  });
}

export async function pullTierFault(
  s: ProcessStack,
  kind: PullTierFaultKind,
  component: string,
): Promise<void> {
  if (component !== CENTRAL && !(isAgentName(component) && s.agents.has(component)))
    throw new LabError(
      'LAB_ERR_SCENARIO',
      `pull-tier fault: no component named "${component}" (the central store "${CENTRAL}" or a running pull agent: ${[...s.agents.keys()].join(', ') || 'none'})`,
      { component },
    );
  const child = s.base.get(component);
  if (!child)
    throw new LabError('LAB_ERR_SCENARIO', `pull-tier fault: ${component} is not running`, { component });
  if (kind === 'kill' || kind === 'pause' || kind === 'resume') {
    sendSignal(child.pid, kind === 'kill' ? 'SIGKILL' : kind === 'pause' ? 'SIGSTOP' : 'SIGCONT');
    return;
  }
  if (component === CENTRAL)
    unsupported(kind, component, 'partition one pull agent from the central store instead');
  const relay = RELAYS.get(s)?.get(component);
  if (!relay)
    unsupported(
      kind,
      component,
      "its remote write goes through the lab's relay only on a stack started with agentRelays",
    );
  await (kind === 'partition' ? relay.cut() : relay.heal());
}
