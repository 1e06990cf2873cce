import type { IncomingMessage } from 'node:http';
import type { HostPort } from '@pushpull/common';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApplyResult } from '../aggregate/otlp.ts';
import { type Encoding, encodeResponse, encodeStatus, inflate, OtlpDecodeError } from '../parse/otlp.ts';
import { ApplyGate } from './apply-gate.ts';
import { collectorFastify, countRefusals, type HttpListener, HttpStats, listenOn } from './http.ts';
import { type Backlog, runSliced } from './slices.ts';

// OTLP/HTTP edge (fastify), per the OTLP specification's OTLP/HTTP section: POST /v1/metrics with
// application/x-protobuf or application/json (optionally gzip), 200 + ExportMetricsServiceResponse
// (partial_success when points were refused), 400 undecodable, 413 too large, 415 any other type, and
// 429 + Retry-After when the in-flight budget is full (the exporter retries after that delay). Every
// answer is counted by status code and timed.

export interface OtlpHttpLimits {
  /** Largest body, bytes (after gzip inflation too). */
  maxRequestSize: number;
  /** Request bytes being received at once (Content-Length, or the size limit when unknown). */
  maxInflightBytes: number;
  timeoutMs: number;
  maxConnections: number;
  /** Data points per request; more: 413. */
  maxPoints: number;
  /** Milliseconds a body may take to arrive; then 408 and its in-flight bytes are freed. */
  bodyTimeoutMs: number;
  /** Longest stretch (ms of CPU time) of decode/apply work before the event loop gets a turn. */
  sliceMs: number;
  /** The UDP socket's backlog: drained before the next slice (slices.ts). */
  backlog?: Backlog;
}

export const OTLP_LATENCY_BOUNDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
] as const;

export class OtlpHttpStats {
  readonly requests = new Map<number, number>();
  bytes = 0;
  inflightBytes = 0;
  readonly latency = {
    bounds: OTLP_LATENCY_BOUNDS as readonly number[],
    counts: new Float64Array(OTLP_LATENCY_BOUNDS.length + 1),
    sum: 0,
    count: 0,
  };

  answered(code: number, seconds: number): void {
    this.requests.set(code, (this.requests.get(code) ?? 0) + 1);
    const l = this.latency;
    let i = 0;
    while (i < l.bounds.length && seconds > l.bounds[i]!) i++;
    l.counts[i]!++;
    l.sum += seconds;
    l.count++;
  }
}

/**
 * Decodes and applies a request body (already inflated); a generator that yields between slices of work
 * (see runSliced). Throws OtlpDecodeError before anything is applied when the body cannot be decoded whole.
 */
export type OtlpSink = (body: Buffer, encoding: Encoding) => Generator<void, ApplyResult, undefined>;

const PATH = '/v1/metrics';
const CT = { protobuf: 'application/x-protobuf', json: 'application/json' } as const;
/** google.rpc.Code values for the Status body. */
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;

function encodingOf(req: FastifyRequest): Encoding | null {
  const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return ct === CT.json ? 'json' : ct === CT.protobuf ? 'protobuf' : null;
}

function fail(
  req: FastifyRequest,
  reply: FastifyReply,
  code: number,
  grpc: number,
  msg: string,
): FastifyReply {
  const enc = encodingOf(req);
  if (enc === null) return reply.code(code).type('text/plain; charset=utf-8').send(`${msg}\n`);
  return reply
    .code(code)
    .type(CT[enc])
    .send(encodeStatus(enc, grpc, msg));
}

export async function startOtlpHttp(
  at: HostPort,
  flag: string,
  limits: OtlpHttpLimits,
  sink: OtlpSink,
  stats: OtlpHttpStats,
  httpStats: HttpStats = new HttpStats(),
): Promise<HttpListener> {
  const app = collectorFastify(limits.maxRequestSize, limits.timeoutMs);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([CT.protobuf, CT.json], { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
  const release = budget(app, limits, stats, httpStats);
  // Bodies being decoded/applied at once: one largest request's worth, as before slicing (apply-gate.ts).
  routes(app, limits, sink, stats, { gate: new ApplyGate(limits.maxRequestSize), release });

  const server = app.server;
  server.maxConnections = limits.maxConnections;
  countRefusals(server, httpStats);
  const address = await listenOn(app, at, flag);
  let closing: Promise<void> | null = null;
  return {
    address,
    // Idempotent: stop() closes the receivers first, then everything.
    close: () => {
      closing ??= app.close();
      return closing;
    },
  };
}

/**
 * The in-flight byte budget: reserved on arrival (429 + Retry-After when full), released exactly once: when
 * the body enters the apply stage (ApplyGate), or with the answer. A body that has not arrived within
 * --otlp-body-timeout is cut (408, counted): a trickle cannot hold the budget, so real exporters are not
 * kept at 429. Returns the release.
 */
function budget(
  app: FastifyInstance,
  limits: OtlpHttpLimits,
  stats: OtlpHttpStats,
  http: HttpStats,
): (req: FastifyRequest) => void {
  const held = new WeakMap<IncomingMessage, { bytes: number; timer: NodeJS.Timeout }>();
  const release = (req: FastifyRequest) => {
    const h = held.get(req.raw);
    if (h === undefined) return;
    held.delete(req.raw);
    clearTimeout(h.timer);
    stats.inflightBytes -= h.bytes;
  };
  app.addHook('onRequest', (req, reply, done) => {
    if (req.method !== 'POST' || req.url.split('?')[0] !== PATH) return done();
    const len = Number(req.headers['content-length']);
    const want =
      Number.isFinite(len) && len >= 0 ? Math.min(len, limits.maxRequestSize) : limits.maxRequestSize;
    // A request alone always fits, so a body larger than the budget (but within the size limit) is not
    // refused forever; concurrent ones wait their turn.
    if (stats.inflightBytes > 0 && stats.inflightBytes + want > limits.maxInflightBytes) {
      reply.header('Retry-After', '1');
      const msg = `busy: ${stats.inflightBytes} request bytes in flight (--otlp-max-inflight-bytes)`;
      fail(req, reply, 429, RESOURCE_EXHAUSTED, msg);
      return;
    }
    const t0 = performance.now();
    const timer = setTimeout(() => {
      release(req);
      http.refusedBodyTimeout++;
      stats.answered(408, (performance.now() - t0) / 1000);
      const sock = req.raw.socket;
      sock.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      sock.destroySoon();
      setTimeout(() => sock.destroy(), 1000).unref();
    }, limits.bodyTimeoutMs);
    timer.unref();
    held.set(req.raw, { bytes: want, timer });
    stats.inflightBytes += want;
    done();
  });
  // The body is in: the deadline no longer applies (the bytes stay reserved until the answer).
  app.addHook('preValidation', (req, _reply, done) => {
    const h = held.get(req.raw);
    if (h !== undefined) clearTimeout(h.timer);
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    release(req);
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    release(req);
    if (req.url.split('?')[0] === PATH) stats.answered(reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  return release;
}

/** The apply stage, and how a body leaves the in-flight budget on entering it. */
interface Stage {
  gate: ApplyGate;
  release: (req: FastifyRequest) => void;
}

/**
 * Decodes and applies a whole body once it is through the gate. Entering releases the body's in-flight
 * bytes: a request that has arrived is no longer "being received", so the next exporter's request is not
 * refused for it while this one is applied in slices (it used to be applied in one go, before any other
 * socket was read).
 */
async function applyBody(
  req: FastifyRequest,
  raw: Buffer,
  enc: Encoding,
  limits: OtlpHttpLimits,
  sink: OtlpSink,
  stage: Stage,
): Promise<ApplyResult> {
  await stage.gate.enter(raw.length);
  stage.release(req);
  try {
    const body = inflate(raw, req.headers['content-encoding']?.toLowerCase(), limits.maxRequestSize);
    return await runSliced(sink(body, enc), limits.sliceMs, limits.backlog);
  } finally {
    stage.gate.leave(raw.length);
  }
}

/** POST /v1/metrics, and answers in OTLP's shape for everything else. */
function routes(
  app: FastifyInstance,
  limits: OtlpHttpLimits,
  sink: OtlpSink,
  stats: OtlpHttpStats,
  stage: Stage,
): void {
  app.route({
    method: 'POST',
    url: PATH,
    handler: async (req, reply) => {
      const enc = encodingOf(req);
      if (enc === null) return fail(req, reply, 415, INVALID_ARGUMENT, 'unsupported content type');
      // An empty body is a valid (empty) protobuf request; fastify hands none to the parser for it.
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      stats.bytes += raw.length;
      let r: ApplyResult;
      try {
        r = await applyBody(req, raw, enc, limits, sink, stage);
      } catch (e) {
        const status = e instanceof OtlpDecodeError ? e.status : 400;
        return fail(req, reply, status, INVALID_ARGUMENT, (e as Error).message);
      }
      return reply
        .code(200)
        .type(CT[enc])
        .send(encodeResponse(enc, r.refused, r.message));
    },
  });
  app.route({
    method: ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
    url: PATH,
    handler: (_req, reply) =>
      reply
        .code(405)
        .header('Allow', 'POST')
        .type('text/plain; charset=utf-8')
        .send('method not allowed: POST only\n'),
  });
  app.setNotFoundHandler((_req, reply) =>
    reply.code(404).type('text/plain; charset=utf-8').send(`not found: this port serves POST ${PATH}\n`),
  );
  // Fastify's own refusals (body too large, unsupported media type, bad framing) in OTLP's shape.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const code = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (code === 503) reply.header('Retry-After', '1');
    return fail(req, reply, code, code === 503 ? UNAVAILABLE : INVALID_ARGUMENT, err.message);
  });
}
