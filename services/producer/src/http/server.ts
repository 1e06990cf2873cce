import { type Clock, LabError, type Logger } from '@pushpull/common';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ProducerCore } from '../core.ts';
import type { PodRegistry } from '../pull/pod-registry.ts';
import type { SelfMetrics } from '../self-metrics.ts';
import { parsePushRequest, parseScheduleRequest } from './control.ts';
import { errorBody, toHttpError } from './errors.ts';
import { AJV_OPTIONS, PUSH_BODY, QUIESCE_BODY, SCHEDULE_BODY } from './schemas.ts';

// The producer's HTTP server, built and not listening (producer.ts listens): GET /pods/<id>/metrics (pull),
// GET /metrics (the process), GET /healthz and the control API under /control (docs/contracts.md). Routes,
// status codes and bodies are the contract the lab uses; every error is the contract's JSON error body.

export interface HttpLimits {
  /** Largest control body, bytes; larger is a 413. */
  bodyLimit: number;
  /** Open connections at once (server.maxConnections); past it new connections are closed. */
  maxConnections: number;
  /** A request must arrive whole (headers and body) within this, ms. */
  requestTimeoutMs: number;
  /** Headers must arrive within this, ms (slowloris). */
  headersTimeoutMs: number;
  /** A socket with no traffic either way this long is destroyed, e.g. a reader that stopped reading, ms. */
  connectionTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, ms. */
  keepAliveTimeoutMs: number;
  /**
   * How often node checks the request and headers timeouts, ms. Node's default (30 s) would let a
   * slow-headers client hold a connection for up to 40 s instead of 10.
   */
  checkIntervalMs: number;
}

export const DEFAULT_HTTP_LIMITS: Readonly<Omit<HttpLimits, 'maxConnections'>> = Object.freeze({
  bodyLimit: 1 << 20,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  connectionTimeoutMs: 30_000,
  // Node's own default, kept from the hand-written server: what Prometheus' connection reuse looks like
  // (a 15 s scrape interval reconnects) is part of what the lab measures, so the move must not change it.
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
});

/** Bodies from this size on are replied as a Buffer, smaller ones as the string (see servePod). */
const BUFFER_FROM_CHARS = 64 * 1024;

const CONTROL_ROUTES = ['state', 'ledger', 'schedule', 'push', 'quiesce'] as const;

export interface ServerDeps {
  core: ProducerCore;
  self: SelfMetrics;
  clock: Clock;
  logger: Logger;
  limits: HttpLimits;
}

function sendError(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return sendJson(reply, status, body);
}

/** JSON with a trailing newline and no caching, byte for byte what the hand-written server sent. */
function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(`${JSON.stringify(body)}\n`);
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function createApp(limits: HttpLimits): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: limits.bodyLimit,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: limits.checkIntervalMs },
    // stop() must not wait for Prometheus' keep-alive connections (the hand-written server closed them all).
    forceCloseConnections: true,
    ajv: { customOptions: AJV_OPTIONS },
  });
  app.server.maxConnections = limits.maxConnections;

  return app;
}

/** Request bodies and errors: every answer the same shape, whatever failed. */
function handleBodiesAndErrors(app: FastifyInstance, limits: HttpLimits, logger: Logger): void {
  // One parser for every content type: the control API always took a JSON body whatever the client declared
  // (curl -d sends application/x-www-form-urlencoded). An empty body is "no body": each route's schema says
  // whether that is allowed. JSON.parse rather than fastify's default parser to keep the parser's message
  // ("not JSON: Unexpected token ... at position 1"); prototype poisoning needs no guard here because no
  // body is ever merged into an object, and the schemas reject unknown keys such as __proto__.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, text, done) => {
    const s = text as string;
    if (s.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(s));
    } catch (e) {
      done(
        new LabError('LAB_ERR_CONTROL', `body: not JSON: ${(e as Error).message}`, {
          field: 'body',
          status: 400,
        }),
        undefined,
      );
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toHttpError(err, limits.bodyLimit);
    if (status >= 500) logger.error('request failed', { url: req.url, error: (err as Error).message });
    return sendError(reply, status, body);
  });

  app.setNotFoundHandler((req, reply) => {
    const path = pathOf(req.url);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendError(reply, 405, errorBody(`${req.method} ${path} is not allowed`));
    return sendError(reply, 404, errorBody(`no route ${path}`));
  });
}

/** The pull path: one route per virtual pod (and the process's own metrics and health). */
function pullRoutes(app: FastifyInstance, { core, self }: ServerDeps): void {
  async function servePod(reg: PodRegistry, reply: FastifyReply): Promise<FastifyReply> {
    const t0 = process.hrtime.bigint();
    const text = await reg.render();
    self.scrapeDuration.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    // One write for the whole body. Measured (bench/reply.bench.ts): for the 240 KB peak body a string reply
    // took ~5x longer than a Buffer (node first concatenates a string body onto the header string), a
    // stream of 64 KB chunks about as long as the Buffer; for the 18 KB body the string is cheapest, the
    // copy into a Buffer costing more than it saves. Node holds what the socket does not take at once, so
    // a slow reader costs one body per connection (connections bounded by maxConnections), nothing more.
    if (text.length < BUFFER_FROM_CHARS) {
      self.scrapeBytes.observe(Buffer.byteLength(text));
      return reply.code(200).type(reg.contentType).send(text);
    }
    const body = Buffer.from(text);
    self.scrapeBytes.observe(body.length);
    return reply.code(200).type(reg.contentType).send(body);
  }

  app.get<{ Params: { id: string } }>('/pods/:id/metrics', (req, reply) => {
    const reg = core.pod(req.params.id);
    if (reg) return servePod(reg, reply);
    return sendError(reply, 404, errorBody(`no pod "${req.params.id}" here`, 'pod'));
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await self.registry.metrics();
    return reply.type(self.registry.contentType).send(text);
  });

  app.get('/healthz', (_req, reply) => reply.type('text/plain').send('ok\n'));
}

/** The control API in its own context, so its hook runs for control requests only, not for every scrape. */
function controlRoutes(app: FastifyInstance, { core, self, clock, logger }: ServerDeps): void {
  app.register(
    async (control) => {
      // Every answer counted by route and status, errors and 404/405 included.
      control.addHook('onResponse', (req, reply, done) => {
        const route = pathOf(req.url).slice('/control/'.length);
        const known = (CONTROL_ROUTES as readonly string[]).includes(route);
        self.controlRequests.inc({ route: known ? route : 'other', code: String(reply.statusCode) });
        done();
      });
      control.setNotFoundHandler((req, reply) => {
        const route = pathOf(req.url).slice('/control/'.length);
        if ((CONTROL_ROUTES as readonly string[]).includes(route))
          return sendError(reply, 405, errorBody(`${req.method} /control/${route} is not allowed`));
        return sendError(reply, 404, errorBody(`no control route /control/${route}`));
      });
      control.get('/state', (_req, reply) => sendJson(reply, 200, core.state()));
      control.get('/ledger', (_req, reply) => sendJson(reply, 200, core.ledger()));
      control.post('/schedule', { schema: { body: SCHEDULE_BODY } }, (req: FastifyRequest, reply) => {
        const r = parseScheduleRequest(req.body, clock.now());
        core.schedule(r.startAtMs, r.profile);
        logger.info('scheduled', { startAtMs: r.startAtMs, profile: core.model.profile.name });
        return sendJson(reply, 200, core.state());
      });
      control.post('/push', { schema: { body: PUSH_BODY } }, async (req: FastifyRequest, reply) => {
        await core.setPush(parsePushRequest(req.body ?? {}));
        return sendJson(reply, 200, core.state());
      });
      control.post('/quiesce', { schema: { body: QUIESCE_BODY } }, async (_req, reply) =>
        sendJson(reply, 200, await core.quiesce()),
      );
    },
    { prefix: '/control' },
  );
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = createApp(deps.limits);
  handleBodiesAndErrors(app, deps.limits, deps.logger);
  pullRoutes(app, deps);
  controlRoutes(app, deps);
  return app;
}
