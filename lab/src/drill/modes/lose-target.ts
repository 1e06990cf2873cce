import { sumCounts } from '@pushpull/common';
import { abortableSleep } from '../../core/time.ts';
import { ControlClient } from '../../probe/control.ts';
import { capabilitiesOf } from '../../runtime/capabilities.ts';
import type { FaultKind, ProducerMember } from '../../runtime/types.ts';
import type { Cell } from '../grid.ts';
import { alertFiring, collectorOrdersFor, ledgerFor, pct, type Stack } from '../harness.ts';
import type { Fault, Variant } from '../scenario.ts';
import { type Counts, otlpActivity, otlpKillCell, otlpPartitionCell, temporalityOf } from './otlp-target.ts';
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
}

/** Seconds after the fault at which each signal was first seen (null: never in the window). */
interface Detection {
  upZeroS: number | null;
  pullAlertS: number | null;
  pushAlertS: number | null;
  /** OTLP: when the victim's own ledger first counted a failed export (process runtime: it stays reachable). */
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
}

interface Stored {
  pull: number;
  push: number;
}

type Ledger = Counts;

/** An OTLP producer on the process runtime: the partition cuts its receiver only (the lab's proxy). */
const cutsOnlyPush = (stack: Stack, loss: Loss) =>
  loss === 'partition' && stack.runtime.kind === 'process' && stack.variant.push.transport === 'otlp';

function chooseTarget(stack: Stack, loss: Loss): Target {
  const { scenario: s, runtime } = stack;
  const fault = s.faults.find((f) => f.action === 'kill' || f.action === 'partition' || f.action === 'pause');
  const heal = s.faults.find((f) => f.action === 'heal' || f.action === 'resume');
  const victim = stack.members[fault?.producer ?? 0]!;
  // On the process runtime a partition's closest honest equivalent is SIGSTOP (see the scenario text), or
  // for OTLP the receiver cut off through the lab's proxy; docker and swarm disconnect the container.
  const kind =
    loss === 'kill'
      ? 'kill'
      : runtime.kind === 'process' && !cutsOnlyPush(stack, loss)
        ? 'pause'
        : 'partition';
  return {
    victim,
    pods: new Set(victim.podIds),
    podSel: `container="${victim.name}"`,
    kind,
    heal,
    windowMs: heal ? heal.atMs - (fault?.atMs ?? 0) : s.observeMs,
    discovery:
      capabilitiesOf(runtime.kind).discovery === 'http_sd' ? "http_sd from the lab's sd service" : 'file_sd',
  };
}

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
  // Only where the cut leaves the control API reachable (the process runtime's proxy cut); docker's
  // disconnect cuts it too, so there the producer's count is read after the heal.
  const failedBefore =
    t.kind === 'partition' && cutsOnlyPush(stack, 'partition') ? before.otlpExportsFailed : undefined;
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
    // A kill is over once both paths have answered; "never" needs the whole window.
    const pushDone = v.push.heartbeatMs === 0 ? false : d.pushAlertS !== null;
    if (!t.heal && d.pullAlertS !== null && pushDone) break;
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
    };
  }
  await runtime.fault(t.kind === 'pause' ? 'resume' : 'heal', t.victim);
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
      d.pushAlertS !== null
        ? 'PushHeartbeatAbsent fired'
        : hb
          ? `no alert in the ${Math.round(t.windowMs / 1000)} s window`
          : 'none: heartbeats off, so no series goes stale and nothing can fire',
    lostCount: lost,
    lostPct: pct(lost, emitted.push),
    detail:
      loss === 'kill'
        ? `${emitted.push} generated before the kill, ${stored.push} reached the collector${v.push.mode === 'aggregated' ? ' (the unflushed aggregation window died with the pod)' : ''}`
        : `${v.push.transport.toUpperCase()}: ${emitted.sentDatagramsDuring} ${v.push.transport === 'tcp' ? 'writes' : 'datagrams'} handed to the socket during the window, ${emitted.sendErrors} send errors surfaced at the producer; ${emitted.push} pushed, ${stored.push} arrived`,
  };
}

async function loseTarget(stack: Stack, loss: Loss): Promise<ModeOutcome> {
  const { scenario: s, variant: v, runtime, deps } = stack;
  const out: ModeOutcome = { cells: [], metrics: {}, series: { upVictim: [], alertsFiring: [] }, notes: [] };
  const t = chooseTarget(stack, loss);
  if (cutsOnlyPush(stack, loss))
    out.notes.push(
      `process runtime, OTLP (${temporalityOf(v)}): partition = the receiver made unreachable for the cut — the lab's loopback proxy between the producer and the collector's OTLP port refuses new connections and resets open ones, so the exporter's retries really happen; scrapes still reach the pod, so this variant has no pull cell`,
    );
  if (loss === 'partition' && t.kind === 'pause')
    out.notes.push(
      'process runtime: partition = SIGSTOP (the pod stops answering and stops sending); docker disconnects the network',
    );
  if (loss === 'partition' && !capabilitiesOf(runtime.kind).healRestoresDns)
    out.notes.push(
      "swarm: the partitioned task leaves the overlay's DNS and the heal does not put it back (measured); it stays a target only because the lab's sd service (http_sd) remembers tasks it has seen — Prometheus' own dns_sd_configs on tasks.producer would drop it silently",
    );

  const before = await ledgerFor(t.victim, t.pods);
  const tFault = Date.now();
  await runtime.fault(t.kind, t.victim);
  deps.log(`${s.name}/${v.name}: ${t.kind} ${t.victim.name} (${t.victim.podIds.length} pods)`);

  const d = await watchDetection(stack, t, tFault, out.series, before);
  const emitted = await emittedByVictim(stack, t, before);
  const stored = await storedFor(stack, t);
  out.metrics.upZeroAfterS = d.upZeroS ?? -1;
  out.metrics.targetsStillDiscovered = d.discoveredAtEnd;
  if (!cutsOnlyPush(stack, loss)) out.cells.push(pullCell(v, loss, t, d, emitted, stored));
  out.cells.push(
    v.push.transport !== 'otlp'
      ? pushCell(v, loss, t, d, emitted, stored)
      : loss === 'kill'
        ? otlpKillCell(v, d.pushAlertS, emitted.final, stored.push, t.windowMs)
        : otlpPartitionCell(
            v,
            d,
            otlpActivity(before, emitted.final),
            emitted.final,
            stored.push,
            t.windowMs,
          ),
  );
  if (v.push.transport === 'otlp') {
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
