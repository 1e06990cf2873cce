// Every lab request is bounded: a server that never answers, or stalls mid-body, cannot hold the lab.
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isLabError, LabError } from '@pushpull/common';
import { httpJson, httpOk, httpText } from '../src/core/http.ts';

let server: Server;
let base = '';
const hanging: ServerResponse[] = [];

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/never') {
      hanging.push(res);
      return;
    }
    if (req.url === '/stall-body') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      hanging.push(res);
      return;
    }
    if (req.url === '/json') {
      res.end('{"a":1}');
      return;
    }
    res.writeHead(404);
    res.end('nope');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const r of hanging) r.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

async function elapsed(p: Promise<unknown>): Promise<{ ms: number; err: unknown }> {
  const t = Date.now();
  try {
    await p;
    return { ms: Date.now() - t, err: null };
  } catch (err) {
    return { ms: Date.now() - t, err };
  }
}

describe('bounded HTTP', () => {
  it('no answer at all → LAB_ERR_TIMEOUT naming the URL, on time', async () => {
    const r = await elapsed(httpText(`${base}/never`, { timeoutMs: 300 }));
    assert.ok(isLabError(r.err, 'LAB_ERR_TIMEOUT') && r.err.message.includes('/never'), String(r.err));
    assert.ok(r.ms < 1500, `${r.ms} ms`);
  });
  it('headers then a stalled body → LAB_ERR_TIMEOUT too', async () => {
    const r = await elapsed(httpText(`${base}/stall-body`, { timeoutMs: 300 }));
    assert.ok(isLabError(r.err, 'LAB_ERR_TIMEOUT'), String(r.err));
    assert.ok(r.ms < 1500, `${r.ms} ms`);
  });
  it('an outer abort (Ctrl-C) wins with its own reason', async () => {
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new LabError('LAB_ERR_INTERRUPTED', 'interrupted by SIGINT')), 100);
    const r = await elapsed(httpText(`${base}/never`, { timeoutMs: 5000, signal: ctl.signal }));
    assert.ok(isLabError(r.err, 'LAB_ERR_INTERRUPTED'), String(r.err));
    assert.ok(r.ms < 1500);
  });
  it('HTTP errors and bad JSON name the URL; httpOk never throws', async () => {
    await assert.rejects(
      httpText(`${base}/missing`),
      (e) => isLabError(e, 'LAB_ERR_CONTROL') && /HTTP 404/.test(e.message),
    );
    assert.deepEqual(await httpJson(`${base}/json`), { a: 1 });
    await assert.rejects(httpJson(`${base}/missing`), /404/);
    assert.equal((await httpOk(`${base}/never`, 200)).ok, false);
    assert.equal((await httpOk(`http://127.0.0.1:1/`, 500)).ok, false);
  });
});
