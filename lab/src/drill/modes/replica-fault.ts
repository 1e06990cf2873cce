import { LabError } from '@pushpull/common';
import { pullDeliveredByPodQuery, scrapedAfterQuery } from '../../analysis/accounting.ts';
import { loadProfileFile } from '../../burst/profile.ts';
import { paths } from '../../core/paths.ts';
import { PULL_REPLICA_COMPONENTS, replicaLabel } from '../../core/record-replicas.ts';
import { abortableSleep, mapLimit } from '../../core/time.ts';
import { ControlClient } from '../../probe/control.ts';
import { PromClient } from '../../probe/prom.ts';
import { PEER_ALERT, PEER_JOB } from '../../runtime/prometheus-peer.ts';
import { notAppliedCell, type ViewAccount } from '../grid.ts';
import { type Stack, waitUntil } from '../harness.ts';
import { PAIR_COLUMN } from '../pair-scenario.ts';
import type { Fault } from '../scenario.ts';
import {
  killedAccount,
  liveAccount,
  mergeTotals,
  missedScrapes,
  ordersBetween,
  type PauseGap,
  type PeerDetection,
  type PodTotals,
  pairCell,
} from './pair-account.ts';
import type { DrillMode, ModeOutcome } from './types.ts';

// #28, the drill's `2 replicas` column: the Prometheus pair (`--prometheus-replicas 2`, each replica scraping the
// other as `prometheus-peer`) with one replica SIGKILLed at the peak, or SIGSTOPped and SIGCONTed. What the
// survivor saw of it and when (its peer's `up`, PrometheusPeerDown), and what the merged view, the survivor and
// the faulted replica lost, by cause, against the ledgers after quiesce.

type Kind = 'kill' | 'pause';

interface Pair {
  victim: { prom: PromClient; component: string; replica: string };
  survivor: { prom: PromClient; replica: string };
}

/** Who is faulted and who survives; why not (a string) where the runtime cannot run or fault the pair. */
function pairOf(stack: Stack, fault: Fault): Pair | string {
  const urls = stack.endpoints.pullReplicaUrls ?? [];
  if (urls.length < 2) return `the ${stack.runtime.kind} runtime runs one pull Prometheus here`;
  if (!stack.runtime.faultComponent)
    return `the ${stack.runtime.kind} runtime cannot fault a pull replica (the lab does on the process runtime)`;
  const v = (fault.replica ?? 2) - 1;
  const s = 1 - v;
  return {
    victim: {
      prom: new PromClient(urls[v]!),
      component: PULL_REPLICA_COMPONENTS[v]!,
      replica: replicaLabel(v),
    },
    survivor: { prom: new PromClient(urls[s]!), replica: replicaLabel(s) },
  };
}

/** Both replicas scrape every pod; whether the survivor scrapes its peer (false: no peer job, or never up). */
async function ready(stack: Stack, p: Pair): Promise<boolean> {
  const { scenario: s, deps } = stack;
  const timeoutMs = 30_000 + 4 * s.scrapeIntervalMs;
  const all = async (prom: PromClient) =>
    ((await prom.scalar('count(up{job="producers"} == 1)')) ?? 0) >= s.pods;
  const both = await waitUntil(async () => (await all(p.victim.prom)) && (await all(p.survivor.prom)), {
    timeoutMs,
    signal: deps.signal,
  });
  if (both === null)
    throw new LabError('LAB_ERR_TIMEOUT', `${s.name}: the two pull replicas did not both scrape every pod`);
  const peer = async () => ((await p.survivor.prom.scalar(`max(up{job="${PEER_JOB}"})`)) ?? 0) === 1;
  return (await waitUntil(peer, { timeoutMs, signal: deps.signal })) !== null;
}

/** With the market-open profile, the open now (+2 s) on every producer; the instant the peak starts, or null. */
async function open(stack: Stack): Promise<{ openAtMs: number; peakAtMs: number } | null> {
  const { scenario: s, members, deps } = stack;
  if (s.profile !== 'market-open') return null;
  const rampMs = loadProfileFile(paths(deps.root).marketOpenProfile).rampMs;
  const openAtMs = Date.now() + 2000;
  await mapLimit(members, 8, (m) => new ControlClient(m.baseUrl).schedule(openAtMs, undefined, deps.signal));
  return { openAtMs, peakAtMs: openAtMs + rampMs };
}

/** Every pod's orders per the ledgers (read, or quiesced: the final ones). */
async function ledgers(stack: Stack, quiesce: boolean): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const ls = await mapLimit(stack.members, 8, (m) => {
    const c = new ControlClient(m.baseUrl);
    return quiesce ? c.quiesce(stack.deps.signal) : c.ledger(stack.deps.signal);
  });
  for (const l of ls) for (const [pod, c] of Object.entries(l.pods)) out.set(pod, c.orders);
  return out;
}

/** Every pod's stored orders in one replica (a pod it holds no series of: 0); every pod null if it did not answer. */
async function stored(stack: Stack, prom: PromClient): Promise<PodTotals> {
  const pods = stack.members.flatMap((m) => m.podIds);
  const got = await prom.vector(pullDeliveredByPodQuery(900)).catch(() => null);
  const by = new Map((got ?? []).map((i) => [i.metric.pod ?? '', Number(i.value[1])]));
  return new Map(pods.map((pod) => [pod, got === null ? null : (by.get(pod) ?? 0)]));
}

async function scrapedAfter(prom: PromClient, afterMs: number): Promise<Set<string> | null> {
  const got = await prom.vector(scrapedAfterQuery(afterMs / 1000)).catch(() => null);
  return got === null ? null : new Set(got.map((i) => i.metric.pod ?? ''));
}

/** Scrapes of the pods one replica made over [fromMs, toMs] (every attempt stores an `up` sample). */
async function scrapesIn(prom: PromClient, fromMs: number, toMs: number): Promise<number> {
  const s = Math.max(1, Math.round((toMs - fromMs) / 1000));
  return (await prom.scalar(`sum(count_over_time(up{job="producers"}[${s}s]))`, toMs / 1000)) ?? 0;
}

/**
 * Polls the survivor once a second from the fault: its peer's `up`, PrometheusPeerDown firing. A pause is
 * resumed at `resumeAtMs` and watched until the survivor sees its peer up again; a kill until the page.
 */
async function watch(
  stack: Stack,
  p: Pair,
  tFault: number,
  resumeAtMs: number | null,
  out: ModeOutcome,
): Promise<{ d: PeerDetection; resumedAtMs: number | null; atResume: PodTotals | null }> {
  const { scenario: s, runtime, deps } = stack;
  const d: PeerDetection = {
    peerScraped: true,
    upZeroS: null,
    alertS: null,
    windowS: Math.round(s.observeMs / 1000),
  };
  if (resumeAtMs !== null) d.backUpAfterResumeS = null;
  let resumedAtMs: number | null = null;
  let atResume: PodTotals | null = null;
  for (let i = 0; i < 100_000 && Date.now() - tFault < s.observeMs; i++) {
    if (resumeAtMs !== null && resumedAtMs === null && Date.now() >= resumeAtMs) {
      atResume = await ledgers(stack, false); // the ledgers as the pause ends: what was generated during it
      await runtime.faultComponent!('resume', p.victim.component);
      resumedAtMs = Date.now();
    }
    const el = Math.round((Date.now() - tFault) / 100) / 10;
    const up = await p.survivor.prom.scalar(`max(up{job="${PEER_JOB}"})`).catch(() => null);
    const firing = await p.survivor.prom
      .alerts(deps.signal)
      .then((as) => as.some((a) => a.name === PEER_ALERT && a.state === 'firing'))
      .catch(() => false);
    out.series.peerUp!.push([el, up ?? Number.NaN]);
    out.series.peerAlert!.push([el, Number(firing)]);
    if (up === 0 && d.upZeroS === null && resumedAtMs === null) d.upZeroS = el;
    if (firing && d.alertS === null) d.alertS = el;
    if (resumedAtMs !== null && up === 1 && d.backUpAfterResumeS === null)
      d.backUpAfterResumeS = Math.round((Date.now() - resumedAtMs) / 100) / 10;
    if (resumeAtMs === null ? d.alertS !== null : d.backUpAfterResumeS != null) break;
    // Once a second, and on time for the resume.
    const toResume = resumeAtMs !== null && resumedAtMs === null ? resumeAtMs - Date.now() : 1000;
    await abortableSleep(Math.max(0, Math.min(1000, toResume)), deps.signal);
  }
  return { d, resumedAtMs, atResume };
}

/** What the fault measured before the end: the ledgers at the fault (and the resume), the victim's store at a kill. */
interface Measured {
  kind: Kind;
  faultAt: number;
  resumedAtMs: number | null;
  quiesceAt: number;
  atFault: PodTotals;
  atResume: PodTotals | null;
  victimAtKill: PodTotals | null;
  final: PodTotals;
}

/** Every view's account after quiesce and the final scrapes, and (a pause) the paused replica's gap. */
async function accounts(
  stack: Stack,
  p: Pair,
  m: Measured,
): Promise<{
  survivorAccount: ViewAccount;
  victimAccount: ViewAccount;
  merged: ViewAccount;
  gap?: PauseGap;
}> {
  const survivorStored = await stored(stack, p.survivor.prom);
  const survAfter = await scrapedAfter(p.survivor.prom, m.quiesceAt);
  const survivorAccount = liveAccount(
    `replica ${p.survivor.replica} (survivor)`,
    m.final,
    survivorStored,
    survAfter,
  );
  const victimView = `replica ${p.victim.replica} (${m.kind === 'kill' ? 'killed' : 'paused'})`;
  if (m.kind === 'kill') {
    const atKill = m.victimAtKill!;
    return {
      survivorAccount,
      victimAccount: killedAccount(victimView, m.final, m.atFault, atKill),
      merged: liveAccount(MERGED, m.final, mergeTotals(survivorStored, atKill), survAfter),
    };
  }
  const victimStored = await stored(stack, p.victim.prom);
  const victimAfter = await scrapedAfter(p.victim.prom, m.quiesceAt);
  const eitherAfter =
    survAfter === null || victimAfter === null
      ? (survAfter ?? victimAfter)
      : new Set([...survAfter, ...victimAfter]);
  const end = m.resumedAtMs ?? m.quiesceAt;
  const gap: PauseGap = {
    pauseS: Math.round((end - m.faultAt) / 100) / 10,
    survivorScrapes: await scrapesIn(p.survivor.prom, m.faultAt, end),
    pausedScrapes: await scrapesIn(p.victim.prom, m.faultAt, end),
    ordersInGap: ordersBetween(m.atFault, m.atResume ?? m.final),
  };
  return {
    survivorAccount,
    victimAccount: liveAccount(victimView, m.final, victimStored, victimAfter),
    merged: liveAccount(MERGED, m.final, mergeTotals(survivorStored, victimStored), eitherAfter),
    gap,
  };
}

const MERGED = 'merged (max across replicas)';

/** Faults the victim at its time (a kill: the ledgers and its store read together right before), then watches. */
async function inject(stack: Stack, p: Pair, kind: Kind, out: ModeOutcome) {
  const { scenario: s, variant: v, runtime, deps } = stack;
  const [fault, resume] = s.faults as [Fault, Fault | undefined];
  const opened = await open(stack);
  const tFault = (opened?.peakAtMs ?? Date.now()) + fault.atMs;
  await abortableSleep(Math.max(0, tFault - Date.now()), deps.signal);
  const readAt = Date.now();
  const [atFault, victimAtKill] = await Promise.all([
    ledgers(stack, false),
    kind === 'kill' ? stored(stack, p.victim.prom) : Promise.resolve(null),
  ]);
  const faultAt = Date.now();
  await runtime.faultComponent!(kind, p.victim.component);
  deps.log(`${s.name}/${v.name}: ${kind} ${p.victim.component}`);
  let w: Awaited<ReturnType<typeof watch>> | null = null;
  try {
    w = await watch(stack, p, faultAt, resume ? faultAt + resume.atMs - fault.atMs : null, out);
  } finally {
    // Never leave a replica stopped: teardown's SIGTERM would wait for a SIGCONT.
    if (kind === 'pause' && w?.resumedAtMs == null)
      await runtime.faultComponent!('resume', p.victim.component).catch(() => {});
  }
  const afterOpenS = opened ? Math.round((faultAt - opened.openAtMs) / 100) / 10 : null;
  const { d, resumedAtMs, atResume } = w!;
  return { d, readAt, afterOpenS, atFault, atResume, victimAtKill, faultAt, resumedAtMs };
}

async function run(stack: Stack, kind: Kind): Promise<ModeOutcome> {
  const { scenario: s, variant: v, deps } = stack;
  const out: ModeOutcome = { cells: [], metrics: {}, series: { peerUp: [], peerAlert: [] }, notes: [] };
  const p = pairOf(stack, s.faults[0]!);
  if (typeof p === 'string') {
    out.cells.push(notAppliedCell(PAIR_COLUMN, v.name, p));
    return out;
  }
  const peerScraped = await ready(stack, p);
  if (!peerScraped)
    out.notes.push(
      `replica ${p.survivor.replica} never scraped its peer up before the fault (no ${PEER_JOB} target)`,
    );
  const f = await inject(stack, p, kind, out);
  f.d.peerScraped = peerScraped;
  const quiesceAt = Date.now();
  const final = await ledgers(stack, true);
  await abortableSleep(2 * s.scrapeIntervalMs + 1000, deps.signal);
  const a = await accounts(stack, p, { kind, quiesceAt, final, ...f });
  out.cells.push(
    pairCell({
      variant: v.name,
      kind,
      victim: p.victim,
      survivor: p.survivor.replica,
      afterOpenS: f.afterOpenS,
      detection: f.d,
      ...a,
    }),
  );
  Object.assign(out.metrics, {
    peerUpZeroAfterS: f.d.upZeroS ?? -1,
    peerAlertAfterS: f.d.alertS ?? -1,
    mergedLost: a.merged.lost,
    survivorLost: a.survivorAccount.lost,
    faultedReplicaLost: a.victimAccount.lost,
    ...(f.afterOpenS !== null ? { faultAfterOpenS: f.afterOpenS } : {}),
    ...(kind === 'kill' ? { readToKillMs: f.faultAt - f.readAt } : {}),
    ...(a.gap
      ? {
          pauseS: a.gap.pauseS,
          missedScrapes: missedScrapes(a.gap),
          ordersInGap: a.gap.ordersInGap,
          peerBackUpAfterResumeS: f.d.backUpAfterResumeS ?? -1,
        }
      : {}),
  });
  return out;
}

/** Both pair modes run the stack with `--prometheus-replicas 2`. */
const pairStack = () => ({ prometheusReplicas: 2 });

export const replicaDies: DrillMode = { stackOptions: pairStack, run: (s) => run(s, 'kill') };
export const replicaPaused: DrillMode = { stackOptions: pairStack, run: (s) => run(s, 'pause') };
