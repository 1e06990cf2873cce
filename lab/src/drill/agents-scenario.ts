import { LabError, parseDurationMs } from '@pushpull/common';
import type { RuntimeKind } from '../core/record.ts';
import { capabilitiesOf } from '../runtime/capabilities.ts';
import type { FailureMode, Scenario } from './scenario.ts';
import { formatMs, type Range, type Reader } from './scenario-reader.ts';

// #29: the drill's `agents` column — pull through per-host agents (a Prometheus in agent mode per producer
// host remote-writing to the central store). Its three failure modes act on pull's own tier, not on a
// producer, so their fault is in `params` (when, how long, which agent) instead of the producer fault schedule.
// Validated here, once, at load time; the modes read the parsed values through agentParams().

/** The failure modes of the agents column (each one grid row). */
export const AGENT_MODES: readonly FailureMode[] = [
  'central-store-down',
  'pull-agent-dies',
  'pull-agent-partition',
];

export const isAgentMode = (m: FailureMode): boolean => AGENT_MODES.includes(m);

const SECOND = 1000;
const LIMITS = {
  at: { min: 0, max: 10 * 60 * SECOND },
  outage: { min: SECOND, max: 10 * 60 * SECOND },
  catchUp: { min: 5 * SECOND, max: 10 * 60 * SECOND },
} as const satisfies Record<string, Range>;

type ParamCheck = (r: Reader, key: string) => unknown;
const at: ParamCheck = (r, k) => r.durationIn(k, LIMITS.at);
const outage: ParamCheck = (r, k) => r.durationIn(k, LIMITS.outage);
const catchUp: ParamCheck = (r, k) => r.durationIn(k, LIMITS.catchUp);
const agent: ParamCheck = (r, k) => r.int(k, 0, 1999);

/** The knobs each agent mode reads (scenario.ts MODE_PARAMS). */
export const AGENT_MODE_PARAMS = {
  // `at`: the fault, after the open (market-open) or the start of the measurement (steady); `outage`: how long
  // the central store is stopped; `catchUp`: how long to wait, once it is back, for the agents to catch up.
  'central-store-down': { at, outage, catchUp },
  // `agent`: the index of the producer host whose agent is SIGKILLed (its pods keep running).
  'pull-agent-dies': { at, agent },
  // The agent's remote write to the central store cut for `outage`, then healed.
  'pull-agent-partition': { at, agent, outage, catchUp },
} satisfies Record<string, Record<string, ParamCheck>>;

/** An agent mode's fault, parsed (durations in ms). */
export interface AgentDrillParams {
  atMs: number;
  /** The outage (store down, remote write cut); null for a kill. */
  outageMs: number | null;
  catchUpMs: number;
  /** The victim agent's producer host index (the whole tier for `central-store-down`). */
  agent: number | null;
}

const DEFAULTS = { at: '2s', outage: '40s', catchUp: '60s' } as const;

function ms(v: unknown, dflt: string): number {
  if (typeof v === 'number') return v * 1000;
  return parseDurationMs(typeof v === 'string' ? v : dflt, 'params');
}

/** The parsed fault of an agent mode (the scenario was validated: every value is in range). */
export function agentParams(s: Scenario): AgentDrillParams {
  const p = s.params;
  return {
    atMs: ms(p.at, DEFAULTS.at),
    outageMs: s.mode === 'pull-agent-dies' ? null : ms(p.outage, DEFAULTS.outage),
    catchUpMs: ms(p.catchUp, DEFAULTS.catchUp),
    agent: s.mode === 'central-store-down' ? null : Number(p.agent ?? 0),
  };
}

/**
 * The agents column and its modes go together; the victim agent's host exists; the fault (and the outage)
 * fall inside the observation window; the producer fault schedule is not theirs.
 */
export function checkAgentScenario(r: Reader, s: Scenario): void {
  const agentMode = isAgentMode(s.mode);
  s.variants.forEach((v, i) => {
    if ((v.column === 'agents') !== agentMode)
      r.fail(
        `variants[${i}].column`,
        agentMode
          ? `mode ${s.mode} measures pull through per-host agents: its variants go in column agents, not ${v.column}`
          : `column agents belongs to the agent modes (${AGENT_MODES.join(', ')}), not ${s.mode}`,
      );
  });
  if (!agentMode) return;
  if (s.faults.length > 0)
    r.fail(
      'faults',
      `mode ${s.mode} takes its fault from params (at, outage, agent), not the producer schedule`,
    );
  const producers = Math.ceil(s.pods / s.podsPerProducer);
  const p = agentParams(s);
  if (p.agent !== null && p.agent >= producers)
    r.fail(
      'params.agent',
      `${p.agent} is not a producer host (the fleet has ${producers}: 0..${producers - 1})`,
    );
  const end = p.atMs + (p.outageMs ?? 0);
  if (end >= s.observeMs)
    r.fail(
      'observe',
      `${formatMs(s.observeMs)} must outlast the fault (at ${formatMs(p.atMs)}${p.outageMs === null ? '' : ` + outage ${formatMs(p.outageMs)}`})`,
    );
}

/**
 * The agent modes fail pull's own tier, which only a runtime with pull-tier faults can (the process runtime):
 * named alone (`scenario central-store-down`) elsewhere → a clear error before any stack starts; in `drill`
 * (every scenario) they are left out with a note.
 */
export function agentScenarios<S extends Pick<Scenario, 'name' | 'mode'>>(
  verb: 'drill' | 'scenario',
  scenarios: S[],
  runtime: RuntimeKind,
  note: (s: string) => void,
): S[] {
  if (capabilitiesOf(runtime).pullTierFaults) return scenarios;
  const left = scenarios.filter((s) => isAgentMode(s.mode)).map((s) => s.name);
  if (left.length === 0) return scenarios;
  const why = `the ${runtime} runtime cannot stop the central store, kill a pull agent or cut its remote write (use --runtime process)`;
  if (verb === 'scenario')
    throw new LabError('LAB_ERR_FAULT_UNSUPPORTED', `scenario ${left.join(', ')}: ${why}`, { runtime });
  note(`drill: ${left.join(', ')} left out: ${why}\n`);
  return scenarios.filter((s) => !isAgentMode(s.mode));
}
