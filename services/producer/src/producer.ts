import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Clock,
  formatHostPort,
  isLabError,
  LabError,
  type Logger,
  silentLogger,
  systemClock,
} from '@pushpull/common';
import { type ProducerConfig, type ResolvedConfig, resolveConfig } from './config.ts';
import { type ControlState, ProducerCore } from './core.ts';
import { parsePushRequest, parseScheduleRequest } from './http/control.ts';
import type { Ledger } from './ledger.ts';
import type { PodRegistry } from './pull/pod-registry.ts';
import { defaultAdvertise, removeSdFile, sdEntries, writeSdFile } from './sd.ts';
import { SelfMetrics } from './self-metrics.ts';

// createProducer(config) builds everything and returns an object; start() listens, stop() undoes it all.
// Routes: GET /pods/<id>/metrics (pull, one registry per pod), GET /metrics (the process), GET /healthz,
// and the control API under /control (docs/contracts.md).

export interface ProducerDeps {
  clock?: Clock;
  logger?: Logger;
  /** Run the tick loop on a timer (default). Tests with a ManualClock set false and call tick(). */
  autoTick?: boolean;
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

const MAX_BODY_BYTES = 1 << 20;

interface ErrorBody {
  error: { code: string; message: string; field: string | null };
}

function errorBody(code: string, message: string, field: string | null = null): ErrorBody {
  return { error: { code, message, field } };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooBig)
        reject(
          new LabError('LAB_ERR_CONTROL', `body: larger than ${MAX_BODY_BYTES} bytes`, {
            field: 'body',
            status: 413,
          }),
        );
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function parseJson(text: string, emptyAs: unknown): unknown {
  if (text.trim() === '') return emptyAs;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new LabError('LAB_ERR_CONTROL', `body: not JSON: ${(e as Error).message}`, {
      field: 'body',
      status: 400,
    });
  }
}

export function createProducer(config: Partial<ProducerConfig> = {}, deps: ProducerDeps = {}): Producer {
  const cfg = resolveConfig(config);
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const core = new ProducerCore(cfg, clock, logger);
  const self = new SelfMetrics({ pods: cfg.pods, name: cfg.name, processMetrics: cfg.processMetrics });
  let server: http.Server | null = null;
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

  async function control(
    route: string,
    method: string,
    req: http.IncomingMessage,
  ): Promise<[number, unknown]> {
    if (route === 'state' && method === 'GET') return [200, core.state()];
    if (route === 'ledger' && method === 'GET') return [200, core.ledger()];
    if (route === 'schedule' && method === 'POST') {
      const body = parseJson(await readBody(req), undefined);
      const r = parseScheduleRequest(body, clock.now());
      core.schedule(r.startAtMs, r.profile);
      logger.info('scheduled', { startAtMs: r.startAtMs, profile: core.model.profile.name });
      return [200, core.state()];
    }
    if (route === 'push' && method === 'POST') {
      const change = parsePushRequest(parseJson(await readBody(req), {}));
      await core.setPush(change);
      return [200, core.state()];
    }
    if (route === 'quiesce' && method === 'POST') {
      await readBody(req);
      return [200, await core.quiesce()];
    }
    if (['state', 'ledger', 'schedule', 'push', 'quiesce'].includes(route))
      return [405, errorBody('LAB_ERR_CONTROL', `${method} /control/${route} is not allowed`)];
    return [404, errorBody('LAB_ERR_CONTROL', `no control route /control/${route}`)];
  }

  /** The hot route first: one Map lookup per scrape. */
  const podRoutes = new Map(core.podIds.map((id) => [`/pods/${id}/metrics`, core.pod(id)!]));

  async function servePod(reg: PodRegistry, head: boolean, res: http.ServerResponse): Promise<void> {
    const t0 = process.hrtime.bigint();
    const text = await reg.render();
    self.scrapeDuration.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    const bytes = Buffer.byteLength(text);
    self.scrapeBytes.observe(bytes);
    res.writeHead(200, { 'content-type': reg.contentType, 'content-length': bytes });
    res.end(head ? undefined : text);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const pod = podRoutes.get(path);
    if (pod !== undefined && (method === 'GET' || method === 'HEAD'))
      return servePod(pod, method === 'HEAD', res);
    if (path.startsWith('/control/')) {
      const route = path.slice('/control/'.length);
      let status: number;
      let body: unknown;
      try {
        [status, body] = await control(route, method, req);
      } catch (e) {
        if (isLabError(e)) {
          const d = e.details ?? {};
          status = typeof d.status === 'number' ? d.status : 400;
          body = errorBody(e.code, e.message, typeof d.field === 'string' ? d.field : null);
        } else {
          const st = (e as { status?: number }).status;
          status = typeof st === 'number' ? st : 500;
          body = errorBody('LAB_ERR_CONTROL', (e as Error).message, null);
          if (status === 500) logger.error('control request failed', { route, error: (e as Error).message });
        }
      }
      const known = ['state', 'ledger', 'schedule', 'push', 'quiesce'].includes(route);
      self.controlRequests.inc({ route: known ? route : 'other', code: String(status) });
      sendJson(res, status, body);
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      sendJson(res, 405, errorBody('LAB_ERR_CONTROL', `${method} ${path} is not allowed`));
      return;
    }
    const m = /^\/pods\/([^/]+)\/metrics$/.exec(path);
    if (m) {
      const reg = core.pod(decodeURIComponent(m[1]!));
      if (reg) return servePod(reg, method === 'HEAD', res);
      sendJson(res, 404, errorBody('LAB_ERR_CONTROL', `no pod "${m[1]}" here`, 'pod'));
      return;
    }
    if (path === '/metrics') {
      const text = await self.registry.metrics();
      res.writeHead(200, { 'content-type': self.registry.contentType });
      res.end(text);
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    sendJson(res, 404, errorBody('LAB_ERR_CONTROL', `no route ${path}`));
  }

  async function start(): Promise<{ http: string }> {
    if (server) throw new Error('producer already started');
    const srv = http.createServer((req, res) => {
      handle(req, res).catch((e) => {
        logger.error('request failed', { url: req.url, error: (e as Error).message });
        if (!res.headersSent) sendJson(res, 500, errorBody('LAB_ERR_CONTROL', (e as Error).message));
        else res.destroy();
      });
    });
    srv.requestTimeout = 30_000;
    srv.headersTimeout = 10_000;
    server = srv;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(cfg.http.port, cfg.http.host, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    const addr = srv.address() as AddressInfo;
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
      const srv = server;
      if (srv) {
        await new Promise<void>((resolve) => {
          srv.close(() => resolve());
          srv.closeAllConnections();
        });
      }
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
