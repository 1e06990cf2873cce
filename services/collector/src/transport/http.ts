import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatHostPort, type HostPort, LabError } from '@pushpull/common';

// HTTP edge: GET /metrics streams the exposition chunk by chunk, yielding to the event loop between
// chunks (UDP keeps being read while a large exposition renders); GET /healthz answers "ok".

export interface HttpListener {
  address: string;
  close(): Promise<void>;
}

export interface MetricsSource {
  /** Chunks of the exposition; the caller measures the time spent inside next(). */
  chunks(): Iterator<string, void, undefined>;
  /** Reports how long the synchronous parts of one render took. */
  rendered(busySeconds: number): void;
}

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

async function serveMetrics(res: http.ServerResponse, head: boolean, src: MetricsSource): Promise<void> {
  res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Cache-Control': 'no-store' });
  if (head) {
    res.end();
    return;
  }
  const it = src.chunks();
  let busyNs = 0n;
  for (;;) {
    const t0 = process.hrtime.bigint();
    const r = it.next();
    busyNs += process.hrtime.bigint() - t0;
    if (r.done) break;
    if (res.destroyed) break;
    res.write(r.value);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  src.rendered(Number(busyNs) / 1e9);
  if (!res.destroyed) res.end();
}

/** Extra read-only JSON endpoints (path → body producer), e.g. /debug/arrivals. */
export type JsonRoutes = Readonly<Record<string, () => unknown>>;

export function startHttp(
  at: HostPort,
  flag: string,
  metrics: MetricsSource,
  json: JsonRoutes = {},
): Promise<HttpListener> {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      res.on('error', () => {});
      const path = (req.url ?? '/').split('?')[0];
      const method = req.method ?? 'GET';
      const jsonRoute = path === undefined ? undefined : json[path];
      if (path !== '/metrics' && path !== '/healthz' && jsonRoute === undefined) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(
          `not found: try /metrics, /healthz${Object.keys(json)
            .map((k) => `, ${k}`)
            .join('')}\n`,
        );
        return;
      }
      if (method !== 'GET' && method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('method not allowed\n');
        return;
      }
      if (jsonRoute !== undefined) {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        res.end(method === 'HEAD' ? undefined : JSON.stringify(jsonRoute()));
        return;
      }
      if (path === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(method === 'HEAD' ? undefined : 'ok');
        return;
      }
      serveMetrics(res, method === 'HEAD', metrics).catch(() => res.destroy());
    });
    server.keepAliveTimeout = 65_000;
    server.once('error', (err) =>
      reject(
        new LabError('LAB_ERR_ADDRESS', `--${flag}: cannot listen on ${formatHostPort(at)}: ${err.message}`, {
          flag,
          value: formatHostPort(at),
        }),
      ),
    );
    server.listen(at.port, at.host, () => {
      server.on('error', () => {});
      const a = server.address() as AddressInfo;
      resolve({
        address: formatHostPort({ host: a.address, port: a.port }),
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
