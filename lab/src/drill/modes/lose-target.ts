import { sumCounts } from '@pushpull/common';
import { abortableSleep } from '../../core/time.ts';
import { transportOf } from '../../core/transports.ts';
import { ControlClient } from '../../probe/control.ts';
import { capabilitiesOf } from '../../runtime/capabilities.ts';
import type { FaultKind, PartitionReach, ProducerMember } from '../../runtime/types.ts';
import { type Cell, notAppliedCell } from '../grid.ts';
import { alertFiring, collectorOrdersFor, ledgerFor, pct, type Stack } from '../harness.ts';
import type { Fault, Variant } from '../scenario.ts';
import { type CutCounts, cutCounts, cutMetrics, cutNote, pushCutSignal, pushCutWords } from './cut.ts';
import { type Counts, otlpActivity, otlpKillCell, otlpPartitionCell } from './otlp-target.ts';
import type { DrillMode, ModeOutcome } from './types.ts';

// Scenarios 1 and 2: a producer dies (SIGKILL) or is cut off the network. What each path notices, when,
// and what it lost — against the victim's ledger read just before the fault.

type Loss = 'kill' | 'partition';

/** Who is hit, how, and for how long we watch. */
interface Target {
  victim: ProducerMember;
  pods: ReadonlySet<string>;
  podSel: string;
  kind: FaultKind;
  heal: Fault | undefined;
  windowMs: number;
  /** What keeps a partitioned target discovered (the report says it: swarm's is the lab's own sd service). */
  discovery: string;
  /** A partition: which paths it reaches on this runtime, read before the cut (relay counts included). */
  reach: PartitionReach | null;
}

/** Seconds after the fault at which each signal was first seen (null: never in the window). */
interface Detection {
  upZeroS: number | null;
  pullAlertS: number | null;
  pushAlertS: number | null;
  /** OTLP: when the victim's own ledger first counted a failed export (where the control API stays reachable). */
  producerFailS: number | null;
  discoveredAtEnd: number;
}

/** What the victim's pods generated (pull) and pushed (push) over the run, per its own ledger. */
interface Emitted {
  pull: number;
  push: number;
  sendErrors: number;
  sentDatagramsDuring: number;
  /** The victim's ledger at the kill, or after the heal and its final flush. */
  final: Counts;
  /** What the cut itself counted (the process runtime's relays), from the cut to the end. */
  cut: CutCounts | null;
}

interface Stored {
  pull: number;
  push: number;
}

type Ledger = Counts;

function chooseTarget(stack: Stack, loss: Loss): Target {
  const { scenario: s, runtime } = stack;
  const fault = s.faults.find((f) => f.action === 'kill' || f.action === 'partition' || f.action === 'pause');
  const heal = s.faults.find((f) => f.action === 'heal' || f.action === 'resume');
  const victim = stack.members[fault?.producer ?? 0]!;
  // A partition cuts every path the runtime's reach says it does: docker and swarm disconnect the container;
  // the process runtime cuts the producer's relays. A path it cannot cut gets a "not applied" cell.
  return {
    victim,
    pods: new Set(victim.podIds),
    podSel: `container="${victim.name}"`,
    kind: loss,
    heal,
    windowMs: heal ? heal.atMs - (fault?.atMs ?? 0) : s.observeMs,
    discovery:
      capabilitiesOf(runtime.kind).discovery === 'http_sd' ? "http_sd from the lab's sd service" : 'file_sd',
    reach: loss === 'partition' ? runtime.partitionReach(victim) : null,
  };
}

/** The partition reaches none of the victim's paths: nothing to inject, nothing to measure. */
const reachesNothing = (t: Target) =>
  t.reach !== null && t.reach.paths.scrape !== true && t.reach.paths.push !== true;

/** Polls `up` and both paths' alerts once a second until both answered (a kill) or the window ends. */
async function watchDetection(
  stack: Stack,
  t: Target,
  tFault: number,
  series: ModeOutcome['series'],
  before: Ledger,
): Promise<Detection> {
  const { variant: v, prom, deps } = stack;
  const d: Detection = {
    upZeroS: null,
    pullAlertS: null,
    pushAlertS: null,
    producerFailS: null,
    discoveredAtEnd: 0,
  };
  // Only where the cut leaves the control API reachable (the process runtime's relays); docker's
  // disconnect cuts it too, so there the producer's count is read after the heal.
  const failedBefore =
    t.reach?.controlApiDuringCut === true && transportOf(v.push.transport).sdk
      ? before.otlpExportsFailed
      : undefined;
  for (let i = 0; i < 100_000; i++) {
    const el = Date.now() - tFault;
    if (el >= t.windowMs) break;
    const elS = el / 1000;
    const up = await prom.vector(`up{job="producers",${t.podSel}}`).catch(() => []);
    d.discoveredAtEnd = up.length;
    const upValues = up.map((x) => Number(x.value[1]));
    if (d.upZeroS === null && upValues.length > 0 && upValues.every((x) => x === 0)) d.upZeroS = elS;
    series.upVictim!.push([elS, upValues.length ? Math.max(...upValues) : Number.NaN]);
    if (
      d.pullAlertS === null &&
      (await alertFiring(prom, 'InstanceDown', (l) => l.container === t.victim.name))
    )
      d.pullAlertS = elS;
    if (
      d.pushAlertS === null &&
      (await alertFiring(prom, 'PushHeartbeatAbsent', (l) => t.pods.has(l.source ?? '')))
    )
      d.pushAlertS = elS;
    series.alertsFiring!.push([elS, Number(d.pullAlertS !== null) + Number(d.pushAlertS !== null)]);
    if (failedBefore !== undefined && d.producerFailS === null) {
      const l = await ledgerFor(t.victim, t.pods).catch(() => null);
      if (l && l.otlpExportsFailed > failedBefore) d.producerFailS = Math.round(elS * 10) / 10;
    }
    // A kill is over once both paths have answered; "never" needs the whole window. Heartbeats off too:
    // once the push alert fired (the pod's tagged lines carried liveness) nothing left can change the cells.
    if (!t.heal && d.pullAlertS !== null && d.pushAlertS !== null) break;
    await abortableSleep(1000, deps.signal);
  }
  return d;
}

/**
 * A kill: what the ledger said just before it. A partition: heal, let both paths catch up, then stop the
 * victim's workload and read its final ledger.
 */
async function emittedByVictim(stack: Stack, t: Target, before: Ledger): Promise<Emitted> {
  const { scenario: s, runtime, deps } = stack;
  if (!t.heal) {
    await abortableSleep(1500, deps.signal); // datagrams in flight reach the collector
    return {
      pull: before.orders,
      push: before.orders,
      sendErrors: before.sendErrors,
      sentDatagramsDuring: 0,
      final: before,
      cut: null,
    };
  }
  await runtime.fault('heal', t.victim);
  await abortableSleep(2 * s.scrapeIntervalMs + 1000, deps.signal);
  const quiesced = await new ControlClient(t.victim.baseUrl).quiesce(deps.signal);
  const final = sumCounts(Object.entries(quiesced.pods).flatMap(([pod, c]) => (t.pods.has(pod) ? [c] : [])));
  await abortableSleep(2 * s.scrapeIntervalMs + 1000, deps.signal);
  return {
    pull: final.orders,
    push: final.ordersPushed,
    sendErrors: final.sendErrors,
    sentDatagramsDuring: final.datagrams - before.datagrams,
    final,
    cut: cutCounts(t.reach?.relays, runtime.partitionReach(t.victim).relays),
  };
}

/** What each path delivered for the victim's pods: Prometheus' stored counters, the collector's counts. */
async function storedFor(stack: Stack, t: Target): Promise<Stored> {
  const pull =
    (await stack.prom
      .scalar(`sum(max_over_time(orders_total{job="producers",${t.podSel}}[15m]))`)
      .catch(() => null)) ?? 0;
  const push = await collectorOrdersFor(stack.endpoints.collectorHttpUrl, t.pods);
  return { pull, push };
}

function pullCell(v: Variant, loss: Loss, t: Target, d: Detection, emitted: Emitted, stored: Stored): Cell {
  const lost = Math.max(0, emitted.pull - stored.pull);
  return {
    column: 'pull',
    variant: v.name,
    detectedAfterS: d.pullAlertS,
    signal:
      d.pullAlertS !== null
        ? `InstanceDown fired (up == 0 after ${d.upZeroS ?? '?'} s)`
        : d.upZeroS !== null
          ? `up == 0 after ${d.upZeroS} s, no alert in the window`
          : 'nothing',
    lostCount: lost,
    lostPct: pct(lost, emitted.pull),
    detail:
      loss === 'kill'
        ? `orders generated since the last successful scrape died with the pod (${emitted.pull} generated, ${stored.pull} stored)`
        : `target ${d.discoveredAtEnd > 0 ? `stayed in discovery (${t.discovery}) and was reported down` : 'vanished from discovery'}; counters caught up after the heal (${emitted.pull} generated, ${stored.pull} stored)`,
  };
}

function pushCell(v: Variant, loss: Loss, t: Target, d: Detection, emitted: Emitted, stored: Stored): Cell {
  const lost = Math.max(0, emitted.push - stored.push);
  const hb = v.push.heartbeatMs > 0;
  return {
    column: v.column,
    variant: v.name,
    detectedAfterS: d.pushAlertS,
    signal:
      (d.pushAlertS !== null
        ? 'PushHeartbeatAbsent fired'
        : hb
          ? `no alert in the ${Math.round(t.windowMs / 1000)} s window`
          : 'none: heartbeats off, so no series goes stale and nothing can fire') +
      pushCutSignal(emitted.cut),
    lostCount: lost,
    lostPct: pct(lost, emitted.push),
    detail:
      loss === 'kill'
        ? `${emitted.push} generated before the kill, ${stored.push} reached the collector${v.push.mode === 'aggregated' ? ' (the unflushed aggregation window died with the pod)' : ''}`
        : `${v.push.transport.toUpperCase()}: ${emitted.sentDatagramsDuring} ${transportOf(v.push.transport).sendUnit} handed to the socket from the cut to the end, ${emitted.sendErrors} send errors surfaced at the producer${pushCutWords(emitted.cut)}; ${emitted.push} pushed, ${stored.push} arrived`,
  };
}

/** Why the fault did not reach a path (a partition the runtime cannot apply there), or null. */
function notReached(t: Target, path: 'scrape' | 'push'): string | null {
  const r = t.reach?.paths[path];
  return r === undefined || r === true ? null : r;
}

/** The variant's cells: measured where the fault reached the path, "not applied" where it did not. */
function cellsOf(stack: Stack, loss: Loss, t: Target, m: Measured): Cell[] {
  const { variant: v } = stack;
  const { d, emitted, stored, before } = m;
  const pullWhy = notReached(t, 'scrape');
  const pushWhy = notReached(t, 'push');
  const pull =
    pullWhy !== null ? notAppliedCell('pull', v.name, pullWhy) : pullCell(v, loss, t, d, emitted, stored);
  if (pushWhy !== null) return [pull, notAppliedCell(v.column, v.name, pushWhy)];
  if (!transportOf(v.push.transport).sdk) return [pull, pushCell(v, loss, t, d, emitted, stored)];
  if (loss === 'kill') return [pull, otlpKillCell(v, d.pushAlertS, emitted.final, stored.push, t.windowMs)];
  const act = otlpActivity(before, emitted.final);
  const otlp = otlpPartitionCell(v, d, act, emitted.final, stored.push, t.windowMs);
  return [pull, { ...otlp, detail: otlp.detail + pushCutWords(emitted.cut) }];
}

interface Measured {
  before: Ledger;
  d: Detection;
  emitted: Emitted;
  stored: Stored;
}

function notesOf(stack: Stack, loss: Loss, t: Target): string[] {
  const { runtime } = stack;
  const notes: string[] = [];
  const how = t.reach ? cutNote(runtime.kind, t.reach) : null;
  if (how) notes.push(how);
  if (loss === 'partition' && !capabilitiesOf(runtime.kind).healRestoresDns)
    notes.push(
      "swarm: the partitioned task leaves the overlay's DNS and the heal does not put it back (measured); it stays a target only because the lab's sd service (http_sd) remembers tasks it has seen — Prometheus' own dns_sd_configs on tasks.producer would drop it silently",
    );
  return notes;
}

async function loseTarget(stack: Stack, loss: Loss): Promise<ModeOutcome> {
  const { scenario: s, variant: v, runtime, deps } = stack;
  const out: ModeOutcome = { cells: [], metrics: {}, series: { upVictim: [], alertsFiring: [] }, notes: [] };
  const t = chooseTarget(stack, loss);
  out.notes.push(...notesOf(stack, loss, t));
  if (reachesNothing(t)) {
    out.cells.push(
      notAppliedCell('pull', v.name, notReached(t, 'scrape') ?? ''),
      notAppliedCell(v.column, v.name, notReached(t, 'push') ?? ''),
    );
    return out;
  }

  const before = await ledgerFor(t.victim, t.pods);
  const tFault = Date.now();
  await runtime.fault(t.kind, t.victim);
  deps.log(`${s.name}/${v.name}: ${t.kind} ${t.victim.name} (${t.victim.podIds.length} pods)`);

  const d = await watchDetection(stack, t, tFault, out.series, before);
  const emitted = await emittedByVictim(stack, t, before);
  const stored = await storedFor(stack, t);
  out.metrics.upZeroAfterS = d.upZeroS ?? -1;
  out.metrics.targetsStillDiscovered = d.discoveredAtEnd;
  Object.assign(out.metrics, cutMetrics(emitted.cut));
  out.cells.push(...cellsOf(stack, loss, t, { before, d, emitted, stored }));
  if (transportOf(v.push.transport).sdk) {
    const act = otlpActivity(before, emitted.final);
    out.metrics.otlpExportsFailed = act.exportsFailed;
    out.metrics.otlpRetryRequests = Math.max(0, act.requests - act.exports);
    out.metrics.otlpLostPct = pct(Math.max(0, emitted.push - stored.push), emitted.push) ?? -1;
    if (d.producerFailS !== null) out.metrics.producerSawFailureAfterS = d.producerFailS;
  }
  return out;
}

export const targetDies: DrillMode = { run: (s) => loseTarget(s, 'kill') };
export const networkPartition: DrillMode = { run: (s) => loseTarget(s, 'partition') };
