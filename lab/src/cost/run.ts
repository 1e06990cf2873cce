// The per-event cost experiment: the same checkout events recorded with prom-client (pull), sent with
// hot-shots (push, three modes) to a real collector on loopback, and recorded with the OpenTelemetry SDK and
// exported over OTLP/HTTP to the same collector (otlp-run.ts).
//
// Order: one timed "cold" run (the first calls in this process, as a one-shot script measures them), then an
// untimed warm-up (V8 needs a few thousand calls before hot-shots' send path is optimised: on this machine
// the per-event push p99 falls from ~60–200 µs to ~10 µs after ~3,000 sends), then `repeats` timed "warm"
// runs whose statistics are reported as medians. Every timed run counts datagrams sent and received, and
// OTLP points exported and accepted.

import type { Clock } from '@pushpull/common';
import { median } from '../model/stats.ts';
import type { CollectorCounts, CollectorEndpoint } from './collector.ts';
import { type CheckoutEvent, makeCheckoutEvents } from './events.ts';
import { type CostSummary, medianSummary, summarizeNs, timeEach } from './measure.ts';
import { createOtlpRecorder } from './otlp.ts';
import {
  type OtlpCounts,
  OtlpPath,
  type OtlpRow,
  type OtlpRunResult,
  type OtlpTraffic,
  otlpRow,
  readOtlpCounts,
} from './otlp-run.ts';
import { createPullRecorder, type ScrapeResult, scrapeOnce } from './pull.ts';
import { createPushClient, MAX_BUFFER_SIZE, PUSH_MODES, type PushMode } from './push.ts';

export interface CostOptions {
  events: number;
  /** Timed warm runs after the warm-up; their medians are the headline numbers. */
  repeats: number;
  /** Untimed events per path between the cold run and the warm runs (0 = none). */
  warmup: number;
  seed: number;
  /** Register prom-client's default process metrics in the pull registry (a typical service's /metrics). */
  defaultMetrics: boolean;
  /** How long to wait for the collector to count everything sent, per mode and run. */
  settleTimeoutMs: number;
}

export const DEFAULT_COST_OPTIONS: Readonly<CostOptions> = Object.freeze({
  events: 1000,
  repeats: 5,
  warmup: 5000,
  seed: 42,
  defaultMetrics: true,
  settleTimeoutMs: 5000,
});

export interface CostDeps {
  clock: Clock;
  collector: CollectorEndpoint;
  readCounts: (httpUrl: string) => Promise<CollectorCounts>;
  /** The OTLP receiver's counts (default: readOtlpCounts, GET /metrics). */
  readOtlpCounts?: (httpUrl: string) => Promise<OtlpCounts>;
  sleep: (ms: number) => Promise<void>;
  log?: (msg: string) => void;
}

export interface CostRow {
  /** Per-event cost in the caller: median over the warm runs of each statistic. */
  cost: CostSummary;
  /** The cold run (first calls in the process). */
  cold: CostSummary;
  /** p99 of each warm run. */
  p99NsRepeats: number[];
}

export interface PushRunCounts {
  sent: number;
  received: number;
  delivered: number;
}

export interface PushRow extends CostRow {
  mode: PushMode;
  /** Cost of the final flush() call (sends what buffered/aggregated modes held back), median of warm runs. */
  flushNs: number;
  /**
   * Totals over every timed run (cold + warm). received = what the collector counted
   * (collector_packets_total{transport="udp"}).
   */
  datagrams: { sent: number; received: number; bytes: number; sendErrors: number };
  /** Events handed to the client vs the increase of the collector's `checkout` series, same runs. */
  eventsDelivered: { recorded: number; delivered: number };
  /** The cold run first, then each warm run. */
  perRun: PushRunCounts[];
  /** True when a run gave up waiting for the collector (settle timeout) before counts matched. */
  settleTimedOut: boolean;
}

export interface CostReport {
  events: number;
  repeats: number;
  warmup: number;
  /** The warm-up's datagrams (all push modes) and the collector's count of them, so every datagram is accounted. */
  warmupTraffic: PushRunCounts;
  /** Timed runs the datagram/event totals cover: 1 cold + repeats warm. */
  timedRuns: number;
  seed: number;
  defaultMetrics: boolean;
  collector: { kind: string; udp: string; http: string; rcvbufGranted: number | null };
  /** The timer's own cost: an empty call timed the same way (warm median). */
  timerFloor: CostSummary;
  pull: CostRow;
  push: PushRow;
  pushBuffered: PushRow;
  pushAggregated: PushRow;
  /** The OpenTelemetry SDK (counter.add) and one OTLP/HTTP export per run to the collector's receiver. */
  otlp: OtlpRow;
  /** The OTLP warm-up's exports and what the receiver counted of them. */
  otlpWarmup: OtlpTraffic;
  /** otlp.cost.p99Ns / pull.cost.p99Ns (warm). */
  ratioOtlp: number;
  /** push.cost.p99Ns / pull.cost.p99Ns (warm). */
  ratio: number;
  /** push.cold.p99Ns / pull.cold.p99Ns. */
  ratioCold: number;
  /** One GET of the pull registry's /metrics over HTTP on 127.0.0.1: bytes and milliseconds (warm median). */
  scrape: { bytes: number; ms: number; msRepeats: number[]; msCold: number };
  maxBufferSize: number;
}

export const PUBLISHED_COST_RUN = Object.freeze({
  machine: 'laptop',
  pullP99Us: 1.4,
  pushP99Us: 18.7,
  ratio: 13,
  scrapeBytes: 4816,
  scrapeMs: 2.3,
  received: 996,
  sent: 1000,
});

/** Polls the collector until it has counted `sent` datagrams and `events` events, or stops changing. */
export async function settleCounts(
  deps: CostDeps,
  before: CollectorCounts,
  sent: number,
  events: number,
  timeoutMs: number,
): Promise<{ counts: CollectorCounts; timedOut: boolean }> {
  const pollMs = 20;
  const stableMs = 300;
  const start = deps.clock.now();
  let last = await deps.readCounts(deps.collector.httpUrl);
  let lastChange = deps.clock.now();
  const maxPolls = Math.ceil(timeoutMs / pollMs) + 1;
  for (let i = 0; i < maxPolls; i++) {
    const received = last.udpPackets - before.udpPackets;
    const delivered = last.checkoutEvents - before.checkoutEvents;
    if (received >= sent && delivered >= events) return { counts: last, timedOut: false };
    const now = deps.clock.now();
    // Something arrived and nothing more for a while: the rest was lost.
    if (received > 0 && now - lastChange >= stableMs) return { counts: last, timedOut: false };
    if (now - start >= timeoutMs) break;
    await deps.sleep(pollMs);
    const next = await deps.readCounts(deps.collector.httpUrl);
    if (next.udpPackets !== last.udpPackets || next.checkoutEvents !== last.checkoutEvents)
      lastChange = deps.clock.now();
    last = next;
  }
  return { counts: last, timedOut: true };
}

interface PushRunResult extends PushRunCounts {
  cost: CostSummary;
  flushNs: number;
  bytes: number;
  sendErrors: number;
  timedOut: boolean;
}

interface TimedRun {
  floor: CostSummary;
  pull: CostSummary;
  scrape: ScrapeResult;
  push: Map<PushMode, PushRunResult>;
  otlp: OtlpRunResult;
}

async function timedRun(
  events: readonly CheckoutEvent[],
  opts: CostOptions,
  deps: CostDeps,
  otlp: OtlpPath,
): Promise<TimedRun> {
  const floor = summarizeNs(timeEach(events, () => {}, deps.clock));
  const recorder = createPullRecorder({ defaultMetrics: opts.defaultMetrics });
  const pull = summarizeNs(timeEach(events, recorder.record, deps.clock));
  const scrape = await scrapeOnce(recorder.registry);
  const push = new Map<PushMode, PushRunResult>();
  for (const mode of PUSH_MODES) {
    const before = await deps.readCounts(deps.collector.httpUrl);
    const client = createPushClient(mode, deps.collector.udp);
    const cost = summarizeNs(timeEach(events, client.record, deps.clock));
    const t0 = deps.clock.hrtimeNs();
    client.flush();
    const flushNs = Number(deps.clock.hrtimeNs() - t0);
    await client.close();
    const sent = client.counters.datagrams;
    const { counts, timedOut } = await settleCounts(deps, before, sent, events.length, opts.settleTimeoutMs);
    push.set(mode, {
      cost,
      flushNs,
      sent,
      received: counts.udpPackets - before.udpPackets,
      delivered: counts.checkoutEvents - before.checkoutEvents,
      bytes: client.counters.bytes,
      sendErrors: client.counters.sendErrors,
      timedOut,
    });
  }
  return { floor, pull, scrape, push, otlp: await otlp.timedRun(events) };
}

/** Untimed calls on every path, in chunks that let an in-process collector drain its socket between them. */
async function warmUp(n: number, opts: CostOptions, deps: CostDeps): Promise<PushRunCounts> {
  if (n <= 0) return { sent: 0, received: 0, delivered: 0 };
  const start = await deps.readCounts(deps.collector.httpUrl);
  const chunk = 250;
  const events = makeCheckoutEvents(Math.min(n, chunk), opts.seed + 1);
  const recorder = createPullRecorder({ defaultMetrics: false });
  const clients = PUSH_MODES.map((m) => createPushClient(m, deps.collector.udp));
  for (let done = 0; done < n; done += chunk) {
    const k = Math.min(chunk, n - done);
    for (let i = 0; i < k; i++) {
      const e = events[i]!;
      recorder.record(e);
      for (const c of clients) c.record(e);
    }
    for (const c of clients) c.flush();
    await deps.sleep(1);
  }
  await Promise.all(clients.map((c) => c.close()));
  // Let the collector count the warm-up traffic before the first measured snapshot.
  const sent = clients.reduce((a, c) => a + c.counters.datagrams, 0);
  const { counts } = await settleCounts(deps, start, sent, n * clients.length, opts.settleTimeoutMs);
  return {
    sent,
    received: counts.udpPackets - start.udpPackets,
    delivered: counts.checkoutEvents - start.checkoutEvents,
  };
}

/** Cold run, warm-up, warm runs; the OTLP path's one MeterProvider lives for all of them. */
async function runAll(events: readonly CheckoutEvent[], opts: CostOptions, deps: CostDeps) {
  const log = deps.log ?? (() => {});
  const otlp = new OtlpPath(
    createOtlpRecorder({ url: deps.collector.otlpUrl, timeoutMs: opts.settleTimeoutMs }, deps.clock),
    {
      clock: deps.clock,
      httpUrl: deps.collector.httpUrl,
      readOtlpCounts: deps.readOtlpCounts ?? readOtlpCounts,
      sleep: deps.sleep,
      settleTimeoutMs: opts.settleTimeoutMs,
    },
  );
  try {
    log('cost: cold run');
    const cold = await timedRun(events, opts, deps, otlp);
    log(`cost: warm-up, ${opts.warmup} untimed events per path`);
    const warmupTraffic = await warmUp(opts.warmup, opts, deps);
    const otlpWarmup = await otlp.warmUp(opts.warmup, opts.seed + 1);
    const warm: TimedRun[] = [];
    for (let r = 0; r < opts.repeats; r++) {
      log(`cost: warm run ${r + 1}/${opts.repeats}`);
      warm.push(await timedRun(events, opts, deps, otlp));
    }
    return { cold, warm, warmupTraffic, otlpWarmup };
  } finally {
    await otlp.shutdown();
  }
}

export async function runCostExperiment(opts: CostOptions, deps: CostDeps): Promise<CostReport> {
  const events = makeCheckoutEvents(opts.events, opts.seed);
  const { cold, warm, warmupTraffic, otlpWarmup } = await runAll(events, opts, deps);
  const all = [cold, ...warm];

  const pushRow = (mode: PushMode): PushRow => {
    const runs = all.map((t) => t.push.get(mode)!);
    const warmRuns = runs.slice(1);
    const sum = (f: (x: PushRunResult) => number) => runs.reduce((a, x) => a + f(x), 0);
    return {
      mode,
      cost: medianSummary(warmRuns.map((x) => x.cost)),
      cold: runs[0]!.cost,
      p99NsRepeats: warmRuns.map((x) => x.cost.p99Ns),
      flushNs: median(warmRuns.map((x) => x.flushNs)),
      datagrams: {
        sent: sum((x) => x.sent),
        received: sum((x) => x.received),
        bytes: sum((x) => x.bytes),
        sendErrors: sum((x) => x.sendErrors),
      },
      eventsDelivered: { recorded: events.length * runs.length, delivered: sum((x) => x.delivered) },
      perRun: runs.map(({ sent, received, delivered }) => ({ sent, received, delivered })),
      settleTimedOut: runs.some((x) => x.timedOut),
    };
  };
  const pull: CostRow = {
    cost: medianSummary(warm.map((t) => t.pull)),
    cold: cold.pull,
    p99NsRepeats: warm.map((t) => t.pull.p99Ns),
  };
  const push = pushRow('per-event');
  const otlp = otlpRow(all.map((t) => t.otlp));
  const ratioOf = (a: number, b: number) => (b > 0 ? a / b : Number.POSITIVE_INFINITY);
  return {
    events: opts.events,
    repeats: opts.repeats,
    warmup: opts.warmup,
    warmupTraffic,
    timedRuns: all.length,
    seed: opts.seed,
    defaultMetrics: opts.defaultMetrics,
    collector: {
      kind: deps.collector.kind,
      udp: `${deps.collector.udp.host}:${deps.collector.udp.port}`,
      http: deps.collector.httpUrl,
      rcvbufGranted: deps.collector.rcvbufGranted,
    },
    timerFloor: medianSummary(warm.map((t) => t.floor)),
    pull,
    push,
    pushBuffered: pushRow('buffered'),
    pushAggregated: pushRow('aggregated'),
    otlp,
    otlpWarmup,
    ratioOtlp: ratioOf(otlp.cost.p99Ns, pull.cost.p99Ns),
    ratio: ratioOf(push.cost.p99Ns, pull.cost.p99Ns),
    ratioCold: ratioOf(push.cold.p99Ns, pull.cold.p99Ns),
    scrape: {
      bytes: Math.round(median(warm.map((t) => t.scrape.bytes))),
      ms: median(warm.map((t) => t.scrape.ms)),
      msRepeats: warm.map((t) => t.scrape.ms),
      msCold: cold.scrape.ms,
    },
    maxBufferSize: MAX_BUFFER_SIZE,
  };
}
