// The process runtime's OTLP partition: a loopback proxy that a cut makes refuse new connections and reset
// open ones, and a heal reopens on the same port. Real sockets on port 0.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OtlpProxy } from '../src/runtime/process/otlp-proxy.ts';

/** One request on its own connection (no keep-alive: each connection is one the proxy counts). */
function post(addr: string): Promise<{ status: number; body: string }> {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port: Number(port), method: 'POST', path: '/v1/metrics', agent: false },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end('x');
  });
}

describe('OtlpProxy (process-runtime partition for OTLP)', () => {
  let receiver: http.Server;
  let target = '';
  let hang: http.ServerResponse | null = null;
  before(async () => {
    receiver = http.createServer((req, res) => {
      req.resume();
      if (req.headers['x-hang'])
        hang = res; // an export in flight at the cut
      else res.end('ok');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    target = `127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  after(async () => {
    hang?.end();
    receiver.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  it('pipes to the receiver, refuses while cut, resets what was open, and heals on the same port', async () => {
    const proxy = new OtlpProxy(target);
    const addr = await proxy.listen();
    assert.match(addr, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(await post(addr), { status: 200, body: 'ok' });

    // An export in flight when the cut comes is reset (ECONNRESET, retryable for the OTel exporter).
    const [host, port] = addr.split(':');
    const inFlight = new Promise<string>((resolve) => {
      const req = http.request({
        host,
        port: Number(port),
        method: 'POST',
        agent: false,
        headers: { 'x-hang': '1' },
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.on('response', () => resolve('answered'));
      req.end('x');
    });
    for (let i = 0; i < 100 && hang === null; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(hang, 'the receiver got the request');
    await proxy.cut();
    assert.equal(await inFlight, 'ECONNRESET');
    assert.ok(proxy.isCut);
    // New connections are refused (ECONNREFUSED, retryable too).
    await assert.rejects(post(addr), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');

    await proxy.heal();
    assert.equal(proxy.address(), addr, 'same port after the heal');
    assert.deepEqual(await post(addr), { status: 200, body: 'ok' });
    assert.deepEqual(
      { cuts: proxy.stats.cuts, destroyed: proxy.stats.destroyedByCut, connections: proxy.stats.connections },
      { cuts: 1, destroyed: 1, connections: 3 },
    );
    await proxy.close();
    await assert.rejects(post(addr), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
  });
});
