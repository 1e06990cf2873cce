import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { formatHostPort, type HostPort, LabError } from '@pushpull/common';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';

// HTTP edge (fastify): GET /metrics streams the exposition chunk by chunk with back-pressure — the next
// chunk is rendered only when the client has taken the previous one, so a client that does not read costs
// one chunk, not the whole body (once: 5 such clients held 1.2 GB for an 87 MB body). Rendering yields to
// the event loop between chunks, so UDP keeps being read while a large exposition renders. Concurrent
// renders are bounded (--http-max-renders), a connection without progress is closed after --http-timeout,
// connections are capped (--http-max-connections); every refusal and timeout is counted.
// GET /metrics/self: the collector's own self-metrics only (cheap: no sender series), for frequent probes.

/**
 * The fastify instance every collector HTTP endpoint starts from: its body limit, a slow client bounded by
 * the timeout, keep-alive longer than a scraper's, and connections closed (503 while closing) on shutdown.
 */
export function collectorFastify(bodyLimit: number, timeoutMs: number): FastifyInstance {
  return Fastify({
    logger: false,
    bodyLimit,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    keepAliveTimeout: 65_000,
    forceCloseConnections: true,
    exposeHeadRoutes: false,
    return503OnClosing: true,
  });
}

export interface HttpListener {
  address: string;
  close(): Promise<void>;
}

export interface MetricsSource {
  /** Chunks of the exposition; the caller measures the time spent inside next(). */
  chunks(): Iterator<string, void, undefined>;
  /** Reports how long the synchronous parts of one render took. */
  rendered(busySeconds: number): void;
  /** The self-metrics block alone. */
  self(): string;
}

export interface HttpLimits {
  /** Milliseconds without progress (request or response bytes) after which a connection is closed. */
  timeoutMs: number;
  /** /metrics renders at once; more answer 503. */
  maxRenders: number;
  /** Open HTTP connections; more are closed on arrival. */
  maxConnections: number;
}

/** What the HTTP edge refused or cut, for the self-metrics. */
export class HttpStats {
  /** /metrics requests answered 503 because --http-max-renders renders were running. */
  refusedBusy = 0;
  /** Connections closed on arrival because --http-max-connections were open. */
  refusedConnections = 0;
  /** Connections closed by --http-timeout while a response was in flight. */
  timeouts = 0;
  /** Requests Node's parser refused (400: bad framing, e.g. `Content-Length: -1`), both listeners. */
  refusedBadRequest = 0;
  /** Request bodies that did not arrive in time (408: --otlp-body-timeout, or Node's request timeout). */
  refusedBodyTimeout = 0;
}

/**
 * Counts what a listener refuses before any route sees it: connections over the cap (closed on arrival)
 * and requests the HTTP parser rejects or times out. Used by both listeners (--http and --otlp-http).
 */
export function countRefusals(server: import('node:http').Server, stats: HttpStats): void {
  server.on('drop', () => {
    stats.refusedConnections++;
  });
  server.on('clientError', (err: Error & { code?: string }) => {
    const code = err.code ?? '';
    if (code === 'ERR_HTTP_REQUEST_TIMEOUT') stats.refusedBodyTimeout++;
    else if (code.startsWith('HPE_')) stats.refusedBadRequest++;
  });
}

/** Extra read-only JSON endpoints (path → body producer), e.g. /debug/arrivals. */
export type JsonRoutes = Readonly<Record<string, () => unknown>>;

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The exposition as a byte stream: one chunk rendered per read, after a turn of the event loop. */
class ExpositionStream extends Readable {
  private busyNs = 0n;
  private scheduled = false;
  private finished = false;

  constructor(
    private readonly it: Iterator<string, void, undefined>,
    private readonly done: (busySeconds: number) => void,
    private readonly release: () => void,
  ) {
    // A small buffer: what a stuck client costs is about this plus one chunk.
    super({ highWaterMark: 16 * 1024 });
  }

  override _read(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.destroyed) return;
      const t0 = process.hrtime.bigint();
      let r: IteratorResult<string, void>;
      try {
        r = this.it.next();
      } catch (e) {
        this.destroy(e as Error);
        return;
      }
      this.busyNs += process.hrtime.bigint() - t0;
      if (r.done) {
        this.finished = true;
        this.done(Number(this.busyNs) / 1e9);
        this.push(null);
      } else this.push(r.value);
    });
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (!this.finished) this.it.return?.();
    this.release();
    cb(err);
  }
}

function notAllowed(reply: FastifyReply): FastifyReply {
  return reply
    .code(405)
    .header('Allow', 'GET, HEAD')
    .type('text/plain; charset=utf-8')
    .send('method not allowed\n');
}

/**
 * GET /metrics: the exposition streamed chunk by chunk (one per read of the client), at most
 * --http-max-renders at once (503 + Retry-After beyond, counted).
 */
function metricsRoute(
  app: FastifyInstance,
  limits: HttpLimits,
  metrics: MetricsSource,
  stats: HttpStats,
  inFlight: WeakSet<Socket>,
): void {
  let rendering = 0;
  app.route({
    method: ['GET', 'HEAD'],
    url: '/metrics',
    handler: (req, reply) => {
      reply.header('Content-Type', CONTENT_TYPE).header('Cache-Control', 'no-store');
      if (req.method === 'HEAD') return reply.send('');
      if (rendering >= limits.maxRenders) {
        stats.refusedBusy++;
        return reply
          .code(503)
          .header('Retry-After', '1')
          .type('text/plain; charset=utf-8')
          .send(`busy: ${limits.maxRenders} renders in progress (--http-max-renders)\n`);
      }
      rendering++;
      const socket = req.raw.socket;
      inFlight.add(socket);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        rendering--;
        inFlight.delete(socket);
      };
      return reply.send(new ExpositionStream(metrics.chunks(), metrics.rendered, release));
    },
  });
}

export async function startHttp(
  at: HostPort,
  flag: string,
  limits: HttpLimits,
  metrics: MetricsSource,
  json: JsonRoutes = {},
  stats: HttpStats = new HttpStats(),
): Promise<HttpListener> {
  const app = collectorFastify(1024, limits.timeoutMs); // every route is GET/HEAD: a body is never needed
  // Sockets with a response in flight: a timeout there is a client that stopped reading (counted);
  // a timeout elsewhere is an idle keep-alive connection (closed quietly).
  const inFlight = new WeakSet<Socket>();

  const paths = ['/metrics', '/metrics/self', '/healthz', ...Object.keys(json)];
  const other = ['DELETE', 'OPTIONS', 'PATCH', 'POST', 'PUT'] as const;
  for (const url of paths) app.route({ method: [...other], url, handler: (_q, reply) => notAllowed(reply) });

  metricsRoute(app, limits, metrics, stats, inFlight);
  app.route({
    method: ['GET', 'HEAD'],
    url: '/metrics/self',
    handler: (req, reply) =>
      reply
        .header('Content-Type', CONTENT_TYPE)
        .header('Cache-Control', 'no-store')
        .send(req.method === 'HEAD' ? '' : metrics.self()),
  });
  app.route({
    method: ['GET', 'HEAD'],
    url: '/healthz',
    handler: (req, reply) => reply.type('text/plain; charset=utf-8').send(req.method === 'HEAD' ? '' : 'ok'),
  });
  for (const [url, body] of Object.entries(json)) {
    app.route({
      method: ['GET', 'HEAD'],
      url,
      handler: (req, reply) =>
        reply
          .type('application/json')
          .header('Cache-Control', 'no-store')
          .send(req.method === 'HEAD' ? '' : JSON.stringify(body())),
    });
  }
  app.setNotFoundHandler((_req, reply) =>
    reply
      .code(404)
      .type('text/plain; charset=utf-8')
      .send(`not found: try ${paths.join(', ')}\n`),
  );

  const server = app.server;
  server.maxConnections = limits.maxConnections;
  countRefusals(server, stats);
  // With a listener, Node leaves the timed-out socket to us: count it when a response was in flight.
  server.on('timeout', (socket: Socket) => {
    if (inFlight.has(socket)) stats.timeouts++;
    socket.destroy();
  });

  return {
    address: await listenOn(app, at, flag),
    close: () => app.close(),
  };
}

/**
 * Listens on `at` (port 0: any free port) and returns the bound address, for every HTTP endpoint of the
 * collector. A failure closes the app and becomes LAB_ERR_ADDRESS naming the flag and the address.
 */
export async function listenOn(app: FastifyInstance, at: HostPort, flag: string): Promise<string> {
  try {
    await app.listen({ host: at.host, port: at.port });
  } catch (err) {
    await app.close().catch(() => {});
    throw new LabError(
      'LAB_ERR_ADDRESS',
      `--${flag}: cannot listen on ${formatHostPort(at)}: ${(err as Error).message}`,
      { flag, value: formatHostPort(at) },
    );
  }
  app.server.on('error', () => {});
  const a = app.server.address() as { address: string; port: number };
  return formatHostPort({ host: a.address, port: a.port });
}
