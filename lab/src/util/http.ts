import { LabError } from '@pushpull/common';

// Loopback HTTP with a hard timeout on every request (a stopped or dead child must never hang the lab).

export interface HttpOptions {
  method?: string;
  body?: unknown;
  /** Raw text body (e.g. exposition format for the Pushgateway). */
  text?: string;
  contentType?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

function signalFor(o: HttpOptions): AbortSignal {
  const t = AbortSignal.timeout(o.timeoutMs ?? 5000);
  return o.signal ? AbortSignal.any([t, o.signal]) : t;
}

async function request(url: string, o: HttpOptions): Promise<Response> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (o.text !== undefined) {
    body = o.text;
    headers['content-type'] = o.contentType ?? 'text/plain; version=0.0.4';
  } else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['content-type'] = 'application/json';
  }
  try {
    return await fetch(url, {
      method: o.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      signal: signalFor(o),
    });
  } catch (e) {
    if (o.signal?.aborted) throw e;
    const err = e as Error;
    if (err.name === 'TimeoutError' || err.name === 'AbortError')
      throw new LabError('LAB_ERR_TIMEOUT', `no answer from ${url} within ${o.timeoutMs ?? 5000} ms`, {
        awaited: url,
      });
    throw new LabError(
      'LAB_ERR_CONTROL',
      `${url}: ${(err.cause as Error | undefined)?.message ?? err.message}`,
      { url },
    );
  }
}

export async function httpText(url: string, o: HttpOptions = {}): Promise<string> {
  const res = await request(url, o);
  const text = await res.text();
  if (!res.ok)
    throw new LabError(
      'LAB_ERR_CONTROL',
      `${o.method ?? 'GET'} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`,
      { url, status: res.status },
    );
  return text;
}

export async function httpJson<T>(url: string, o: HttpOptions = {}): Promise<T> {
  const text = await httpText(url, o);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new LabError('LAB_ERR_CONTROL', `${url}: answer is not JSON: ${text.slice(0, 200)}`, { url });
  }
}
