// Issue 11, item 2: /metrics honours back-pressure. The handler once wrote the whole body without waiting
// for 'drain': five clients that sent GET /metrics and never read held 1.2 GB (87 MB body). Goal: 30 such
// clients add at most 3 × the body + 50 MiB to the collector's RSS; a client that does not read is timed
// out; concurrent renders are bounded and the refusals counted. The collector runs in its own process
// (RSS is per process), 127.0.0.1 only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { metrics, sum, waitFor } from '../testkit/helpers.ts';
import { type Filled, peakRss, rssOf, startFilled, stuckClients, timedGet } from '../testkit/slow-clients.ts';

describe('/metrics back-pressure', () => {
  let f: Filled;
  before(async () => {
    f = await startFilled(8000, { httpTimeout: '2s', httpMaxRenders: '32' });
  });
  after(async () => {
    await f.stop();
  });

  it('30 clients that never read add at most 3 × body + 50 MiB of RSS, and are timed out', async () => {
    const body = (await timedGet(f.http)).bytes;
    assert.ok(body > 5_000_000, `body ${body} B`);
    const pid = f.child.pid!;
    await timedGet(f.http); // warm: the first render's allocations are part of the baseline
    const base = rssOf(pid);
    const clients = await stuckClients(f.http, 30);
    try {
      const peak = await peakRss(pid, 1500);
      const grown = peak - base;
      const limit = 3 * body + 50 * 2 ** 20;
      assert.ok(
        grown <= limit,
        `RSS grew ${(grown / 2 ** 20).toFixed(1)} MiB > ${(limit / 2 ** 20).toFixed(1)} MiB`,
      );
      // --http-timeout (2 s here): the collector closes connections whose client does not read, and counts them.
      assert.ok(
        await waitFor(async () => sum(await metrics(f.http), 'collector_http_timeouts_total') === 30, 8000),
        'every stuck client timed out and counted',
      );
      // the client side sees its connection end once it reads again
      for (const s of clients) s.resume();
      assert.ok(await waitFor(() => clients.every((s) => s.destroyed || s.readableEnded), 5000), 'closed');
    } finally {
      for (const s of clients) s.destroy();
    }
    // still serving, whole body
    const again = await timedGet(f.http);
    assert.equal(again.status, 200);
    assert.ok(again.bytes >= body);
  });
});

describe('/metrics concurrency bound', () => {
  let f: Filled;
  before(async () => {
    f = await startFilled(8000, { httpTimeout: '3s', httpMaxRenders: '2' });
  });
  after(async () => {
    await f.stop();
  });

  it('renders beyond --http-max-renders answer 503 and are counted; /metrics/self still answers', async () => {
    const clients = await stuckClients(f.http, 2);
    try {
      await new Promise((r) => setTimeout(r, 200));
      const r = await timedGet(f.http);
      assert.equal(r.status, 503);
      const self = await timedGet(f.http, '/metrics/self');
      assert.equal(self.status, 200, 'the self-metrics route does not take a render slot');
      const m = await metrics(f.http).catch(() => null);
      assert.equal(m, null, '/metrics is still busy');
    } finally {
      for (const s of clients) s.destroy();
    }
    assert.ok(await waitFor(async () => (await timedGet(f.http)).status === 200, 5000));
    const m = await metrics(f.http);
    assert.ok(sum(m, 'collector_http_refused_total', { reason: 'busy' }) >= 2);
  });
});
