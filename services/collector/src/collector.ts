import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { type Clock, jsonLogger, type Logger, parseHostPort, systemClock } from '@pushpull/common';
import { Ingest } from './aggregate/ingest.ts';
import { type ApplyResult, OtlpIngest } from './aggregate/otlp.ts';
import { type CollectorConfig, type CollectorConfigInput, resolveConfig } from './config.ts';
import { ArrivalBins } from './expose/arrivals.ts';
import { readUdpKernelCounters, readUdpSocketDrops } from './expose/kernel.ts';
import { exposition, RESERVED_NAMES, type SelfValues, selfExposition } from './expose/render.ts';
import { DROP_REASONS, R_LINE_TOO_LONG, R_TRUNCATED, TAG_REASON_COUNT, TR_TCP } from './parse/codes.ts';
import { decodeSteps, type Encoding } from './parse/otlp.ts';
import { type HttpListener, HttpStats, startHttp } from './transport/http.ts';
import { OtlpHttpStats, startOtlpHttp } from './transport/otlp-http.ts';
import { startTcp, type TcpListener } from './transport/tcp.ts';
import { startUdp, type UdpListener } from './transport/udp.ts';

/** Longest stretch of OTLP decode/apply work before the event loop gets a turn (README: Responsiveness). */
const OTLP_SLICE_MS = 2;

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
  packets: { udp: number; tcp: number };
  lines: { udp: number; tcp: number };
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
  start(): Promise<CollectorAddresses>;
  /** Stops receiving, flushes partial TCP lines, renders once more, logs a summary, closes. Idempotent. */
  stop(): Promise<void>;
  /** Totals so far (also logged as the "stopped" line). */
  summary(): CollectorSummary;
  /** The whole exposition as one string. */
  render(): string;
}

export function createCollector(input: CollectorConfigInput = {}, deps: CollectorDeps = {}): Collector {
  const config = resolveConfig(input);
  const clock = deps.clock ?? systemClock;
  const log = deps.logger ?? jsonLogger('collector');
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
  const otlpHttpStats = new OtlpHttpStats();
  // Binary requests stream (checked whole, then applied metric by metric); OTLP/JSON is parsed whole
  // (JSON.parse has no slices), checked strictly, then applied in slices.
  function* otlpSteps(body: Buffer, enc: Encoding, nowMs: number): Generator<void, ApplyResult, undefined> {
    if (enc === 'protobuf') return yield* otlp.applyProtobufSteps(body, config.otlpMaxPoints, nowMs);
    const req = yield* decodeSteps(body, enc, config.otlpMaxPoints);
    return yield* otlp.applySteps(req, nowMs);
  }

  // Datagrams per 100 ms for the last 2 minutes: exact burst peaks for the lab (GET /debug/arrivals).
  const arrivals = new ArrivalBins(100, 1200);
  let udp: UdpListener | null = null;
  let tcp: TcpListener | null = null;
  let httpL: HttpListener | null = null;
  let otlpL: HttpListener | null = null;
  const httpStats = new HttpStats();
  let ticker: NodeJS.Timeout | null = null;
  let lag: IntervalHistogram | null = null;
  let lagLastWindowNs = 0;
  let lastFlushSeconds = 0;
  let started = false;
  let stopping: Promise<void> | null = null;

  const selfValues = (): SelfValues => ({
    nowMs: clock.now(),
    sourceActiveWindowMs: config.sourceActiveWindow,
    rcvbufGranted: udp?.rcvbufGranted ?? null,
    lastFlushSeconds,
    eventLoopLagSeconds: Math.max(lagLastWindowNs, lag?.max ?? 0) / 1e9,
    kernel: readUdpKernelCounters(deps.procNetSnmp),
    socketDrops: udp === null ? null : readUdpSocketDrops(udp.port, udp.ipv6, deps.procNet),
    tcpConnections: tcp?.connections() ?? 0,
    tcpOpen: tcp?.open() ?? 0,
    tcpRefused: tcp?.refused() ?? 0,
    tcpIdleClosed: tcp?.idleClosed() ?? 0,
    http: httpL === null ? null : httpStats,
    otlp:
      config.otlpHttp === 'off'
        ? null
        : {
            points: otlp.stats,
            requests: otlpHttpStats.requests,
            bytes: otlpHttpStats.bytes,
            latency: otlpHttpStats.latency,
            inflightBytes: otlpHttpStats.inflightBytes,
          },
  });

  const render = (): string => {
    const t0 = process.hrtime.bigint();
    let out = '';
    for (const chunk of exposition(ingest.store, ingest.stats, selfValues)) out += chunk;
    lastFlushSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return out;
  };

  const tick = (): void => {
    ingest.store.tick(clock.now(), config.sourceTtl);
    if (lag !== null) {
      lagLastWindowNs = lag.max;
      lag.reset();
    }
  };

  const summary = (): CollectorSummary => {
    const st = ingest.stats;
    const parseErrors: Record<string, number> = {};
    st.parseErrors.forEach((n, r) => {
      if (r > 0 && n > 0) parseErrors[reasonName(r)] = n;
    });
    return {
      packets: { udp: st.packets[0]!, tcp: st.packets[1]! },
      lines: { udp: st.lines[0]!, tcp: st.lines[1]! },
      linesAccepted: st.linesAccepted,
      parseErrors,
      seriesRejected: st.seriesRejected,
      series: ingest.store.seriesCount,
    };
  };

  async function closeAll(): Promise<void> {
    await Promise.all([udp?.close(), tcp?.close(), otlpL?.close()]);
    if (ticker !== null) clearInterval(ticker);
    ticker = null;
    await httpL?.close();
    lag?.disable();
  }

  return {
    config,
    ingest,
    otlp,
    render,
    summary,
    async start() {
      if (started) throw new Error('collector already started');
      started = true;
      try {
        udp = await startUdp(
          parseHostPort(config.statsdUdp),
          'statsd-udp',
          config.rcvbuf,
          (msg) => {
            const now = clock.now();
            arrivals.record(1, now);
            ingest.datagram(msg, now);
          },
          log,
        );
        if (config.statsdTcp !== 'off') {
          tcp = await startTcp(
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
        httpL = await startHttp(
          parseHostPort(config.http),
          'http',
          {
            timeoutMs: config.httpTimeout,
            maxRenders: config.httpMaxRenders,
            maxConnections: config.httpMaxConnections,
          },
          {
            chunks: () => exposition(ingest.store, ingest.stats, selfValues),
            rendered: (s) => {
              lastFlushSeconds = s;
            },
            self: () => selfExposition(ingest.store, ingest.stats, selfValues()),
          },
          {
            '/debug/arrivals': () => arrivals.snapshot(clock.now()),
            // The configuration in force, as resolved: the lab checks it against what it asked for.
            '/debug/config': () => config,
          },
          httpStats,
        );
        if (config.otlpHttp !== 'off') {
          otlpL = await startOtlpHttp(
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
            },
            (body, enc) => otlpSteps(body, enc, clock.now()),
            otlpHttpStats,
            httpStats,
          );
        }
      } catch (e) {
        await closeAll();
        throw e;
      }
      lag = monitorEventLoopDelay({ resolution: 10 });
      lag.enable();
      ticker = setInterval(tick, config.flushInterval);
      ticker.unref();
      return {
        udp: udp.address,
        tcp: tcp?.address ?? null,
        http: httpL.address,
        otlp: otlpL?.address ?? null,
        rcvbufRequested: udp.rcvbufRequested,
        rcvbufGranted: udp.rcvbufGranted,
        rcvbufKernel: udp.rcvbufKernel,
      };
    },
    stop() {
      if (stopping !== null) return stopping;
      stopping = (async () => {
        // 1. stop receiving (TCP connections hand over their partial last line first; OTLP requests in
        //    progress finish, new ones get 503)
        await Promise.all([udp?.close(), tcp?.close(), otlpL?.close()]);
        // 2. flush: one last render, so the final counts and the flush duration are known
        render();
        const s = summary();
        await closeAll();
        log.info('stopped', { ...s, flushSeconds: lastFlushSeconds });
      })();
      return stopping;
    },
  };
}

function reasonName(code: number): string {
  return DROP_REASONS[code] ?? String(code);
}
