import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Ledger } from '../src/index.ts';
import { request, sleep } from './helpers.ts';
import {
  answered,
  type Books,
  books,
  holdBudget,
  killAll,
  pushedBack,
  quiesce,
  type Rig,
  settled,
  startRig,
  stopRig,
  text,
  value,
  waitBooks,
} from './otlp-e2e.ts';

// End to end over OTLP/HTTP: the built producer (dist/main.js, `serve --statsd otlp://…`: per-pod
// OpenTelemetry MeterProviders with the real protobuf exporter) pushing to the built collector's receiver
// (dist/main.js, `--otlp-http`), both real processes on 127.0.0.1. After a quiesce (every pod's provider
// shut down, so its final export happened) the producer's ledger and the receiver's books must agree
// exactly: points, requests, retries, orders. Each test is bounded (~20 s) and kills what it started.
//
// Back-pressure needs requests that overlap at the receiver, and the producer's own exports do not: on
// loopback each arrives whole in one read and the single-threaded receiver finishes it before it reads the
// next socket, so the in-flight budget never holds two at once (tried while writing this test: 8 pods,
// jitter off, 1 KiB budget, ~124 KB requests, 3 rounds: no 429). A slow sender does hold it, as on a real
// network: the test sends one request of its own all but its last byte across an export boundary.

after(killAll);

/** What holds whatever happened on the way: the ledger's orders are the receiver's, pod by pod. */
function assertOrdersReconcile(r: Rig, b: Books): void {
  const t = b.ledger.total;
  assert.equal(t.ordersPushed, t.orders, 'every generated order was recorded into a meter');
  for (const [pod, c] of Object.entries(b.ledger.pods)) {
    assert.equal(
      value(b.metrics, 'orders', { pod }),
      c.otlpOrdersExported,
      `${pod}: orders at the collector`,
    );
    assert.ok(c.otlpExports >= 2, `${pod}: ${c.otlpExports} exports`);
  }
  assert.equal(value(b.metrics, 'orders'), t.otlpOrdersExported, 'Σ orders at the collector');
  assert.equal(value(b.self, 'collector_otlp_points_total', { outcome: 'refused' }), 0, 'nothing refused');
  assert.equal(
    value(b.self, 'collector_otlp_points_total', { outcome: 'accepted' }),
    t.otlpPointsExported,
    'points accepted by the receiver = Σ otlpPointsExported',
  );
  assert.equal(
    answered(b.self, '200') - r.held,
    t.otlpExports - t.otlpExportsFailed,
    'one 200 per export that made it',
  );
  assert.equal(value(b.self, 'collector_otlp_inflight_bytes'), 0);
}

async function steady(temporality: 'cumulative' | 'delta'): Promise<void> {
  const pods = 4;
  const r = await startRig(
    [],
    ['--flush-interval', '1s', '--heartbeat', '500ms', '--otlp-temporality', temporality],
    pods,
  );
  try {
    await sleep(3500);
    const b = await quiesce(r);
    assert.ok(settled(r, b), `settled: ${JSON.stringify(b.ledger.total)}\n${b.self}`);
    const t = b.ledger.total;
    assert.ok(t.orders > pods * 200, `${t.orders} orders`);
    assert.equal(Object.keys(b.ledger.pods).length, pods);
    assertOrdersReconcile(r, b);
    // Nothing pushed back and nothing lost: every order, rejection, latency and heartbeat delivered.
    assert.equal(t.otlpExportsFailed, 0);
    assert.equal(t.otlpPointsFailed, 0);
    assert.equal(t.otlpOrdersExported, t.ordersPushed, 'Σ otlpOrdersExported = Σ ordersPushed');
    for (const [pod, c] of Object.entries(b.ledger.pods)) {
      assert.equal(c.otlpOrdersExported, c.ordersPushed, pod);
      assert.ok(c.otlpExports >= 3, `${pod}: periodic exports and the final one (${c.otlpExports})`);
    }
    assert.equal(value(b.metrics, 'orders'), t.ordersPushed);
    assert.equal(value(b.metrics, 'order_rejects'), t.rejects, 'rejects');
    assert.equal(value(b.metrics, 'order_latency_count'), t.ordersPushed, 'one latency per order');
    assert.equal(value(b.metrics, 'heartbeat'), t.heartbeats, 'heartbeats');
    assert.ok(t.heartbeats >= pods * 5, `${t.heartbeats} heartbeats`);
    assert.equal(t.otlpRequests, t.otlpExports, 'no retries');
    assert.equal(t.otlpRequestsRetryable, 0);
    assert.equal(answered(b.self, '200'), t.otlpRequests, 'every request answered 200');
    assert.equal(answered(b.self), t.otlpRequests, 'and nothing else');
    assert.equal(t.datagrams, 0, 'no StatsD socket used');
    // After the quiesce nothing more is exported (the providers are shut down).
    await sleep(1500);
    assert.equal(answered((await books(r)).self), t.otlpRequests, 'nothing exported after quiesce');
  } finally {
    await stopRig(r);
  }
}

// Back-pressure: jitter off, so every pod exports at the same wall-clock boundary (t mod interval = 0),
// 3 s interval = the exporter's timeout: attempts at +0, +1 and +2 s (Retry-After: 1 s), no more.
const BP_INTERVAL = 3000;
// The next export boundary at least 400 ms away. The slow sender takes the budget up to this long before it
// (at once when less is left; nothing is exported between boundaries): it must be holding it when the exports
// start, even on a loaded machine.
const HOLD_LEAD_MS = 1000;
const nextBoundary = () => Math.ceil((Date.now() + 400) / BP_INTERVAL) * BP_INTERVAL;
const sleepUntil = (t: number) => sleep(Math.max(0, t - Date.now()));

/**
 * Holds the budget from just before the export boundary `at` until the receiver has answered `refusals`
 * more 429/503s (or 2.9 s after `at`, before the next boundary).
 */
async function holdAcross(r: Rig, at: number, refusals: number): Promise<void> {
  await sleepUntil(at - HOLD_LEAD_MS);
  const refused = async () => pushedBack(await text(r.collectorHttp, '/metrics/self'));
  const before = await refused();
  const hold = await holdBudget(r);
  let n = (await refused()) - before;
  for (; n < refusals && Date.now() < at + 2900; n = (await refused()) - before) await sleep(20);
  await hold.release();
  assert.equal(n, refusals, `refusals while held (released ${Date.now() - at} ms after the boundary)`);
}

type Totals = Ledger['total'];
const minus = (a: Totals, b: Totals, k: keyof Totals) => a[k] - b[k];

async function backPressure(temporality: 'cumulative' | 'delta'): Promise<void> {
  const pods = 4;
  const r = await startRig(
    ['--otlp-max-inflight-bytes', '1KiB'],
    ['--flush-interval', '3s', '--no-jitter', '--heartbeat', 'off', '--otlp-temporality', temporality],
    pods,
  );
  // Every boundary that is not held adds one export and one request per pod, and nothing else: the checks
  // below are differences that such a boundary leaves unchanged (retries = requests − exports), so a read that
  // comes after one more boundary on a slow machine does not change what they assert.
  const settle = async (what: string, after: Totals | null) => {
    const want = (after?.otlpExports ?? 0) + pods;
    const b = await waitBooks(r, (x) => x.ledger.total.otlpExports >= want && settled(r, x), 8000);
    assert.ok(settled(r, b), `${what} settled: ${JSON.stringify(b.ledger.total)}\n${b.self}`);
    return b.ledger.total;
  };
  const retries = (t: Totals) => t.otlpRequests - t.otlpExports;
  try {
    // Round 1, undisturbed.
    const r1 = await settle('round 1', null);
    assert.equal(retries(r1), 0, 'round 1: no retries');
    assert.equal(r1.otlpRequestsRetryable, 0);
    // Round 2: the budget is held until every pod was refused twice: the attempts at +0 and +1 s are
    // answered 429, the one at +2 s gets through.
    await holdAcross(r, nextBoundary(), 2 * pods);
    const r2 = await settle('round 2', r1);
    const d2 = (k: keyof Totals) => minus(r2, r1, k);
    assert.equal(d2('otlpExportsFailed'), 0, 'round 2: every export made it after retrying');
    assert.equal(d2('otlpRequestsRetryable'), 2 * pods, 'round 2: two 429s per pod');
    assert.equal(retries(r2) - retries(r1), 2 * pods, 'round 2: three requests per export');
    // Round 3: held until every pod was refused three times, the last attempt the timeout allows: every
    // pod's export finally fails.
    await holdAcross(r, nextBoundary(), 3 * pods);
    const r3 = await settle('round 3', r2);
    const d3 = (k: keyof Totals) => minus(r3, r2, k);
    assert.equal(d3('otlpExportsFailed'), pods, 'round 3: every export failed');
    assert.equal(d3('otlpRequestsRetryable'), 3 * pods, 'round 3: three 429s per pod');
    // A failed export's last refusal is not retried: three requests for the one export.
    assert.equal(retries(r3) - retries(r2), 2 * pods, 'round 3: three requests per export');
    // The quiesce: a final export per pod, undisturbed.
    const b = await quiesce(r);
    assert.ok(settled(r, b), `settled: ${JSON.stringify(b.ledger.total)}\n${b.self}`);
    assertOrdersReconcile(r, b);
    const t = b.ledger.total;
    const refused = pushedBack(b.self);
    assert.equal(refused, 5 * pods, '429/503 answers');
    assert.equal(t.otlpRequestsRetryable, refused, 'retryable answers seen by the producer = 429/503s sent');
    assert.equal(answered(b.self), answered(b.self, '200') + refused, 'no other answer');
    // The SDK retries after every retryable answer except the last one of an export that fails.
    assert.equal(t.otlpRequests, t.otlpExports + t.otlpRequestsRetryable - t.otlpExportsFailed);
    assert.ok(t.otlpRequests > t.otlpExports, 'the exporter retried');
    assert.equal(t.otlpExportsFailed, pods);
    assert.equal(r.held, 2);
    for (const [pod, c] of Object.entries(b.ledger.pods)) {
      assert.equal(c.otlpExportsFailed, 1, pod);
      assert.ok(c.otlpPointsFailed > 0, `${pod}: the failed export's points are counted`);
      const lost = c.ordersPushed - c.otlpOrdersExported;
      if (temporality === 'cumulative')
        assert.equal(lost, 0, `${pod}: the next export healed the failed one`);
      else assert.ok(lost > 0, `${pod}: delta, the failed export's orders are gone (${lost})`);
    }
  } finally {
    await stopRig(r);
  }
}

describe('producer → collector over OTLP/HTTP (real processes, 127.0.0.1)', () => {
  it('cumulative: ledger and receiver agree exactly', () => steady('cumulative'));
  it('delta: the exports add up to the same totals', () => steady('delta'));

  it('back-pressure, cumulative: 429s retried, a failed export healed by the next', () =>
    backPressure('cumulative'));
  it('back-pressure, delta: 429s retried, a failed export lost and counted', () => backPressure('delta'));
});

describe('producer → collector over OTLP/HTTP: a quiesce while the exporters are pushed back', () => {
  it('an export that outlives the quiesce bound is still counted, request by request', async () => {
    // The pods' periodic export is refused (budget held), the quiesce comes while it retries: the SDK's
    // shutdown waits for it (it fails at +2 s), then exports once more; that final export is refused until
    // the quiesce has answered (the producer's bound: interval + 0.5 s), and gets through on its last
    // attempt at +4 s, after the bound. Its requests must be in the ledger like any others.
    const pods = 4;
    const r = await startRig(
      ['--otlp-max-inflight-bytes', '1KiB'],
      ['--flush-interval', '3s', '--no-jitter', '--heartbeat', 'off'],
      pods,
    );
    try {
      await waitBooks(r, (x) => x.ledger.total.otlpExports >= pods && settled(r, x), 8000);
      const at = nextBoundary();
      await sleepUntil(at - HOLD_LEAD_MS);
      const self = async () => text(r.collectorHttp, '/metrics/self');
      const before = pushedBack(await self());
      const hold = await holdBudget(r);
      while (pushedBack(await self()) < before + pods && Date.now() < at + 900) await sleep(20);
      const q = await request(r.producerHttp, 'POST', '/control/quiesce', {}, 15_000);
      await hold.release();
      assert.equal(q.status, 200, q.text);
      const atQuiesce = q.json<Ledger>().total;
      assert.ok(
        atQuiesce.otlpOrdersExported < atQuiesce.ordersPushed,
        `the final exports were still running when the quiesce answered: ${JSON.stringify(atQuiesce)}`,
      );
      const b = await waitBooks(r, (x) => settled(r, x), 6000);
      assert.ok(settled(r, b), `every request counted: ${JSON.stringify(b.ledger.total)}\n${b.self}`);
      assertOrdersReconcile(r, b);
      const t = b.ledger.total;
      assert.equal(t.otlpRequestsRetryable, pushedBack(b.self), 'retryable answers = 429/503s sent');
      assert.equal(t.otlpRequests, t.otlpExports + t.otlpRequestsRetryable - t.otlpExportsFailed);
      assert.equal(t.otlpExportsFailed, pods, 'the periodic export refused to the end');
      assert.equal(t.otlpOrdersExported, t.ordersPushed, 'the final export made it: nothing lost');
    } finally {
      await stopRig(r);
    }
  });
});
