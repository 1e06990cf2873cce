import { parseDurationMs } from '@pushpull/common';
import { transportOf } from '../../core/transports.ts';
import type { Scenario } from '../scenario.ts';
import type { Reader } from '../scenario-reader.ts';

// #27, the drill's push-agent column: push as teams deploy it, every producer host's pods sending StatsD over
// loopback UDP to a collector agent on their host that forwards OTLP/HTTP to the central collector. Three
// failure modes act on that tier (lab/scenarios/agent-dies.yml, central-down.yml, agent-partition.yml); their
// knobs and the column's rules, checked when the scenario loads. Pure.

/** The grid column of push through the agent tier. */
export const PUSH_AGENT_COLUMN = 'push-agent';

export const PUSH_AGENT_MODES = ['agent-dies', 'central-down', 'agent-partition'] as const;
export type PushAgentMode = (typeof PUSH_AGENT_MODES)[number];

/** The modes that cut an agent's forward path (briefly, for central-down's exact reading): relays needed. */
export const PUSH_AGENT_CUT_MODES: readonly string[] = ['central-down', 'agent-partition'];

export const isPushAgentMode = (m: string): m is PushAgentMode =>
  (PUSH_AGENT_MODES as readonly string[]).includes(m);

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** The agent's own forward knobs (collector --forward-*), for every agent of the scenario's stack. */
const forwardKnobs = {
  forwardQueuePoints: (r: Reader, k: string) => r.int(k, 1, 100_000_000),
  forwardMaxElapsed: (r: Reader, k: string) => r.durationIn(k, { min: 0, max: 10 * MINUTE }),
};
/** The producer host whose agent the fault hits (agent-dies, agent-partition) or whose books are read. */
const host = (r: Reader, k: string) => r.int(k, 0, 999);
const outage = (r: Reader, k: string) => r.durationIn(k, { min: SECOND, max: 10 * MINUTE });

/** Each agent mode's params (scenario.ts MODE_PARAMS). */
export const PUSH_AGENT_PARAMS: Record<PushAgentMode, Record<string, (r: Reader, key: string) => unknown>> = {
  'agent-dies': { host },
  'central-down': { host, outage, ...forwardKnobs },
  'agent-partition': { host, outage, ...forwardKnobs },
};

/** The scenario's host (default 0) and outage (default 40 s: the issue's). */
export const hostOf = (s: Scenario): number => Number(s.params.host ?? 0);
export const DEFAULT_OUTAGE_MS = 40_000;

/** A validated duration param in ms (a number is seconds, as the scenario reader takes it). */
function paramMs(v: number | string | boolean | undefined, dflt: number, key: string): number {
  if (v === undefined) return dflt;
  return typeof v === 'number' ? v * 1000 : parseDurationMs(String(v), key);
}

export const outageMsOf = (s: Scenario): number => paramMs(s.params.outage, DEFAULT_OUTAGE_MS, 'outage');

/** The agents' extra flags from the scenario's forward knobs (applied to every agent; the central ignores them). */
export function pushAgentCollectorFlags(s: Scenario): string[] {
  const out: string[] = [];
  if (s.params.forwardQueuePoints !== undefined)
    out.push('--forward-queue-points', String(s.params.forwardQueuePoints));
  if (s.params.forwardMaxElapsed !== undefined)
    out.push('--forward-max-elapsed', `${paramMs(s.params.forwardMaxElapsed, 0, 'forwardMaxElapsed')}ms`);
  return out;
}

/**
 * The column's rules: push-agent variants only in the agent modes, and the agent modes only push-agent
 * variants (StatsD over UDP, something pushed); the host inside the fleet; the outage inside the window.
 */
export function checkPushAgentScenario(r: Reader, s: Scenario, producers: number): void {
  const agentMode = isPushAgentMode(s.mode);
  s.variants.forEach((v, i) => {
    const isAgent = v.column === PUSH_AGENT_COLUMN;
    if (isAgent !== agentMode)
      r.fail(
        `variants[${i}].column`,
        agentMode
          ? `mode ${s.mode} measures the push agent tier: every variant is column ${PUSH_AGENT_COLUMN} (got ${v.column})`
          : `column ${PUSH_AGENT_COLUMN} belongs to the agent modes (${PUSH_AGENT_MODES.join(', ')}), not ${s.mode}`,
      );
    if (isAgent && (!transportOf(v.push.transport).datagrams || v.push.mode === 'off'))
      r.fail(
        `variants[${i}].push`,
        `the agent tier takes StatsD over UDP: transport udp and a push mode other than off (got ${v.push.transport}, ${v.push.mode})`,
      );
  });
  if (!agentMode) return;
  if (hostOf(s) >= producers)
    r.fail('params.host', `host ${hostOf(s)} is not in the fleet (producers 0..${producers - 1})`);
  if (s.mode !== 'agent-dies' && outageMsOf(s) >= s.observeMs)
    r.fail(
      'params.outage',
      `the outage (${outageMsOf(s)} ms) must end inside the observation window (${s.observeMs} ms)`,
    );
}

/** The runtimes whose stacks run the agent tier and its faults (Runtime.pushAgentFault). */
export const PUSH_AGENT_RUNTIMES: readonly string[] = ['process'];

/**
 * `drill` (every scenario) elsewhere: the agent scenarios are left out with a note, as the node drills are
 * off swarm — a stack brought up only to read "not applied". `scenario <name>` still runs one and says so.
 */
export function pushAgentScenariosOn(
  runtime: string,
  scenarios: readonly Scenario[],
  note: (s: string) => void,
): Scenario[] {
  if (PUSH_AGENT_RUNTIMES.includes(runtime)) return [...scenarios];
  const left = scenarios.filter((s) => isPushAgentMode(s.mode));
  if (left.length > 0)
    note(
      `drill: ${left.map((s) => s.name).join(', ')} left out: the push agent tier's faults run on the process runtime only (yet)\n`,
    );
  return scenarios.filter((s) => !isPushAgentMode(s.mode));
}
