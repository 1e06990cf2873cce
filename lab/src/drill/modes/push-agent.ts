import { isLabError, sumCounts } from '@pushpull/common';
import type { PushAgentReading } from '../../core/record-push-agents.ts';
import { abortableSleep } from '../../core/time.ts';
import { ControlClient } from '../../probe/control.ts';
import { readPushAgent } from '../../probe/push-agents.ts';
import { PUSH_AGENT_FLUSH_MS, pushAgentNameOf } from '../../runtime/push-agent-args.ts';
import type { ProducerMember, PushAgentFaultKind } from '../../runtime/types.ts';
import { notAppliedCell } from '../grid.ts';
import { alertFiring, collectorOrdersFor, ledgerFor, type Stack, secondsSince } from '../harness.ts';
import {
  type AgentDetection,
  type AgentMeasurement,
  agentCell,
  agentMetrics,
  failedRequests,
  noDetection,
} from './push-agent-cells.ts';
import {
  hostOf,
  outageMsOf,
  PUSH_AGENT_COLUMN,
  type PushAgentMode,
  pushAgentCollectorFlags,
} from './push-agent-scenario.ts';
import type { DrillMode, ModeOutcome } from './types.ts';

// #27, the drill's push-agent column (process runtime): three faults on the agent tier, each measured on one
// producer host — its pods, its agent's books (read every second; a dead agent keeps its last reading) and
// what the central collector counted for its pods:
//  - agent-dies: SIGKILL the host's agent; what it held at its last reading is `agent-died`;
//  - central-down: the central collector stopped for the outage, then started again (empty); the agents
//    queue, retry, drop (`agent-queue-full`, `agent-forward-failed`) or catch up;
//  - agent-partition: the host agent's forward path cut for the outage (the pods → agent path intact).

const READ_TIMEOUT_MS = 800;
/** The wait after the outage for the agent's queue to empty, at most (also bounded by the window). */
const CATCH_UP_MS = 20_000 + 2 * PUSH_AGENT_FLUSH_MS;

interface Victim {
  member: ProducerMember;
  agent: string;
  url: string;
  pods: ReadonlySet<string>;
}

type Fault = (kind: PushAgentFaultKind, member?: ProducerMember) => Promise<void>;

/** What the watch saw: detection, the agent's last reading, its queue's peak, the series. */
interface Watched {
  d: AgentDetection;
  last: PushAgentReading | null;
  queuePeak: number;
}

interface WatchOpts {
  /** Also watch for the agent's death (the lab's signal) and stop once it and the alert were seen. */
  death?: boolean;
  /** Also watch InstanceDown for the central collector. */
  central?: boolean;
}

/** Polls once a second for `windowMs` after `tFault`: the agent's books, the alerts, the agent's process. */
async function watch(
  stack: Stack,
  v: Victim,
  tFault: number,
  windowMs: number,
  w: Watched,
  series: ModeOutcome['series'],
  o: WatchOpts,
): Promise<void> {
  const { deps, runtime } = stack;
  const failedBefore = w.last ? failedRequests(w.last) : 0;
  for (let i = 0; i < 100_000 && Date.now() - tFault < windowMs; i++) {
    const started = Date.now();
    const s = secondsSince(tFault);
    const r = await readPushAgent(v.agent, v.url, READ_TIMEOUT_MS, deps.signal).catch(() => null);
    if (r) {
      w.last = r;
      w.queuePeak = Math.max(w.queuePeak, r.queuePeakPoints);
      series.agentQueuePoints!.push([s, r.queuePeakPoints]);
      series.agentFailedRequests!.push([s, failedRequests(r)]);
      if (w.d.agentSawS === null && failedRequests(r) > failedBefore) w.d.agentSawS = s;
    }
    if (o.death && w.d.deathSeenS === null && (await runtime.dead()).includes(v.agent)) w.d.deathSeenS = s;
    if (w.d.pushAlertS === null && (await podsAlert(stack, v))) w.d.pushAlertS = s;
    if (o.central && w.d.centralAlertS === null && (await centralAlert(stack))) w.d.centralAlertS = s;
    if (o.death && w.d.deathSeenS !== null && w.d.pushAlertS !== null) break;
    await abortableSleep(Math.max(0, 1000 - (Date.now() - started)), deps.signal);
  }
}

const podsAlert = (stack: Stack, v: Victim) =>
  alertFiring(stack.prom, 'PushHeartbeatAbsent', (l) => v.pods.has(l.source ?? '')).catch(() => false);
const centralAlert = (stack: Stack) =>
  alertFiring(stack.prom, 'InstanceDown', (l) => l.job === 'collector').catch(() => false);

/** After the outage: seconds until the agent's queue is empty (null: not within the wait). */
async function catchUp(stack: Stack, v: Victim, w: Watched, boundMs: number): Promise<number | null> {
  const t = Date.now();
  for (let i = 0; i < 10_000 && Date.now() - t < boundMs; i++) {
    const r = await readPushAgent(v.agent, v.url, READ_TIMEOUT_MS, stack.deps.signal).catch(() => null);
    if (r) {
      w.last = r;
      w.queuePeak = Math.max(w.queuePeak, r.queuePeakPoints);
      if (r.queuePeakPoints === 0) return secondsSince(t);
    }
    await abortableSleep(250, stack.deps.signal);
  }
  return null;
}

const held = (r: PushAgentReading) =>
  r.orders.received -
  r.orders.forwarded -
  r.orders.droppedQueueFull -
  r.orders.droppedForwardFailed -
  r.orders.droppedTooLarge;

/** Stops the host's workload (its final ledger) and waits until its agent forwarded what it held. */
async function settle(
  stack: Stack,
  v: Victim,
  w: Watched,
): Promise<{ emitted: AgentMeasurement['emitted'] }> {
  const { deps } = stack;
  const q = await new ControlClient(v.member.baseUrl).quiesce(deps.signal);
  const emitted = sumCounts(Object.entries(q.pods).flatMap(([pod, c]) => (v.pods.has(pod) ? [c] : [])));
  const t = Date.now();
  let prev = -1;
  for (let i = 0; i < 1000 && Date.now() - t < CATCH_UP_MS; i++) {
    await abortableSleep(500, deps.signal);
    const r = await readPushAgent(v.agent, v.url, READ_TIMEOUT_MS, deps.signal).catch(() => null);
    if (!r) continue;
    w.last = r;
    // Drained: nothing pending or queued, and it took in what the pods pushed (or stopped taking in more:
    // what never reached it — send errors, its socket's drops — will not come).
    const takenIn = r.orders.received >= emitted.ordersPushed || r.orders.received === prev;
    if (held(r) === 0 && r.queuePeakPoints === 0 && takenIn) break;
    prev = r.orders.received;
  }
  return { emitted };
}

/** The mode's cell for a runtime or stack that cannot run it: "not applied", saying why. */
function notApplied(stack: Stack, why: string): ModeOutcome {
  return {
    cells: [notAppliedCell(PUSH_AGENT_COLUMN, stack.variant.name, why)],
    metrics: {},
    series: {},
    notes: [],
  };
}

/**
 * Waits (at most 3 s) for the agent's next forward to land, then half a flush interval: the kill lands midway
 * between two flushes — where a kill at a random moment lands on average — not just after one (holding ~0).
 */
async function midFlush(stack: Stack, v: Victim): Promise<void> {
  const read = () => readPushAgent(v.agent, v.url, READ_TIMEOUT_MS, stack.deps.signal).catch(() => null);
  const f0 = (await read())?.orders.forwarded ?? 0;
  for (let i = 0; i < 30; i++) {
    await abortableSleep(100, stack.deps.signal);
    if (((await read())?.orders.forwarded ?? 0) > f0) break;
  }
  await abortableSleep(PUSH_AGENT_FLUSH_MS / 2, stack.deps.signal);
}

async function agentDies(stack: Stack, v: Victim, fault: Fault, out: ModeOutcome): Promise<AgentMeasurement> {
  const { scenario: s, deps } = stack;
  const w: Watched = { d: noDetection(), last: null, queuePeak: 0 };
  await midFlush(stack, v);
  // The ledger, then the agent's books, then the kill: its last reading is as close to its death as can be.
  const emitted = await ledgerFor(v.member, v.pods);
  const atKill = await readPushAgent(v.agent, v.url, READ_TIMEOUT_MS, deps.signal);
  w.last = atKill;
  const tFault = Date.now();
  await fault('kill-agent', v.member);
  deps.log(`${s.name}/${stack.variant.name}: SIGKILL ${v.agent}`);
  await watch(stack, v, tFault, s.observeMs, w, out.series, { death: true });
  await abortableSleep(1500, deps.signal); // a forward in flight at the kill reaches the central, or not
  return {
    ...base(stack, v, w.d, Math.round(s.observeMs / 1000), w.queuePeak),
    emitted,
    reading: { ...atKill, alive: false },
    delivered: await collectorOrdersFor(stack.endpoints.collectorHttpUrl, v.pods),
  };
}

/** Every agent's forward path at once (central-down's exact reading before the stop). */
const everyForward = (stack: Stack, fault: Fault, kind: 'cut-forward' | 'heal-forward') =>
  Promise.all(stack.members.filter((m) => m.pushAgentUrl).map((m) => fault(kind, m)));

async function outage(
  stack: Stack,
  v: Victim,
  fault: Fault,
  out: ModeOutcome,
  mode: 'central-down' | 'agent-partition',
): Promise<AgentMeasurement> {
  const { scenario: s, deps } = stack;
  const outageMs = outageMsOf(s);
  const first = await readPushAgent(v.agent, v.url, READ_TIMEOUT_MS, deps.signal);
  const w: Watched = { d: noDetection(), last: first, queuePeak: 0 };
  let beforeStop: number | undefined;
  if (mode === 'central-down') {
    // Nothing reaches the central while it is read (a forward in flight is reset and sent again later),
    // then it stops; the agents then meet the real closed port behind their relays.
    await everyForward(stack, fault, 'cut-forward');
    await abortableSleep(300, deps.signal);
    beforeStop = await collectorOrdersFor(stack.endpoints.collectorHttpUrl, v.pods);
    await fault('stop-central');
    await everyForward(stack, fault, 'heal-forward');
  } else await fault('cut-forward', v.member);
  const tFault = Date.now();
  deps.log(`${s.name}/${stack.variant.name}: ${mode} for ${outageMs / 1000} s (${v.agent})`);
  await watch(stack, v, tFault, outageMs, w, out.series, { central: mode === 'central-down' });
  await fault(mode === 'central-down' ? 'start-central' : 'heal-forward', v.member);
  const left = Math.max(1000, s.observeMs - (Date.now() - tFault));
  const caughtUpS = await catchUp(stack, v, w, Math.min(CATCH_UP_MS, left));
  const { emitted } = await settle(stack, v, w);
  const after = await collectorOrdersFor(stack.endpoints.collectorHttpUrl, v.pods);
  return {
    ...base(stack, v, w.d, Math.round(outageMs / 1000), w.queuePeak),
    emitted,
    reading: { ...(w.last ?? first), alive: true },
    delivered: after + (beforeStop ?? 0),
    ...(beforeStop !== undefined ? { deliveredBeforeStop: beforeStop } : {}),
    caughtUpS,
  };
}

function base(stack: Stack, v: Victim, d: AgentDetection, windowS: number, queuePeak: number) {
  return {
    mode: stack.scenario.mode as PushAgentMode,
    variant: stack.variant,
    agent: v.agent,
    host: v.member.name,
    pods: v.pods.size,
    detection: d,
    windowS,
    queuePeakPoints: queuePeak,
  };
}

async function runAgentMode(stack: Stack, mode: PushAgentMode): Promise<ModeOutcome> {
  const { runtime, scenario: s } = stack;
  const member = stack.members[hostOf(s)];
  if (!runtime.pushAgentFault || !member?.pushAgentUrl)
    return notApplied(
      stack,
      `the drill's push-agent faults are built for the process runtime only (yet); this stack (${runtime.kind}) has none for producer ${hostOf(s)}`,
    );
  const fault: Fault = (k, m) => runtime.pushAgentFault!(k, m);
  const v: Victim = {
    member,
    agent: pushAgentNameOf(member.name),
    url: member.pushAgentUrl,
    pods: new Set(member.podIds),
  };
  const out: ModeOutcome = {
    cells: [],
    metrics: {},
    series: { agentQueuePoints: [], agentFailedRequests: [] },
    notes: [],
  };
  let m: AgentMeasurement;
  try {
    m =
      mode === 'agent-dies'
        ? await agentDies(stack, v, fault, out)
        : await outage(stack, v, fault, out, mode);
  } catch (e) {
    if (isLabError(e, 'LAB_ERR_FAULT_UNSUPPORTED')) return notApplied(stack, e.message);
    throw e;
  }
  out.cells.push(agentCell(m));
  Object.assign(out.metrics, agentMetrics(m));
  if (mode !== 'agent-dies')
    out.notes.push(
      `${runtime.kind} runtime: every agent forwards to the central collector through a loopback TCP relay in the lab (a cut refuses new connections and resets open ones); the pods → agent path (StatsD over UDP) is not cut`,
    );
  return out;
}

const agentModeOf = (mode: PushAgentMode): DrillMode => ({
  collectorFlags: pushAgentCollectorFlags,
  run: (stack) => runAgentMode(stack, mode),
});

export const agentDiesMode = agentModeOf('agent-dies');
export const centralDownMode = agentModeOf('central-down');
export const agentPartitionMode = agentModeOf('agent-partition');
