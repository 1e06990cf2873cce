// Hand-made probe series and records for the pure tests (no I/O).
import { emptyCounts } from '@pushpull/common';
import { accountPath } from '../src/analysis/accounting.ts';
import type { BurstConfig, LedgerCounts, ProbeSample, PullProbe, RunRecord } from '../src/core/record.ts';
import type { CollectorSnapshot, NodeUdpSnapshot } from '../src/probe/exposition.ts';

export const T0 = 1_700_000_000_000;

export function pull(p: Partial<PullProbe> = {}): PullProbe {
  return {
    targets: 10,
    targetsUp: 10,
    scrapeP50: 0.01,
    scrapeP99: 0.02,
    scrapeMax: 0.03,
    scrapeTimeout: 10,
    slowTargets: 0,
    samplesSum: 1000,
    samplesMax: 100,
    bodyBytesMax: 18_000,
    bodyBytesAvg: 17_000,
    sampleLimitExceeded: 0,
    intervalP99: 15,
    storedOrders: 0,
    storedOrdersRate: null,
    collectorUp: 1,
    ...p,
  };
}

export function collector(c: Partial<CollectorSnapshot> = {}): CollectorSnapshot {
  return {
    orders: 0,
    packets: 0,
    packetsUdp: 0,
    lines: 0,
    parseErrors: 0,
    seriesRejected: 0,
    otherDrops: 0,
    socketDrops: null,
    kernelRcvbufErrors: 5,
    kernelInErrors: 5,
    kernelInDatagrams: 100,
    series: 10,
    eventLoopLagSeconds: 0.001,
    rcvbufBytes: 4_194_304,
    sourcesActive: 10,
    bodyBytes: 1000,
    ...c,
  };
}

export function node(n: Partial<NodeUdpSnapshot> = {}): NodeUdpSnapshot {
  return { rcvbufErrors: 5, inErrors: 5, inDatagrams: 100, ...n };
}

export function ledger(l: Partial<LedgerCounts> = {}): LedgerCounts {
  return { ...emptyCounts(), ...l };
}

/** A healthy sample at `sec` seconds after T0; override any part. */
export function sample(sec: number, o: Partial<ProbeSample> = {}): ProbeSample {
  const orders = Math.max(0, Math.round((sec + 30) * 100));
  return {
    tMs: T0 + sec * 1000,
    phase: sec < 0 ? 'warmup' : 'peak',
    pull: pull({ storedOrders: orders }),
    collector: collector({ orders, packets: orders * 2, packetsUdp: orders * 2 }),
    node: node(),
    ledger: ledger({ orders, ordersPushed: orders, datagrams: orders * 2 }),
    ledgerProducers: 1,
    alerts: [],
    cpu: { prometheus: sec + 30, producers: 2 * (sec + 30), lab: 0.1 * (sec + 30) },
    probeMs: {},
    errors: [],
    ...o,
  };
}

export function series(
  fromSec: number,
  toSec: number,
  patch: (sec: number) => Partial<ProbeSample> = () => ({}),
): ProbeSample[] {
  const out: ProbeSample[] = [];
  for (let s = fromSec; s <= toSec; s++) out.push(sample(s, patch(s)));
  return out;
}

export const CONFIG: BurstConfig = {
  runtime: 'process',
  pods: 10,
  podsPerProducer: 5,
  producers: 2,
  pushMode: 'per-event',
  jitter: true,
  transport: 'udp',
  scrapeIntervalMs: 15_000,
  durationMs: 60_000,
  profile: null,
  seed: 42,
  out: '/tmp/x',
  failOn: null,
  nodeExporter: true,
  heartbeatMs: 5000,
  flushIntervalMs: 10_000,
  fleetPods: 1400,
  leadMs: 3000,
};

export function record(o: Partial<RunRecord> = {}): RunRecord {
  const s = o.series ?? series(-10, 20);
  return {
    schema: 'pushpull-lab/run@1',
    runId: 'test-run',
    startedAt: new Date(T0 - 60_000).toISOString(),
    finishedAt: new Date(T0 + 60_000).toISOString(),
    config: CONFIG,
    environment: {
      runtime: 'process',
      cores: 2,
      rmemMaxBytes: 4_194_304,
      kernel: '6.1.0',
      node: 'v20',
      collectorRcvbufBytes: 4_194_304,
      prometheusScrapeTimeoutMs: 10_000,
      notes: ['a note with <html> & "quotes"'],
    },
    phases: [
      { phase: 'warmup', startMs: T0 - 10_000 },
      { phase: 'ramp', startMs: T0 },
      { phase: 'quiesce', startMs: T0 + 15_000 },
    ],
    burstAtMs: T0,
    series: s,
    ledgers: [],
    paths: {
      pull: accountPath(5000, 5000, 'ledgers', 'prometheus'),
      push: accountPath(5000, 4000, 'ledgers', 'collector'),
    },
    datagrams: { sent: 10_000, received: 9_000, lost: 1_000 },
    firstFailures: [
      {
        path: 'push',
        signal: 'kernel-udp-drop',
        secondsAfterBurst: 0.9,
        detail: '+10 UDP datagrams dropped',
      },
    ],
    discounted: [],
    peaks: {
      pullEmittedPerSec: 100,
      pullDeliveredPerSec: 100,
      pushEmittedPerSec: 100,
      pushDeliveredPerSec: 80,
      collectorPacketsPerSec: 200,
      udpDropsPerSec: 10,
      scrapeP99Seconds: 0.41,
      scrapeMaxSeconds: 0.5,
      bodyBytesMax: 240_000,
      samplesPerScrapeMax: 3000,
      model: null,
    },
    verdict: 'push (per-event UDP) failed first: kernel receive-buffer drops began 0.9 s after the open',
    failOn: null,
    error: null,
    ...o,
  };
}
