import type { AddressInfo } from 'node:net';
import { type Clock, formatHostPort, type Logger, silentLogger, systemClock } from '@pushpull/common';
import type { FastifyInstance } from 'fastify';
import { type ProducerConfig, type ResolvedConfig, resolveConfig } from './config.ts';
import { type ControlState, ProducerCore } from './core.ts';
import { buildServer, DEFAULT_HTTP_LIMITS } from './http/server.ts';
import type { Ledger } from './ledger.ts';
import { defaultAdvertise, removeSdFile, sdEntries, writeSdFile } from './sd.ts';
import { SelfMetrics } from './self-metrics.ts';

// createProducer(config) builds everything, the HTTP server (http/server.ts) included, and returns an object;
// start() listens, stop() undoes it all.

export interface ProducerDeps {
  clock?: Clock;
  logger?: Logger;
  /** Run the tick loop on a timer (default). Tests with a ManualClock set false and call tick(). */
  autoTick?: boolean;
  /** TEST ONLY: the skew `clock` carries, reported in GET /control/state (main.ts: PUSHPULL_TEST_CLOCK_SKEW_MS). */
  testClockSkewMs?: number;
}

export interface Producer {
  start(): Promise<{ http: string }>;
  stop(): Promise<void>;
  readonly config: ResolvedConfig;
  readonly core: ProducerCore;
  /** Advances the workload to clock.now() (what the timer does every tickMs). */
  tick(): void;
  state(): ControlState;
  ledger(): Ledger;
  /** The sd file written at start, if --sd-dir was given. */
  readonly sdFile: string | null;
}

export function createProducer(config: Partial<ProducerConfig> = {}, deps: ProducerDeps = {}): Producer {
  const cfg = resolveConfig(config);
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const core = new ProducerCore(cfg, clock, logger);
  core.testClockSkewMs = deps.testClockSkewMs ?? 0;
  const self = new SelfMetrics({ pods: cfg.pods, name: cfg.name, processMetrics: cfg.processMetrics });
  // Built here, listening only in start(): routes and limits exist (and fail) before any socket is bound.
  const app: FastifyInstance = buildServer({
    core,
    self,
    clock,
    logger,
    limits: { ...DEFAULT_HTTP_LIMITS, maxConnections: cfg.maxConnections },
  });
  let started = false;
  let timer: NodeJS.Timeout | null = null;
  let sdFile: string | null = null;
  let stopping: Promise<void> | null = null;
  let lastTickAt = 0;

  const tick = (): void => {
    const now = clock.now();
    if (lastTickAt > 0) self.tickLag.set(Math.max(0, now - lastTickAt - cfg.tickMs) / 1000);
    lastTickAt = now;
    const t = core.tick();
    self.tickDuration.observe(t.durationNs / 1e9);
    self.backlog.set(t.backlog);
  };

  async function start(): Promise<{ http: string }> {
    if (started) throw new Error('producer already started');
    started = true;
    await app.listen({ port: cfg.http.port, host: cfg.http.host });
    const addr = app.server.address() as AddressInfo;
    const bound = formatHostPort({ host: addr.address, port: addr.port });
    await core.open();
    if (deps.autoTick !== false) {
      timer = setInterval(tick, cfg.tickMs);
    }
    if (cfg.sdDir !== null) {
      const advertise = cfg.advertise ?? defaultAdvertise(cfg.http.host, addr.port);
      sdFile = await writeSdFile(cfg.sdDir, cfg.name, sdEntries(advertise, cfg.name, core.podIds));
      logger.info('sd file written', { file: sdFile, advertise });
    }
    return { http: bound };
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      if (timer) clearInterval(timer);
      timer = null;
      await core.close();
      if (cfg.sdDir !== null && sdFile !== null) await removeSdFile(cfg.sdDir, cfg.name);
      await app.close();
    })();
    return stopping;
  }

  return {
    start,
    stop,
    config: cfg,
    core,
    tick,
    state: () => core.state(),
    ledger: () => core.ledger(),
    get sdFile() {
      return sdFile;
    },
  };
}
