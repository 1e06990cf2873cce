// Pull path: each event is one prom-client counter increment in-process; the registry is then served over
// HTTP on 127.0.0.1 and fetched once, as a scrape would.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LabError } from '@pushpull/common';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';
import { httpGet } from '../core/http.ts';
import type { CheckoutEvent } from './events.ts';

export interface PullRecorder {
  registry: Registry;
  record(e: CheckoutEvent): void;
}

export function createPullRecorder(opts: { defaultMetrics: boolean }): PullRecorder {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  const counter = new Counter({
    name: 'checkout_total',
    help: 'Checkout events.',
    labelNames: ['region', 'payment'],
    registers: [registry],
  });
  return { registry, record: (e) => counter.inc(e.labels) };
}

export interface ScrapeResult {
  bytes: number;
  ms: number;
}

/** Serves the registry at http://127.0.0.1:<free port>/metrics and GETs it once (new connection). */
export async function scrapeOnce(registry: Registry): Promise<ScrapeResult> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  try {
    const { port } = server.address() as AddressInfo;
    const r = await httpGet(`http://127.0.0.1:${port}/metrics`);
    if (r.status !== 200)
      throw new LabError('LAB_ERR_TIMEOUT', `scrape of the pull registry answered ${r.status}`);
    return { bytes: r.body.length, ms: r.ms };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
