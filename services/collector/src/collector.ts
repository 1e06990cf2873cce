import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { type Clock, jsonLogger, type Logger, parseHostPort, systemClock } from '@pushpull/common';
import { type Agent, createAgent } from './agent/agent.ts';
import { Ingest } from './aggregate/ingest.ts';
import { type ApplyResult, OtlpIngest } from './aggregate/otlp.ts';
import { type CollectorConfig, type CollectorConfigInput, resolveConfig } from './config.ts';
import { ArrivalBins } from './expose/arrivals.ts';
import { readUdpKernelCounters, readUdpSocketDrops } from './expose/kernel.ts';
import { exposition, RESERVED_NAMES, type SelfValues, selfExposition } from './expose/render.ts';
import {
  DROP_REASONS,
  R_LINE_TOO_LONG,
  R_TRUNCATED,
  TAG_REASON_COUNT,
  TR_TCP,
  TRANSPORT_NAMES,
  type Transport,
} from './parse/codes.ts';
import { decodeSteps, type Encoding } from './parse/otlp.ts';
import { type HttpListener, HttpStats, startHttp } from './transport/http.ts';
import { OtlpHttpStats, startOtlpHttp } from './transport/otlp-http.ts';
import { startTcp, type TcpListener } from './transport/tcp.ts';
import { startUdp, type UdpListener } from './transport/udp.ts';

/** Longest stretch of OTLP decode/apply work before the event loop gets a turn (README: Responsiveness). */
const OTLP_SLICE_MS = 2;
/** Datagrams libuv reads per readiness of a UDP socket (libuv's uv__udp_recvmsg: 32). */
const UV_UDP_BATCH = 32;
/** Turns the UDP backlog may take between two OTLP slices: up to 2,048 datagrams per 2 ms slice. */
const OTLP_DRAIN_TURNS = 64;

// Wiring: transport -> parse -> aggregate -> expose. createCollector() validates the config and builds
// the pure core; start() binds the sockets; stop() stops receiving, flushes and closes.

export interface CollectorDeps {
  clock?: Clock;
  logger?: Logger;
  /** Where the kernel UDP counters are read from (tests point it at a fixture). */
  procNetSnmp?: string;
  /** Directory holding udp/udp6 socket tables (default /proc/net). */
  procNet?: string;
}

export interface CollectorAddresses {
  udp: string;
  tcp: string | null;
  http: string;
  /** The OTLP/HTTP receiver (null: --otlp-http off). */
  otlp: string | null;
  rcvbufRequested: number;
  rcvbufGranted: number | null;
  /** Raw getsockopt(SO_RCVBUF) (Linux reports twice the granted size). */
  rcvbufKernel: number | null;
}

export interface CollectorSummary {
  packets: Record<Transport, number>;
  lines: Record<Transport, number>;
  linesAccepted: number;
  parseErrors: Record<string, number>;
  seriesRejected: number;
  series: number;
}

export interface Collector {
  readonly config: Readonly<CollectorConfig>;
  /** The pure core (tests and tools may feed it bytes directly). */
  readonly ingest: Ingest;
  /** The OTLP core over the same store (decoded requests in). */
  readonly otlp: OtlpIngest;
  /** Agent mode's flusher and forwarder (null in collector mode). */
  readonly agent: Agent | null;
  start(): Promise<CollectorAddresses>;
  /** Stops receiving, flushes partial TCP lines, renders once more, logs a summary, closes. Idempotent. */
  stop(): Promise<void>;
  /** Totals so far (also logged as the "stopped" line). */
  summary(): CollectorSummary;
  /** The whole exposition as one string. */
  render(): string;
}

/** What a running collector holds: its listeners and the state its self-metrics read. */
interface Live {
  udp: UdpListener | null;
  tcp: TcpListener | null;
  http: HttpListener | null;
  otlp: HttpListener | null;
  ticker: NodeJS.Timeout | null;
  lag: IntervalHistogram | null;
  lagLastWindowNs: number;
  lastFlushSeconds: number;
  /** Datagrams read from the UDP socket (the OTLP slices drain its backlog first). */
  udpRead: number;
}

/** The collector's parts: the validated config, the pure core, the edges' counters, the live state. */
interface Parts {
  config: CollectorConfig;
  clock: Clock;
  log: Logger;
  deps: CollectorDeps;
  ingest: Ingest;
  otlp: OtlpIngest;
  otlpHttpStats: OtlpHttpStats;
  httpStats: HttpStats;
  /** Datagrams per 100 ms for the last 2 minutes: exact burst peaks for the lab (GET /debug/arrivals). */
  arrivals: ArrivalBins;
  live: Live;
  agent: Agent | null;
}

function buildParts(config: CollectorConfig, deps: CollectorDeps): Parts {
  const ingest = new Ingest({
    maxSeries: config.maxSeries,
    buckets: config.buckets,
    strictNames: config.strictNames,
    sourceTag: config.sourceTag,
    maxSetSize: config.maxSetSize,
    reservedNames: RESERVED_NAMES,
    maxLineSize: config.maxLineSize,
    maxPacketSize: config.maxPacketSize,
    maxLabelValueLength: config.maxLabelValueLength,
    maxSeriesBytes: config.maxSeriesBytes,
  });
  const otlp = new OtlpIngest(
    ingest.store,
    {
      resourceLabels: config.otlpResourceLabels,
      maxNameLength: config.otlpMaxNameLength,
      maxBounds: config.otlpMaxBounds,
      maxLabelsLength: config.maxLineSize,
      maxFutureSkewMs: config.otlpMaxFutureSkew,
    },
    TAG_REASON_COUNT,
  );
  const clock = deps.clock ?? systemClock;
  const log = deps.logger ?? jsonLogger('collector');
  return {
    config,
    clock,
    log,
    agent: config.mode === 'agent' ? createAgent(ingest.store, config, { clock, log }) : null,
    deps,
    ingest,
    otlp,
    otlpHttpStats: new OtlpHttpStats(),
    httpStats: new HttpStats(),
    arrivals: new ArrivalBins(100, 1200),
    live: {
      udp: null,
      tcp: null,
      http: null,
      otlp: null,
      ticker: null,
      lag: null,
      lagLastWindowNs: 0,
      lastFlushSeconds: 0,
      udpRead: 0,
    },
  };
}

/**
 * Binary requests stream (checked whole, then applied metric by metric); OTLP/JSON is parsed whole
 * (JSON.parse has no slices), checked strictly, then applied in slices.
 */
function* otlpSteps(
  p: Parts,
  body: Buffer,
  enc: Encoding,
  nowMs: number,
): Generator<void, ApplyResult, undefined> {
  if (enc === 'protobuf') return yield* p.otlp.applyProtobufSteps(body, p.config.otlpMaxPoints, nowMs);
  const req = yield* decodeSteps(body, enc, p.config.otlpMaxPoints);
  return yield* p.otlp.applySteps(req, nowMs);
}

function selfValues(p: Parts): SelfValues {
  const { live, config } = p;
  return {
    nowMs: p.clock.now(),
    sourceActiveWindowMs: config.sourceActiveWindow,
    rcvbufGranted: live.udp?.rcvbufGranted ?? null,
    lastFlushSeconds: live.lastFlushSeconds,
    eventLoopLagSeconds: Math.max(live.lagLastWindowNs, live.lag?.max ?? 0) / 1e9,
    kernel: readUdpKernelCounters(p.deps.procNetSnmp),
    socketDrops: live.udp === null ? null : readUdpSocketDrops(live.udp.port, live.udp.ipv6, p.deps.procNet),
    tcpConnections: live.tcp?.connections() ?? 0,
    tcpOpen: live.tcp?.open() ?? 0,
    tcpRefused: live.tcp?.refused() ?? 0,
    tcpIdleClosed: live.tcp?.idleClosed() ?? 0,
    http: live.http === null ? null : p.httpStats,
    otlp:
      config.otlpHttp === 'off'
        ? null
        : {
            points: p.otlp.stats,
            requests: p.otlpHttpStats.requests,
            bytes: p.otlpHttpStats.bytes,
            latency: p.otlpHttpStats.latency,
            inflightBytes: p.otlpHttpStats.inflightBytes,
          },
    agent: p.agent?.render() ?? null,
  };
}

function renderAll(p: Parts): string {
  const t0 = process.hrtime.bigint();
  let out = '';
  for (const chunk of exposition(p.ingest.store, p.ingest.stats, () => selfValues(p))) out += chunk;
  p.live.lastFlushSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return out;
}

/** One counter per StatsD transport, by name. */
const perTransport = (a: Float64Array): Record<Transport, number> =>
  Object.fromEntries(TRANSPORT_NAMES.map((t, i) => [t, a[i]!])) as Record<Transport, number>;

function summaryOf(ingest: Ingest): CollectorSummary {
  const st = ingest.stats;
  const parseErrors: Record<string, number> = {};
  st.parseErrors.forEach((n, r) => {
    if (r > 0 && n > 0) parseErrors[reasonName(r)] = n;
  });
  return {
    packets: perTransport(st.packets),
    lines: perTransport(st.lines),
    linesAccepted: st.linesAccepted,
    parseErrors,
    seriesRejected: st.seriesRejected,
    series: ingest.store.seriesCount,
  };
}

/** The StatsD listeners: UDP always, TCP unless off. */
async function startStatsd(p: Parts): Promise<void> {
  const { config, ingest, clock, live } = p;
  live.udp = await startUdp(
    parseHostPort(config.statsdUdp),
    'statsd-udp',
    config.rcvbuf,
    (msg) => {
      const now = clock.now();
      live.udpRead++;
      p.arrivals.record(1, now);
      ingest.datagram(msg, now);
    },
    p.log,
  );
  if (config.statsdTcp === 'off') return;
  live.tcp = await startTcp(
    parseHostPort(config.statsdTcp),
    'statsd-tcp',
    {
      maxLineSize: config.maxLineSize,
      maxConnections: config.maxTcpConnections,
      idleTimeoutMs: config.tcpIdleTimeout,
    },
    {
      onChunk: (n) => ingest.streamChunk(n),
      onLines: (buf, s, e) => ingest.lines(buf, s, e, TR_TCP, clock.now()),
      onOverlong: () => ingest.overlongStreamLine(TR_TCP, R_LINE_TOO_LONG),
      onTruncated: () => ingest.overlongStreamLine(TR_TCP, R_TRUNCATED),
    },
  );
}

/** The HTTP listeners: --http always, the OTLP receiver unless off. */
async function startHttpListeners(p: Parts): Promise<void> {
  const { config, ingest, clock, live } = p;
  live.http = await startHttp(
    parseHostPort(config.http),
    'http',
    {
      timeoutMs: config.httpTimeout,
      maxRenders: config.httpMaxRenders,
      maxConnections: config.httpMaxConnections,
    },
    {
      chunks: () => exposition(ingest.store, ingest.stats, () => selfValues(p)),
      rendered: (s) => {
        live.lastFlushSeconds = s;
      },
      self: () => selfExposition(ingest.store, ingest.stats, selfValues(p)),
    },
    {
      '/debug/arrivals': () => p.arrivals.snapshot(clock.now()),
      // The configuration in force, as resolved: the lab checks it against what it asked for.
      '/debug/config': () => config,
    },
    p.httpStats,
  );
  if (config.otlpHttp === 'off') return;
  live.otlp = await startOtlpHttp(
    parseHostPort(config.otlpHttp),
    'otlp-http',
    {
      maxRequestSize: config.otlpMaxRequestSize,
      maxInflightBytes: config.otlpMaxInflightBytes,
      timeoutMs: config.httpTimeout,
      maxConnections: config.httpMaxConnections,
      maxPoints: config.otlpMaxPoints,
      bodyTimeoutMs: config.otlpBodyTimeout,
      sliceMs: OTLP_SLICE_MS,
      backlog: { read: () => live.udpRead, batch: UV_UDP_BATCH, maxTurns: OTLP_DRAIN_TURNS },
    },
    (body, enc) => otlpSteps(p, body, enc, clock.now()),
    p.otlpHttpStats,
    p.httpStats,
  );
}

async function closeAll(live: Live): Promise<void> {
  await Promise.all([live.udp?.close(), live.tcp?.close(), live.otlp?.close()]);
  if (live.ticker !== null) clearInterval(live.ticker);
  live.ticker = null;
  await live.http?.close();
  live.lag?.disable();
}

async function startCollector(p: Parts): Promise<CollectorAddresses> {
  const { live } = p;
  try {
    await startStatsd(p);
    await startHttpListeners(p);
  } catch (e) {
    await closeAll(live);
    throw e;
  }
  const lag = monitorEventLoopDelay({ resolution: 10 });
  live.lag = lag;
  lag.enable();
  // Set window, source expiry, event-loop-lag window.
  live.ticker = setInterval(() => {
    p.ingest.store.tick(p.clock.now(), p.config.sourceTtl);
    live.lagLastWindowNs = lag.max;
    lag.reset();
  }, p.config.flushInterval);
  live.ticker.unref();
  p.agent?.start();
  const udp = live.udp!;
  return {
    udp: udp.address,
    tcp: live.tcp?.address ?? null,
    http: live.http!.address,
    otlp: live.otlp?.address ?? null,
    rcvbufRequested: udp.rcvbufRequested,
    rcvbufGranted: udp.rcvbufGranted,
    rcvbufKernel: udp.rcvbufKernel,
  };
}

async function stopCollector(p: Parts): Promise<void> {
  const { live } = p;
  // 1. stop receiving (TCP connections hand over their partial last line first; OTLP requests in
  //    progress finish, new ones get 503)
  await Promise.all([live.udp?.close(), live.tcp?.close(), live.otlp?.close()]);
  // agent mode: a last flush, forwarded within a few seconds
  await p.agent?.stop();
  // 2. flush: one last render, so the final counts and the flush duration are known
  renderAll(p);
  const s = summaryOf(p.ingest);
  await closeAll(live);
  p.log.info('stopped', { ...s, flushSeconds: live.lastFlushSeconds });
}

export function createCollector(input: CollectorConfigInput = {}, deps: CollectorDeps = {}): Collector {
  const p = buildParts(resolveConfig(input), deps);
  let started = false;
  let stopping: Promise<void> | null = null;
  return {
    config: p.config,
    ingest: p.ingest,
    otlp: p.otlp,
    agent: p.agent,
    render: () => renderAll(p),
    summary: () => summaryOf(p.ingest),
    start() {
      if (started) return Promise.reject(new Error('collector already started'));
      started = true;
      return startCollector(p);
    },
    stop() {
      stopping ??= stopCollector(p);
      return stopping;
    },
  };
}

function reasonName(code: number): string {
  return DROP_REASONS[code] ?? String(code);
}
