import { request } from 'node:http';
import { LabError } from '@pushpull/common';

// Loopback HTTP with a hard timeout on every request, body included (a stopped, dead or overloaded child
// must never hang the lab). The timeout is our own timer holding its AbortController: measured here, a
// fetch bounded by AbortSignal.timeout()/AbortSignal.any() on Node 20 sometimes ran for 60-120 s past its
// 5-15 s limit against an overloaded Prometheus.

export interface HttpOptions {
  method?: string;
  body?: unknown;
  /** Raw text body (e.g. exposition format for the Pushgateway). */
  text?: string;
  contentType?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

class HttpTimeout extends Error {
  constructor() {
    super('timeout');
    this.name = 'HttpTimeout';
  }
}

/** Status and body of one request; rejects on timeout (LAB_ERR_TIMEOUT) or connection error. */
async function exchange(url: string, o: HttpOptions): Promise<{ status: number; ok: boolean; text: string }> {
  const timeoutMs = o.timeoutMs ?? 5000;
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (o.text !== undefined) {
    body = o.text;
    headers['content-type'] = o.contentType ?? 'text/plain; version=0.0.4';
  } else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['content-type'] = 'application/json';
  }
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new HttpTimeout()), timeoutMs);
  const outer = o.signal;
  const onOuter = () => ctl.abort(outer?.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  try {
    const res = await fetch(url, {
      method: o.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      signal: ctl.signal,
    });
    const text = await res.text();
    return { status: res.status, ok: res.ok, text };
  } catch (e) {
    if (outer?.aborted) throw outer.reason ?? e;
    if (ctl.signal.reason instanceof HttpTimeout)
      throw new LabError('LAB_ERR_TIMEOUT', `no answer from ${url} within ${timeoutMs} ms`, { awaited: url });
    const err = e as Error;
    throw new LabError(
      'LAB_ERR_CONTROL',
      `${url}: ${(err.cause as Error | undefined)?.message ?? err.message}`,
      {
        url,
      },
    );
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}

export async function httpText(url: string, o: HttpOptions = {}): Promise<string> {
  const r = await exchange(url, o);
  if (!r.ok)
    throw new LabError(
      'LAB_ERR_CONTROL',
      `${o.method ?? 'GET'} ${url}: HTTP ${r.status} ${r.text.slice(0, 300)}`,
      {
        url,
        status: r.status,
      },
    );
  return r.text;
}

export async function httpJson<T>(url: string, o: HttpOptions = {}): Promise<T> {
  const text = await httpText(url, o);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new LabError('LAB_ERR_CONTROL', `${url}: answer is not JSON: ${text.slice(0, 200)}`, { url });
  }
}

/** True when `url` answers 2xx within `timeoutMs`. Never throws. */
export async function httpOk(url: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  try {
    const r = await exchange(url, { timeoutMs });
    return { ok: r.ok, detail: `HTTP ${r.status}` };
  } catch (e) {
    return { ok: false, detail: (e as Error).message };
  }
}

/** One timed GET on loopback over a fresh connection (the cost command's pull scrape and counter reads). */
export interface GetResult {
  status: number;
  body: Buffer;
  /** Request start to last body byte, milliseconds (a fresh connection: agent disabled). */
  ms: number;
}

export function httpGet(url: string, timeoutMs = 5000): Promise<GetResult> {
  const u = new URL(url);
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost' && u.hostname !== '[::1]')
    return Promise.reject(new LabError('LAB_ERR_ADDRESS', `refusing non-loopback URL "${url}"`));
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request(u, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          ms: Number(process.hrtime.bigint() - t0) / 1e6,
        }),
      );
    });
    req.on('timeout', () =>
      req.destroy(new LabError('LAB_ERR_TIMEOUT', `GET ${url}: no answer in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}
