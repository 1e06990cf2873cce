import type { Cell } from '../grid.ts';
import { pct } from '../harness.ts';
import type { Variant } from '../scenario.ts';
import { firstOf, type SwarmTimeline } from './node-timeline.ts';

// The node drills' grid cells (pure): per path, when it noticed that a whole producer node was cut off or
// died, what it lost of the node's pods, and what swarm did meanwhile (node-timeline.ts).

export type NodeFaultKind = 'partition' | 'loss';

/** Seconds after the fault each signal was first seen (null: never in the window). */
export interface NodeDetection {
  /** Every one of the node's targets (their addresses at the fault) reported `up == 0`. */
  upZeroS: number | null;
  /** InstanceDown firing for one of those targets. */
  pullAlertS: number | null;
  /** PushHeartbeatAbsent firing for one of the node's pods. */
  pushAlertS: number | null;
}

/** What the node's pods generated / pushed (their own ledgers) and what each path stored of them. */
export interface NodeAccount {
  emittedPull: number;
  storedPull: number;
  emittedPush: number;
  storedPush: number;
  /** How the numbers were read (the ledger source), for the cells' detail. */
  how: string;
  /** The push path's own part of it (what was subtracted from the collector's count). */
  pushHow?: string;
}

export interface NodeFacts {
  kind: NodeFaultKind;
  pods: number;
  producers: number;
  swarm: string;
  timeline: SwarmTimeline;
  /** Alerts' `for` durations (the rules), to say why an alert never fired. */
  instanceDownForS: number;
}

const s1 = (x: number) => `${Math.round(x * 10) / 10} s`;
const what = (k: NodeFaultKind) => (k === 'partition' ? 'cut off' : 'lost');

export function nodePullCell(v: Variant, f: NodeFacts, d: NodeDetection, a: NodeAccount): Cell {
  const lost = Math.max(0, a.emittedPull - a.storedPull);
  const replaced = firstOf(f.timeline, 'runningS');
  let alert: string;
  if (d.pullAlertS !== null) alert = `InstanceDown after ${s1(d.pullAlertS)}`;
  else if (replaced !== null && replaced < f.instanceDownForS)
    alert = `InstanceDown never fired: swarm's replacement task took the target over after ${s1(replaced)}, inside the alert's ${f.instanceDownForS} s \`for\``;
  else alert = 'InstanceDown did not fire in the window';
  return {
    column: 'pull',
    variant: v.name,
    detectedAfterS: d.upZeroS ?? d.pullAlertS,
    signal: d.upZeroS !== null ? `up == 0 after ${s1(d.upZeroS)}; ${alert}` : `up never 0; ${alert}`,
    lostCount: lost,
    lostPct: pct(lost, a.emittedPull),
    detail: `node ${what(f.kind)} with ${f.producers} producer(s), ${f.pods} pods: ${a.emittedPull} orders generated, ${a.storedPull} stored from the node's targets (${a.how}); ${f.swarm}`,
  };
}

export function nodePushCell(v: Variant, f: NodeFacts, d: NodeDetection, a: NodeAccount): Cell {
  const lost = Math.max(0, a.emittedPush - a.storedPush);
  const replaced = firstOf(f.timeline, 'runningS');
  const hb = v.push.heartbeatMs > 0;
  let signal: string;
  if (d.pushAlertS !== null) signal = `PushHeartbeatAbsent after ${s1(d.pushAlertS)}`;
  else if (!hb) signal = 'none: heartbeats off, so no series goes stale and nothing can fire';
  else if (replaced !== null)
    signal = `PushHeartbeatAbsent never fired: the replacement task pushed for the same pods from ${s1(replaced)}`;
  else signal = `no alert in the ${s1(f.timeline.windowS)} window`;
  return {
    column: v.column,
    variant: v.name,
    detectedAfterS: d.pushAlertS,
    signal,
    lostCount: lost,
    lostPct: pct(lost, a.emittedPush),
    detail: `node ${what(f.kind)}: ${a.emittedPush} orders pushed by its pods, ${a.storedPush} counted by the collector for them (${a.how}${a.pushHow ?? ''}); ${f.swarm}`,
  };
}

/** The record's numbers for the scenario (-1 = never in the window). */
export function nodeMetrics(d: NodeDetection, tl: SwarmTimeline, f: NodeFacts): Record<string, number> {
  const n = (x: number | null) => x ?? -1;
  return {
    upZeroAfterS: n(d.upZeroS),
    pullAlertAfterS: n(d.pullAlertS),
    pushAlertAfterS: n(d.pushAlertS),
    nodeDownAfterS: n(tl.nodeDownS),
    rescheduledAfterS: n(firstOf(tl, 'rescheduledS')),
    replacementRunningAfterS: n(firstOf(tl, 'runningS')),
    tasksRescheduled: tl.services.filter((s) => s.rescheduledS !== null).length,
    victimProducers: f.producers,
    victimPods: f.pods,
  };
}
