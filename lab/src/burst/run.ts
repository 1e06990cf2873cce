import { readFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { join, resolve } from 'node:path';
import { describeError, isLabError, LabError } from '@pushpull/common';
import {
  accountPath,
  counterTotal,
  ledgerTotals,
  pullDeliveredQuery,
  pullResetPodsQuery,
} from '../analysis/accounting.ts';
import { evalFailOn, factsOf, parseFailOn } from '../analysis/failon.ts';
import { deriveFirstFailures } from '../analysis/failures.ts';
import { measurePeaks } from '../analysis/peaks.ts';
import { partialVerdict, verdictSentence } from '../analysis/verdict.ts';
import { hostMemory, readRmemMax } from '../core/host.ts';
import { httpText } from '../core/http.ts';
import { paths } from '../core/paths.ts';
import type {
  BurstConfig,
  Environment,
  Ledger,
  PathAccount,
  Peaks,
  Phase,
  PhaseMark,
  ProbeSample,
  RunRecord,
} from '../core/record.ts';
import { abortableSleep, mapLimit, throwIfAborted } from '../core/time.ts';
import { makeRunId, newWorkDir, removeWorkDir } from '../core/workdir.ts';
import { predictMeasuredFlushPeak } from '../model/index.ts';
import { ControlClient } from '../probe/control.ts';
import { collectorSnapshot } from '../probe/exposition.ts';
import { ProbeLoop } from '../probe/loop.ts';
import { PromClient } from '../probe/prom.ts';
import { type ContractPhase, contractPhase, pushPhaseMetrics } from '../probe/pushgateway.ts';
import { parsePromDuration } from '../runtime/prometheus-config.ts';
import type { ProducerMember, Runtime, RuntimeFactory, StackEndpoints } from '../runtime/types.ts';
import { burstPhaseAt, fitProfile, loadProfileFile, type ProfileShape, profileLengthMs } from './profile.ts';

// One market-open burst run, end to end:
//   up → scale → warm-up (steady rate until Prometheus scraped every pod twice) → schedule the open at one
//   absolute instant on every producer → ramp/hold/decay → quiesce → final scrapes → collect ledgers and
//   delivered counts → record. Probes run every second throughout. Everything started is torn down in
//   `finally`, including on Ctrl-C (the AbortSignal wakes every wait).

export interface ProgressSink {
  phase(p: Phase, info: { elapsedMs: number; pods: number; producers: number; detail?: string }): void;
  sample(s: ProbeSample, ctx: { burstAtMs: number | null; scrapeIntervalMs: number; pods: number }): void;
  note(msg: string): void;
  close(): void;
}

export interface BurstDeps {
  root: string;
  factory: RuntimeFactory;
  selectionReasons: string[];
  progress: ProgressSink;
  signal: AbortSignal;
  /** Runs that must survive the reaper (the stack recorded by `up`). */
  keepRunIds: string[];
  /** Called once the runtime exists (the CLI's second-Ctrl-C handler kills through it). */
  onRuntime?: (rt: Runtime, workDir: string) => void;
  /** Override for tests: the run id. */
  runId?: string;
}

/** Time budget for the pull path's final totals (one query per producer). */
const PULL_ACCOUNTING_BUDGET_MS = 120_000;

/** The run stops when the host's MemAvailable drops below max(1 GiB, 8 % of RAM): a shared machine survives. */
function minHostMemAvailable(): number {
  const m = hostMemory();
  return Math.max(2 ** 30, 0.08 * (m?.totalBytes ?? 0));
}

/** Effective producer scrape timeout: the source config's timeout, capped by the interval (as derived). */
export function scrapeTimeoutFor(root: string, intervalMs: number): number {
  try {
    const m = /^\s*scrape_timeout:\s*(\S+)/m.exec(readFileSync(paths(root).prometheusYml, 'utf8'));
    return Math.min(m ? parsePromDuration(m[1]!) : 10_000, intervalMs);
  } catch {
    return Math.min(10_000, intervalMs);
  }
}

async function allProducers<T>(
  members: readonly ProducerMember[],
  fn: (c: ControlClient, m: ProducerMember) => Promise<T>,
): Promise<T[]> {
  return mapLimit(members, 8, (m) => fn(new ControlClient(m.baseUrl), m));
}

/** Model prediction for flush-synchronised push (aggregated mode), beside the measured peak. */
export function modelPeak(
  config: BurstConfig,
  samples: readonly ProbeSample[],
  burstAtMs: number,
  quiesceAtMs: number,
  measuredPacketsPeak: number | null,
): Peaks['model'] {
  if (config.pushMode !== 'aggregated') return null;
  const inBurst = samples.filter((s) => s.tMs >= burstAtMs && s.tMs <= quiesceAtMs && s.ledger);
  const first = inBurst[0];
  const last = inBurst[inBurst.length - 1];
  if (!first?.ledger || !last?.ledger || last.tMs <= first.tMs) return null;
  const flushes = ((last.tMs - first.tMs) / config.flushIntervalMs) * config.pods;
  const perFlush = (last.ledger.datagrams - first.ledger.datagrams) / Math.max(1, flushes);
  if (!(perFlush >= 1)) return null;
  try {
    const p = predictMeasuredFlushPeak({
      producers: config.pods,
      intervalMs: config.flushIntervalMs,
      meanPacketsPerFlush: perFlush,
      binMs: 1000,
      windowMs: Math.max(60_000, 6 * config.flushIntervalMs),
      jitter: config.jitter,
    });
    return {
      name: 'flush peak',
      value: p.peakRange.median,
      unit: 'packets per 1 s bin',
      measured: measuredPacketsPeak,
      note: `model: ${config.pods} pods × ${perFlush.toFixed(2)} packets per ${config.flushIntervalMs / 1000} s flush, jitter ${config.jitter ? 'on' : 'off'} (range ${Math.round(p.peakRange.min)}–${Math.round(p.peakRange.max)} over ${p.peakRange.seeds} seeds)`,
    };
  } catch {
    return null;
  }
}

export interface BurstResult {
  record: RunRecord;
  outDir: string;
}

export async function runBurst(config0: BurstConfig, deps: BurstDeps): Promise<BurstResult> {
  const { progress, signal, root } = deps;
  const runId = deps.runId ?? makeRunId();
  const startedAt = new Date();
  const workDir = newWorkDir(runId);
  const p = paths(root);
  const outDir = config0.out ? resolve(config0.out) : join(p.runsDir, runId);
  const notes: string[] = [];

  // The profile, fitted to the burst window (default: its full length).
  const baseProfile = loadProfileFile(p.marketOpenProfile);
  const durationMs =
    config0.durationMs > 0 ? config0.durationMs : Math.ceil(profileLengthMs(baseProfile) / 1000) * 1000;
  const fit = fitProfile(baseProfile, durationMs);
  const profile: ProfileShape = fit.profile;
  if (fit.fitted)
    notes.push(
      `burst window ${durationMs / 1000} s is shorter than the profile's ${profileLengthMs(baseProfile) / 1000} s: hold and decay compressed to ${profile.holdMs / 1000} s and ${profile.decayMs / 1000} s`,
    );
  const config: BurstConfig = Object.freeze({
    ...config0,
    out: outDir,
    durationMs,
    profile: {
      name: String(profile.name),
      steadyOrdersPerSecond: profile.steadyOrdersPerSecond,
      peakOrdersPerSecond: profile.peakOrdersPerSecond,
      afterOrdersPerSecond: profile.afterOrdersPerSecond,
      rampMs: profile.rampMs,
      holdMs: profile.holdMs,
      decayMs: profile.decayMs,
      fitted: fit.fitted,
    },
  });
  const scrapeTimeoutMs = scrapeTimeoutFor(root, config.scrapeIntervalMs);
  const runtime = deps.factory.create();
  deps.onRuntime?.(runtime, workDir);
  if (runtime.kind === 'process')
    notes.push(
      "process runtime: node-exporter and the collector's kernel counters read the host's network namespace, shared with every process on this machine — a UDP drop elsewhere on the host counts too",
    );

  const t0Run = Date.now();
  const phases: PhaseMark[] = [];
  let probe: ProbeLoop | null = null;
  let endpoints: StackEndpoints | null = null;
  let members: ProducerMember[] = [];
  let burstAtMs: number | null = null;
  const contractStarted: Partial<Record<ContractPhase, number>> = {};
  let lastAnnotation = 0;
  let annotationFailed = false;

  const annotate = async () => {
    if (!endpoints) return;
    const cur = contractPhase(phases[phases.length - 1]?.phase ?? 'start');
    if (!cur) return;
    lastAnnotation = Date.now();
    try {
      await pushPhaseMetrics(endpoints.pushgatewayUrl, {
        runId,
        current: cur,
        startedMs: contractStarted,
        expectedSources: config.pods,
        burstAtMs,
      });
    } catch (e) {
      if (!annotationFailed) progress.note(`pushgateway phase annotation failed: ${describeError(e)}`);
      annotationFailed = true;
    }
  };
  const setPhase = async (ph: Phase, detail?: string) => {
    if (phases[phases.length - 1]?.phase === ph) return;
    const now = Date.now();
    phases.push({ phase: ph, startMs: now });
    const cp = contractPhase(ph);
    if (cp && contractStarted[cp] === undefined) contractStarted[cp] = now;
    if (probe) probe.phase = ph;
    progress.phase(ph, {
      elapsedMs: now - t0Run,
      pods: config.pods,
      producers: config.producers,
      ...(detail ? { detail } : {}),
    });
    await annotate();
  };
  const checkFatal = () => {
    throwIfAborted(signal);
    if (probe?.fatal) throw probe.fatal;
  };

  let finalLedgers: Ledger[] = [];
  let quiesceAtMs = 0;
  let pullDelivered: { value: number; from: string } | null = null;
  /** Producers left out of the pull accounting (Prometheus did not answer for them in time). */
  let pullOmitted: string[] = [];
  let pushDelivered: number | null = null;
  let collectorUdpPackets: number | null = null;
  let collectorRcvbuf: number | null = null;
  let failure: unknown = null;

  try {
    const reaped = await deps.factory
      .reap(deps.keepRunIds)
      .catch((e: Error) => [`(reaper failed: ${e.message})`]);
    if (reaped.length > 0) progress.note(`removed leftovers of earlier runs: ${reaped.join(', ')}`);
    await setPhase('start', `${runtime.kind} runtime, work dir ${workDir}`);
    endpoints = await runtime.up({
      runId,
      workDir,
      scrapeIntervalMs: config.scrapeIntervalMs,
      withNodeExporter: config.nodeExporter,
      log: (m) => progress.note(m),
      persistent: false,
      signal,
    });
    checkFatal();
    members = await runtime.scale(config.producers, {
      podsPerProducer: config.podsPerProducer,
      totalPods: config.pods,
      seed: config.seed,
      pushMode: config.pushMode,
      jitter: config.jitter,
      transport: config.transport,
      heartbeatMs: config.heartbeatMs,
      flushIntervalMs: config.flushIntervalMs,
      fleetPods: config.fleetPods,
    });
    const fleetStartMs = Date.now();
    const prom = new PromClient(endpoints.prometheusUrl);
    // The final accounting queries scan every order series of the run: give an overloaded Prometheus time.
    const promFinal = new PromClient(endpoints.prometheusUrl, 120_000);
    const warmupLimitMs = 30_000 + 6 * config.scrapeIntervalMs;
    probe = new ProbeLoop(
      {
        prom,
        promSlow: new PromClient(endpoints.prometheusUrl, 15_000),
        collectorUrl: endpoints.collectorHttpUrl,
        nodeExporterUrl: endpoints.nodeExporterUrl,
        members: () => members,
        cpuSeconds: () => runtime.cpuSeconds(),
        ...(runtime.rssBytes ? { rssBytes: () => runtime.rssBytes!() } : {}),
        minHostMemAvailable: minHostMemAvailable(),
        dead: () => runtime.dead(),
        ...(runtime.logs ? { logs: (n: string) => runtime.logs!(n) } : {}),
        scrapeIntervalMs: config.scrapeIntervalMs,
      },
      { maxDurationMs: warmupLimitMs + config.leadMs + durationMs + 6 * config.scrapeIntervalMs + 120_000 },
    );
    probe.onSample = (s) =>
      progress.sample(s, { burstAtMs, scrapeIntervalMs: config.scrapeIntervalMs, pods: config.pods });
    probe.start();

    // Warm-up: steady rate until Prometheus has scraped every pod successfully at least twice.
    await setPhase('warmup');
    const warmupDeadline = Date.now() + warmupLimitMs;
    let scrapedTwice = 0;
    for (let i = 0; i < 10_000; i++) {
      checkFatal();
      const windowS = Math.ceil((Date.now() - fleetStartMs) / 1000) + 1;
      scrapedTwice =
        (await prom
          .scalar(`count(sum_over_time(up{job="producers"}[${windowS}s]) >= 2)`, undefined, signal)
          .catch(() => null)) ?? 0;
      if (scrapedTwice >= config.pods) break;
      if (Date.now() - lastAnnotation > 15_000) await annotate(); // keeps the lab's own group fresh
      if (Date.now() >= warmupDeadline) {
        const msg = `warm-up incomplete: only ${scrapedTwice} of ${config.pods} pods were scraped successfully twice within ${warmupLimitMs / 1000} s; the burst was started anyway`;
        notes.push(msg);
        progress.note(msg);
        break;
      }
      await abortableSleep(1000, signal);
    }

    // The open: one absolute instant on every producer.
    burstAtMs = Date.now() + config.leadMs;
    const t0 = burstAtMs;
    await setPhase('scheduled', `open at ${new Date(t0).toISOString()}`);
    const confirmations = await allProducers(members, async (c) => {
      await c.schedule(t0, profile, signal);
      return Date.now();
    });
    const late = confirmations.filter((t) => t > t0).length;
    if (late > 0)
      notes.push(`${late} producer(s) confirmed the schedule after the open (they started their ramp late)`);
    const endAt = t0 + durationMs;
    for (let i = 0; i < 100_000; i++) {
      checkFatal();
      const now = Date.now();
      if (now >= endAt) break;
      await setPhase(burstPhaseAt(profile, t0, now));
      if (now - lastAnnotation > 15_000) await annotate(); // keeps PushgatewayGroupStale quiet
      await abortableSleep(Math.min(250, endAt - now), signal);
    }

    // Quiesce: stop generating, flush push buffers; then let Prometheus scrape every pod again.
    await setPhase('quiesce');
    quiesceAtMs = Date.now();
    await allProducers(members, (c) => c.quiesce(signal));
    await setPhase('final-scrapes');
    const minWaitUntil = quiesceAtMs + 2 * config.scrapeIntervalMs;
    const finalDeadline = quiesceAtMs + 4 * config.scrapeIntervalMs + 15_000;
    let scrapedAfter = 0;
    for (let i = 0; i < 10_000; i++) {
      checkFatal();
      const now = Date.now();
      if (now - lastAnnotation > 15_000) await annotate();
      if (now >= minWaitUntil) {
        scrapedAfter =
          (await prom
            .scalar(
              `count(timestamp(up{job="producers"} == 1) > ${(quiesceAtMs / 1000).toFixed(3)})`,
              undefined,
              signal,
            )
            .catch(() => null)) ?? 0;
        if (scrapedAfter >= config.pods) break;
        if (now >= finalDeadline) {
          notes.push(
            `final scrapes: only ${scrapedAfter} of ${config.pods} pods were scraped successfully after quiesce; the rest count as pull loss`,
          );
          break;
        }
      }
      await abortableSleep(500, signal);
    }
    // The collector must have read what is still in its socket buffer: wait until its count is stable.
    let prev: number | null = null;
    for (let i = 0; i < 20; i++) {
      const snap = collectorSnapshot(
        await httpText(`${endpoints.collectorHttpUrl}/metrics`, { timeoutMs: 60_000, signal }),
      );
      collectorRcvbuf = snap.rcvbufBytes;
      if (prev !== null && snap.orders === prev) break;
      prev = snap.orders;
      await abortableSleep(1000, signal);
    }

    // Collect: ground truth (ledgers) and what each path delivered.
    await setPhase('collect');
    finalLedgers = await allProducers(members, (c) => c.ledger(signal));
    const nowS = Date.now() / 1000;
    const windowS =
      Math.ceil((Date.now() - fleetStartMs) / 1000) + Math.ceil((2 * config.scrapeIntervalMs) / 1000);
    // One query per producer, a retry each: a whole-fleet scan can exceed Prometheus' query timeout. The
    // whole accounting has a time budget: producers Prometheus cannot answer for within it are left out
    // of the pull accounting (and named), rather than holding the run for as long as an overloaded
    // Prometheus takes.
    let value = 0;
    let resetPods: Awaited<ReturnType<PromClient['vector']>> = [];
    let resetCheckFailed: unknown = null;
    const budgetEnd = Date.now() + PULL_ACCOUNTING_BUDGET_MS;
    const unanswered: string[] = [];
    for (const m of members) {
      let got: number | null = null;
      for (let attempt = 0; attempt < 2 && got === null; attempt++) {
        const left = budgetEnd - Date.now();
        if (left < 1000) break;
        try {
          got =
            (await new PromClient(endpoints.prometheusUrl, Math.min(60_000, left)).scalar(
              pullDeliveredQuery(windowS, m.name),
              nowS,
              signal,
            )) ?? 0;
        } catch (e) {
          throwIfAborted(signal);
          progress.note(`pull total for ${m.name}: ${describeError(e)}${attempt === 0 ? '; retrying' : ''}`);
        }
      }
      if (got === null) {
        unanswered.push(m.name);
        continue;
      }
      value += got;
      // Counter resets (a restarted pod) are rare and the check is another scan: best effort.
      if (resetCheckFailed === null && budgetEnd - Date.now() > 1000) {
        try {
          resetPods = resetPods.concat(
            await new PromClient(endpoints.prometheusUrl, Math.min(30_000, budgetEnd - Date.now())).vector(
              pullResetPodsQuery(windowS, m.name),
              nowS,
              signal,
            ),
          );
        } catch (e) {
          throwIfAborted(signal);
          resetCheckFailed = e;
        }
      }
    }
    if (unanswered.length === members.length)
      throw new LabError(
        'LAB_ERR_PROMETHEUS',
        `Prometheus could not compute the pull path's stored totals within ${PULL_ACCOUNTING_BUDGET_MS / 1000} s (overloaded)`,
      );
    pullOmitted = unanswered;
    if (unanswered.length > 0)
      notes.push(
        `pull accounting covers ${members.length - unanswered.length} of ${members.length} producers: Prometheus did not answer for ${unanswered.join(', ')} within the ${PULL_ACCOUNTING_BUDGET_MS / 1000} s budget`,
      );
    let from = `Prometheus: Σ over producers of ${pullDeliveredQuery(windowS, '<producer>')}`;
    if (resetCheckFailed)
      notes.push(
        `pull: the counter-reset check did not complete (${describeError(resetCheckFailed)}); delivered assumes no pod restarted`,
      );
    if (resetPods.length > 0) {
      // max_over_time undercounts a series that reset (a restarted pod): count those pods from raw samples.
      for (const item of resetPods.slice(0, 200)) {
        const pod = item.metric.pod ?? '';
        const sel = `orders_total{job="producers",pod="${pod.replace(/"/g, '\\"')}"}`;
        const viaMax = (await promFinal.scalar(`sum(max_over_time(${sel}[${windowS}s]))`, nowS, signal)) ?? 0;
        const raw = await promFinal.matrix(`${sel}[${windowS}s]`, nowS, signal);
        const exact = raw.reduce((acc, s) => acc + counterTotal(s.values.map((v) => Number(v[1]))), 0);
        value += exact - viaMax;
      }
      from += ` (+ reset-aware totals from raw samples for ${resetPods.length} pod(s) whose counters reset)`;
    }
    pullDelivered = { value, from };
    const finalSnap = collectorSnapshot(
      await httpText(`${endpoints.collectorHttpUrl}/metrics`, { timeoutMs: 60_000, signal }),
    );
    pushDelivered = finalSnap.orders ?? 0;
    collectorUdpPackets = finalSnap.packetsUdp;
    collectorRcvbuf = finalSnap.rcvbufBytes ?? collectorRcvbuf;
    await probe.finalTick();
    await setPhase('done');
  } catch (e) {
    failure = e;
  } finally {
    await probe?.stop();
    progress.note('tearing down');
    await runtime.down().catch((e: Error) => progress.note(`teardown: ${e.message}`));
    removeWorkDir(workDir);
    progress.close();
  }

  const interrupted = isLabError(failure, 'LAB_ERR_INTERRUPTED') || signal.aborted;
  // Nothing to report when the run was interrupted or never got its probes going.
  if (failure && (interrupted || !probe || probe.samples.length === 0)) throw failure;

  const samples = probe?.samples ?? [];
  const t0 = burstAtMs ?? samples[0]?.tMs ?? Date.now();
  const totals = ledgerTotals(finalLedgers);
  const pullLedgers = finalLedgers.filter((l) => !pullOmitted.includes(l.name));
  const pullEmitted = ledgerTotals(pullLedgers).orders;
  let paths2: Record<'pull' | 'push', PathAccount>;
  if (!failure && pullDelivered && pushDelivered !== null) {
    paths2 = {
      pull: accountPath(
        pullEmitted,
        pullDelivered.value,
        pullOmitted.length === 0
          ? "Σ producers' ledgers: orders (generated)"
          : `Σ ledgers: orders (generated) of the ${pullLedgers.length} producers Prometheus answered for`,
        pullDelivered.from,
      ),
      push: accountPath(
        totals.ordersPushed,
        pushDelivered,
        "Σ producers' ledgers: ordersPushed",
        'collector /metrics: Σ of every `orders` series',
      ),
    };
  } else {
    // A failed run: the last probe values, marked as partial.
    const lastWith = <T>(get: (s: ProbeSample) => T | null | undefined): T | null => {
      for (let i = samples.length - 1; i >= 0; i--) {
        const v = get(samples[i]!);
        if (v !== null && v !== undefined) return v;
      }
      return null;
    };
    const partial = ' (PARTIAL: last probe before the run failed)';
    paths2 = {
      pull: accountPath(
        lastWith((s) => s.ledger?.orders) ?? 0,
        lastWith((s) => s.pull?.storedOrders) ?? 0,
        `ledgers${partial}`,
        `Prometheus${partial}`,
      ),
      push: accountPath(
        lastWith((s) => s.ledger?.ordersPushed) ?? 0,
        lastWith((s) => s.collector?.orders) ?? 0,
        `ledgers${partial}`,
        `collector${partial}`,
      ),
    };
  }
  const datagrams =
    !failure && config.transport === 'udp' && config.pushMode !== 'off' && collectorUdpPackets !== null
      ? {
          sent: totals.datagrams,
          received: collectorUdpPackets,
          lost: totals.datagrams - collectorUdpPackets,
        }
      : null;
  if (datagrams && datagrams.lost < 0)
    notes.push(
      `ground-truth anomaly: the collector received ${(-datagrams.lost).toLocaleString('en-US')} more UDP datagrams than the producers' ledgers say they sent (${datagrams.sent.toLocaleString('en-US')}); the ledgers' datagram count is wrong, so datagram-level attribution is off for this run`,
    );
  const discounted: { signal: string; reason: string }[] = [];
  const firstFailures = deriveFirstFailures(samples, {
    burstAtMs: t0,
    scrapeTimeoutSeconds: scrapeTimeoutMs / 1000,
    scrapeIntervalSeconds: config.scrapeIntervalMs / 1000,
    sharedNetns: runtime.kind === 'process',
    ...(quiesceAtMs > 0 ? { untilMs: quiesceAtMs } : {}),
    discounted,
  });
  const peaks = measurePeaks(samples, t0);
  const packetsPeak = peaks.collectorPacketsPerSec;
  peaks.model = modelPeak(config, samples, t0, quiesceAtMs || Date.now(), packetsPeak);
  const verdict = failure
    ? partialVerdict(describeError(failure).split('\n')[0]!, { config, firstFailures })
    : verdictSentence({
        config,
        paths: paths2,
        firstFailures,
        peaks,
        scrapeTimeoutSeconds: scrapeTimeoutMs / 1000,
      });
  const environment: Environment = {
    runtime: runtime.kind,
    cores: availableParallelism(),
    rmemMaxBytes: readRmemMax(),
    kernel: release(),
    node: process.version,
    collectorRcvbufBytes: collectorRcvbuf ?? lastCollectorRcvbuf(samples),
    prometheusScrapeTimeoutMs: scrapeTimeoutMs,
    notes: [...deps.selectionReasons.map((r) => `runtime selection: ${r}`), ...notes],
  };
  const record: RunRecord = {
    schema: 'pushpull-lab/run@1',
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    config,
    environment,
    phases,
    burstAtMs: t0,
    series: samples,
    ledgers: finalLedgers,
    paths: paths2,
    datagrams,
    firstFailures,
    discounted,
    peaks,
    verdict,
    failOn: null,
    error: failure ? describeError(failure) : null,
  };
  if (config.failOn)
    record.failOn = { expr: config.failOn, met: evalFailOn(parseFailOn(config.failOn), factsOf(record)) };
  return { record, outDir };
}

function lastCollectorRcvbuf(samples: readonly ProbeSample[]): number | null {
  for (let i = samples.length - 1; i >= 0; i--) {
    const v = samples[i]!.collector?.rcvbufBytes;
    if (v !== null && v !== undefined) return v;
  }
  return null;
}
