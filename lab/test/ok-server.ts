// A test fixture for fake-engine tests of the docker runtime: one real loopback HTTP server that answers
// "ok" to everything (every fake container's published port points at it, so health waits pass), and the
// work dirs the test made, removed afterwards. Registers its own before/after hooks in the calling suite.
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import type { ProducerOptions } from '../src/runtime/types.ts';

export function okServer(): { port(): number; dirs: string[] } {
  let server: Server | null = null;
  let port = 0;
  const dirs: string[] = [];
  before(async () => {
    const s = createServer((_req, res) => res.end('ok'));
    server = s;
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    port = (s.address() as AddressInfo).port;
  });
  after(async () => {
    const s = server;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return { port: () => port, dirs };
}

/** The fleet tests' producer options: per-event UDP, seeded, the incident's fleet; `over` changes any. */
export const fleetOptions = (over: Partial<ProducerOptions> = {}): ProducerOptions => ({
  podsPerProducer: 4,
  seed: 1,
  pushMode: 'per-event',
  jitter: true,
  transport: 'udp',
  heartbeatMs: 0,
  flushIntervalMs: 1000,
  fleetPods: 1400,
  ...over,
});
