import { abortableSleep } from '../../core/time.ts';
import { ControlClient } from '../../probe/control.ts';
import type { Cell } from '../grid.ts';
import { alertFiring, collectorOrdersFor, ledgerFor, pct, type Stack } from '../harness.ts';
import type { DrillMode, ModeOutcome } from './types.ts';

// Scenarios 1 and 2: a producer dies (SIGKILL) or is cut off the network. What each path notices, when,
// and what it lost — against the victim's ledger read just before the fault.

type Loss = 'kill' | 'partition';

async function loseTarget(stack: Stack, loss: Loss): Promise<ModeOutcome> {
  const { scenario: s, variant: v, runtime, prom, deps } = stack;
  const out: ModeOutcome = { cells: [], metrics: {}, series: { upVictim: [], alertsFiring: [] }, notes: [] };
  const fault = s.faults.find((f) => f.action === 'kill' || f.action === 'partition' || f.action === 'pause');
  const heal = s.faults.find((f) => f.action === 'heal' || f.action === 'resume');
  const victim = stack.members[fault?.producer ?? 0]!;
  const pods = new Set(victim.podIds);
  const podSel = `container="${victim.name}"`;
  // On the process runtime a partition's closest honest equivalent is SIGSTOP (see the scenario text).
  const kind = loss === 'kill' ? 'kill' : runtime.kind === 'docker' ? 'partition' : 'pause';
  if (loss === 'partition' && kind === 'pause')
    out.notes.push(
      'process runtime: partition = SIGSTOP (the pod stops answering and stops sending); docker disconnects the network',
    );

  const before = await ledgerFor(victim, pods);
  const tFault = Date.now();
  await runtime.fault(kind, victim);
  deps.log(`${s.name}/${v.name}: ${kind} ${victim.name} (${victim.podIds.length} pods)`);

  let upZeroS: number | null = null;
  let pullAlertS: number | null = null;
  let pushAlertS: number | null = null;
  let discoveredAtEnd = 0;
  const windowMs = heal ? heal.atMs - (fault?.atMs ?? 0) : s.observeMs;
  for (let i = 0; i < 100_000; i++) {
    const el = Date.now() - tFault;
    if (el >= windowMs) break;
    const elS = el / 1000;
    const up = await prom.vector(`up{job="producers",${podSel}}`).catch(() => []);
    discoveredAtEnd = up.length;
    const upValues = up.map((x) => Number(x.value[1]));
    if (upZeroS === null && upValues.length > 0 && upValues.every((x) => x === 0)) upZeroS = elS;
    out.series.upVictim!.push([elS, upValues.length ? Math.max(...upValues) : Number.NaN]);
    if (pullAlertS === null && (await alertFiring(prom, 'InstanceDown', (l) => l.container === victim.name)))
      pullAlertS = elS;
    if (
      pushAlertS === null &&
      (await alertFiring(prom, 'PushHeartbeatAbsent', (l) => pods.has(l.source ?? '')))
    )
      pushAlertS = elS;
    out.series.alertsFiring!.push([elS, Number(pullAlertS !== null) + Number(pushAlertS !== null)]);
    // A kill is over once both paths have answered; "never" needs the whole window.
    const pushDone = v.push.heartbeatMs === 0 ? false : pushAlertS !== null;
    if (!heal && pullAlertS !== null && pushDone) break;
    await abortableSleep(1000, deps.signal);
  }

  let emittedPull = before.orders;
  let emittedPush = before.orders;
  let sendErrors = before.sendErrors;
  let sentDatagramsDuring = 0;
  if (heal) {
    // Heal, let both paths catch up, then stop the victim's workload and read its final ledger.
    await runtime.fault(kind === 'pause' ? 'resume' : 'heal', victim);
    await abortableSleep(2 * s.scrapeIntervalMs + 1000, deps.signal);
    const final = await new ControlClient(victim.baseUrl).quiesce(deps.signal);
    let orders = 0;
    let pushed = 0;
    let datagrams = 0;
    let errors = 0;
    for (const [pod, c] of Object.entries(final.pods)) {
      if (!pods.has(pod)) continue;
      orders += c.orders;
      pushed += c.ordersPushed;
      datagrams += c.datagrams;
      errors += c.sendErrors;
    }
    emittedPull = orders;
    emittedPush = pushed;
    sentDatagramsDuring = datagrams - before.datagrams;
    sendErrors = errors;
    await abortableSleep(2 * s.scrapeIntervalMs + 1000, deps.signal);
  } else {
    await abortableSleep(1500, deps.signal); // datagrams in flight reach the collector
  }
  const storedPull =
    (await prom
      .scalar(`sum(max_over_time(orders_total{job="producers",${podSel}}[15m]))`)
      .catch(() => null)) ?? 0;
  const storedPush = await collectorOrdersFor(stack.endpoints.collectorHttpUrl, pods);
  const lostPull = Math.max(0, emittedPull - storedPull);
  const lostPush = Math.max(0, emittedPush - storedPush);
  out.metrics.upZeroAfterS = upZeroS ?? -1;
  out.metrics.targetsStillDiscovered = discoveredAtEnd;

  const pullCell: Cell = {
    column: 'pull',
    variant: v.name,
    detectedAfterS: pullAlertS,
    signal:
      pullAlertS !== null
        ? `InstanceDown fired (up == 0 after ${upZeroS ?? '?'} s)`
        : upZeroS !== null
          ? `up == 0 after ${upZeroS} s, no alert in the window`
          : 'nothing',
    lostCount: lostPull,
    lostPct: pct(lostPull, emittedPull),
    detail:
      loss === 'kill'
        ? `orders generated since the last successful scrape died with the pod (${emittedPull} generated, ${storedPull} stored)`
        : `target ${discoveredAtEnd > 0 ? 'stayed in discovery (file_sd) and was reported down' : 'vanished from discovery'}; counters caught up after the heal (${emittedPull} generated, ${storedPull} stored)`,
  };
  const hb = v.push.heartbeatMs > 0;
  const pushCell: Cell = {
    column: v.column,
    variant: v.name,
    detectedAfterS: pushAlertS,
    signal:
      pushAlertS !== null
        ? 'PushHeartbeatAbsent fired'
        : hb
          ? `no alert in the ${Math.round(windowMs / 1000)} s window`
          : 'none: heartbeats off, so no series goes stale and nothing can fire',
    lostCount: lostPush,
    lostPct: pct(lostPush, emittedPush),
    detail:
      loss === 'kill'
        ? `${emittedPush} generated before the kill, ${storedPush} reached the collector${v.push.mode === 'aggregated' ? ' (the unflushed aggregation window died with the pod)' : ''}`
        : `${v.push.transport.toUpperCase()}: ${sentDatagramsDuring} ${v.push.transport === 'tcp' ? 'writes' : 'datagrams'} handed to the socket during the window, ${sendErrors} send errors surfaced at the producer; ${emittedPush} pushed, ${storedPush} arrived`,
  };
  out.cells.push(pullCell, pushCell);
  return out;
}

export const targetDies: DrillMode = { run: (s) => loseTarget(s, 'kill') };
export const networkPartition: DrillMode = { run: (s) => loseTarget(s, 'partition') };
