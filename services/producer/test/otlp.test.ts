import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import {
  createProducer,
  type Ledger,
  type Producer,
  type ProducerConfig,
  parsePushRequest,
  resolveConfig,
} from '../src/index.ts';
import { request, sleep, steadyTestProfile, udpSink, waitFor } from './helpers.ts';
import { type Answer, type OtlpReceiver, otlpReceiver, type ReceivedRequest } from './otlp-receiver.ts';

// The OTLP push path against a small fake receiver (otlp-receiver.ts): the real OpenTelemetry SDK, its real
// periodic reader and OTLP/HTTP protobuf exporter, real HTTP on 127.0.0.1, real time (the SDK runs its own
// timers). Intervals are 1 s: the exporter's timeout is the interval, and the machine may be busy.

const INTERVAL = 1000;

const steady = (rate: number) => steadyTestProfile(rate, 5);

interface Run {
  rx: OtlpReceiver;
  p: Producer;
  ledger: Ledger;
  startedAt: number;
  /** Requests received before quiesce was called. */
  beforeQuiesce: number;
  quiescedAt: number;
}

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of open.reverse()) await c();
});

async function run(
  config: Partial<ProducerConfig>,
  durationMs: number,
  answer?: (pod: string | null, i: number) => Answer,
): Promise<Run> {
  const rx = await otlpReceiver(answer);
  open.push(() => rx.close());
  const p = createProducer({
    pods: 4,
    fleetPods: 4,
    http: '127.0.0.1:0',
    processMetrics: false,
    statsd: 'otlp://127.0.0.1:4318',
    otlpUrl: rx.url,
    flushInterval: INTERVAL,
    heartbeat: 'off',
    profile: steady(400),
    ...config,
  });
  open.push(() => p.stop());
  const startedAt = Date.now();
  await p.start();
  await sleep(durationMs);
  const beforeQuiesce = rx.requests.length;
  const quiescedAt = Date.now();
  const ledger = await p.core.quiesce();
  return { rx, p, ledger, startedAt, beforeQuiesce, quiescedAt };
}

const sum = (rs: readonly ReceivedRequest[], f: (r: ReceivedRequest) => number) =>
  rs.reduce((a, r) => a + f(r), 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The ledger of every pod matches what the receiver saw from that pod. */
function assertLedgerMatchesReceiver(r: Run): void {
  for (const [pod, c] of Object.entries(r.ledger.pods)) {
    const got = r.rx.byPod(pod);
    const ok = got.filter((q) => q.status === 200);
    const refused = got.filter((q) => q.status !== 200);
    assert.equal(c.otlpRequests, got.length, `${pod}: HTTP requests sent = received`);
    assert.equal(c.otlpRequestsRetryable, refused.length, `${pod}: 503 answers seen by the producer`);
    assert.equal(
      c.otlpPointsExported,
      sum(ok, (q) => q.points),
      `${pod}: points exported = received (200)`,
    );
    assert.ok(c.otlpExports >= ok.length, `${pod}: every accepted request was an export`);
  }
}

describe('OTLP push (transport otlp)', () => {
  it('one export per interval per pod, jitter off on the shared boundary, a final export on quiesce', async () => {
    const r = await run({ jitter: false }, 4.5 * INTERVAL);
    const { ledger, rx } = r;
    assert.equal(ledger.total.orders, ledger.total.ordersPushed, 'every order recorded into the meter');
    assert.ok(ledger.total.orders > 1000);
    assert.equal(ledger.total.otlpExportsFailed, 0);
    assert.equal(ledger.total.datagrams, 0, 'no StatsD socket used');
    assertLedgerMatchesReceiver(r);
    for (const [pod, c] of Object.entries(ledger.pods)) {
      const got = rx.byPod(pod);
      assert.equal(c.otlpExports, got.length, `${pod}: one request per export (no retries needed)`);
      const periodic = got.filter((q) => q.atMs < r.quiescedAt);
      // 4.5 intervals from a start between two boundaries: the reader starts at the next boundary and
      // exports one interval later, so 3 or 4 periodic exports (one fewer if the machine is very late).
      assert.ok(periodic.length >= 2 && periodic.length <= 4, `${pod}: ${periodic.length} periodic exports`);
      // Jitter off: every pod exports just after the wall-clock boundary t mod interval = 0.
      for (const q of periodic)
        assert.ok(q.atMs % INTERVAL < INTERVAL / 2, `${pod}: late by ${q.atMs % INTERVAL}`);
      // Quiesce forced a final export that carries the pod's total (cumulative).
      const last = got.at(-1)!;
      assert.ok(last.atMs >= r.quiescedAt, `${pod}: final export at quiesce`);
      assert.equal(last.orders, c.ordersPushed, `${pod}: the final export carries every order`);
      assert.equal(last.temporality, 2, 'cumulative');
      assert.equal(c.otlpOrdersExported, c.ordersPushed);
    }
    assert.equal(rx.requests.length - r.beforeQuiesce, 4, 'quiesce: one forced export per pod');
    const n = rx.requests.length;
    await sleep(INTERVAL * 1.5);
    assert.equal(rx.requests.length, n, 'nothing is exported after quiesce');
    assert.equal(r.p.state().push.transport, 'otlp');
  });

  it('jitter on spreads the pods over the interval; off puts them on one boundary', async () => {
    const phases = async (jitter: boolean) => {
      const r = await run({ jitter, pods: 6, fleetPods: 6 }, 3.5 * INTERVAL);
      return Object.keys(r.ledger.pods).map((pod) =>
        median(
          r.rx
            .byPod(pod)
            .filter((q) => q.atMs < r.quiescedAt)
            .map((q) => q.atMs % INTERVAL),
        ),
      );
    };
    const off = await phases(false);
    const on = await phases(true);
    const span = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    assert.ok(span(off) < INTERVAL * 0.2, `jitter off: pods export within ${span(off)} ms of each other`);
    assert.ok(span(on) > INTERVAL * 0.4, `jitter on: pods spread over ${span(on)} ms (${on.join(', ')})`);
  });

  it('cumulative: a failed export is healed by the next one', async () => {
    // The pod's 2nd and 3rd exports are refused with a Retry-After beyond the export's timeout: no retry,
    // the export finally fails.
    const r = await run({ jitter: true }, 5.5 * INTERVAL, (_pod, i) =>
      i === 1 || i === 2 ? { status: 503, retryAfterS: 30 } : { status: 200 },
    );
    assertLedgerMatchesReceiver(r);
    for (const [pod, c] of Object.entries(r.ledger.pods)) {
      const got = r.rx.byPod(pod);
      assert.equal(c.otlpExportsFailed, 2, `${pod}: two exports finally failed`);
      assert.equal(c.otlpExports, got.length, `${pod}: no retries (Retry-After beyond the timeout)`);
      assert.ok(got[3]!.orders >= got[2]!.orders, `${pod}: the export after the failures carries the total`);
      assert.equal(got.at(-1)!.orders, c.ordersPushed, `${pod}: nothing lost`);
      assert.equal(c.otlpOrdersExported, c.ordersPushed);
    }
  });

  it('delta: a failed export is gone, and the ledger says how much', async () => {
    const r = await run({ jitter: true, otlpTemporality: 'delta' }, 5.5 * INTERVAL, (_pod, i) =>
      i === 1 || i === 2 ? { status: 503, retryAfterS: 30 } : { status: 200 },
    );
    assertLedgerMatchesReceiver(r);
    assert.equal(r.p.state().push.otlpTemporality, 'delta');
    for (const [pod, c] of Object.entries(r.ledger.pods)) {
      const got = r.rx.byPod(pod);
      const ok = got.filter((q) => q.status === 200);
      const failed = got.filter((q) => q.status !== 200);
      assert.equal(c.otlpExportsFailed, 2, pod);
      assert.ok(
        got.every((q) => q.temporality === 1 || q.orders === 0),
        'delta points',
      );
      assert.equal(
        c.otlpOrdersExported,
        sum(ok, (q) => q.orders),
        `${pod}: delivered = Σ accepted deltas`,
      );
      const lost = sum(failed, (q) => q.orders);
      assert.ok(lost > 0, `${pod}: the refused exports carried orders`);
      assert.equal(c.ordersPushed - c.otlpOrdersExported, lost, `${pod}: lost = the refused deltas`);
      assert.equal(
        c.otlpPointsFailed,
        sum(failed, (q) => q.points),
        `${pod}: failed points counted`,
      );
    }
  });

  it('retries inside one export are counted at the producer and at the receiver', async () => {
    // 503 with Retry-After: 0 on the 2nd request of each pod: the exporter retries at once and succeeds.
    const r = await run({ jitter: true, otlpTemporality: 'delta' }, 3.5 * INTERVAL, (_pod, i) =>
      i === 1 ? { status: 503, retryAfterS: 0 } : { status: 200 },
    );
    assertLedgerMatchesReceiver(r);
    for (const [pod, c] of Object.entries(r.ledger.pods)) {
      const got = r.rx.byPod(pod);
      assert.equal(c.otlpExportsFailed, 0, `${pod}: the retry made it`);
      assert.equal(c.otlpRequests, c.otlpExports + 1, `${pod}: one retry`);
      assert.equal(c.otlpRequestsRetryable, 1);
      assert.equal(c.otlpOrdersExported, c.ordersPushed, `${pod}: nothing lost (delta, retried)`);
      assert.equal(
        sum(got, (q) => (q.status === 200 ? q.orders : 0)),
        c.ordersPushed,
      );
    }
  });

  it("past the SDK's default cardinality limit (2,000 per instrument and collection) the total stays exact", async () => {
    // 1,000 instruments x 6 = 6,000 possible `orders` attribute sets; 2 pods at 8,000 orders/s each for less
    // than an interval, so the only export is the final one at quiesce: one collection of ~7,000 orders.
    const profile = { ...steady(16_000), instruments: { steady: 1000, open: 0 } };
    const r = await run({ pods: 2, fleetPods: 2, profile }, 0.9 * INTERVAL);
    for (const [pod, c] of Object.entries(r.ledger.pods)) {
      const got = r.rx.byPod(pod);
      assert.equal(got.length, 1, `${pod}: one export (the final one)`);
      assert.ok(c.ordersPushed > 4000, `${pod}: ${c.ordersPushed} orders`);
      assert.equal(got[0]!.ordersPoints, 2000, `${pod}: 1,999 series + otel.metric.overflow`);
      assert.equal(got[0]!.orders, c.ordersPushed, `${pod}: the overflow series keeps the total`);
    }
  });

  it('an unreachable receiver: every export fails and is counted, the producer keeps running', async () => {
    const r = await run({ otlpUrl: 'http://127.0.0.1:9/v1/metrics', pods: 2, fleetPods: 2 }, 2.5 * INTERVAL);
    const t = r.ledger.total;
    assert.ok(t.otlpExports >= 2, `${t.otlpExports} exports`);
    // Every finished export failed; the newest may still be in the SDK's retry backoff when the ledger is
    // read (a loaded machine stretches it), so it is not finished yet, not a success.
    assert.ok(
      t.otlpExportsFailed >= t.otlpExports - 1 && t.otlpExportsFailed >= 1,
      `${t.otlpExportsFailed} of ${t.otlpExports} exports failed`,
    );
    assert.equal(t.otlpOrdersExported, 0);
    assert.ok(t.otlpRequests >= t.otlpExports, 'refused connections are requests too');
  });

  it('switches from StatsD to OTLP at run time without losing or double counting an order', async () => {
    const sink = await udpSink();
    open.push(() => sink.close());
    const rx = await otlpReceiver();
    open.push(() => rx.close());
    const p = createProducer({
      pods: 2,
      fleetPods: 2,
      http: '127.0.0.1:0',
      processMetrics: false,
      statsd: `udp://127.0.0.1:${sink.port}`,
      otlpUrl: rx.url,
      flushInterval: 5000,
      heartbeat: 'off',
      profile: steady(200),
    });
    open.push(() => p.stop());
    const { http } = await p.start();
    await sleep(600);
    const push = async (body: object) => {
      const res = await request(http, 'POST', '/control/push', body);
      assert.equal(res.status, 200, res.text);
    };
    await push({ transport: 'otlp', otlpTemporality: 'delta' });
    await sleep(600);
    // The interval is 5 s: no periodic export happens in this test, every request is a forced one.
    assert.equal(rx.requests.length, 0);
    await push({ mode: 'buffered' }); // means nothing to the SDK: the pods' providers stay
    assert.equal(rx.requests.length, 0, 'no provider rebuilt for a mode change');
    await push({ flushIntervalMs: 6000 }); // a reader's interval is fixed: rebuilt, final export of the old
    assert.equal(rx.requests.length, 2, 'each old provider exported once at its shutdown');
    await sleep(400);
    const ledger = await p.core.quiesce();
    assert.equal(rx.requests.length, 4, 'and the new ones once at quiesce');
    await waitFor(() => sink.datagrams.length >= 1);
    const statsdOrders = sink.datagrams.filter((d) => d.startsWith('orders:')).length;
    assert.ok(statsdOrders > 0 && ledger.total.otlpOrdersExported > 0, 'both paths carried orders');
    assert.equal(
      sum(rx.requests, (q) => q.orders),
      ledger.total.otlpOrdersExported,
    );
    assert.equal(statsdOrders + ledger.total.otlpOrdersExported, ledger.total.ordersPushed);
    assert.equal(ledger.total.ordersPushed, ledger.total.orders);
  });
});

describe('OTLP configuration and control', () => {
  it('otlp:// as the push target gives the exporter URL; --otlp-url overrides it', () => {
    assert.equal(
      resolveConfig({ statsd: 'otlp://10.0.0.5:4318' }).otlpUrl,
      'http://10.0.0.5:4318/v1/metrics',
    );
    assert.equal(resolveConfig({ statsd: 'otlp://[::1]:4000' }).otlpUrl, 'http://[::1]:4000/v1/metrics');
    assert.equal(
      resolveConfig({ statsd: 'udp://127.0.0.1:8125' }).otlpUrl,
      'http://127.0.0.1:4318/v1/metrics',
    );
    assert.equal(
      resolveConfig({ otlpUrl: 'http://collector:14318/otlp/v1/metrics' }).otlpUrl,
      'http://collector:14318/otlp/v1/metrics',
    );
    assert.equal(
      resolveConfig({ otlpUrl: 'http://collector:14318' }).otlpUrl,
      'http://collector:14318/v1/metrics',
    );
    assert.equal(resolveConfig({}).otlpTemporality, 'cumulative');
    assert.equal(resolveConfig({ statsd: 'otlp://127.0.0.1:4318' }).statsd.transport, 'otlp');
  });

  it('bad OTLP values are LAB_ERR_CONFIG naming the field', () => {
    const cases: [Partial<ProducerConfig>, string][] = [
      [{ otlpUrl: 'https://x:4318/v1/metrics' }, 'otlpUrl'],
      [{ otlpUrl: 'http://x/v1/metrics' }, 'otlpUrl'],
      [{ otlpUrl: 'http://u:p@x:4318/' }, 'otlpUrl'],
      [{ otlpUrl: 'not a url' }, 'otlpUrl'],
      [{ statsd: 'otlp://x:0' }, 'statsd'],
      [{ otlpTemporality: 'lowmemory' as never }, 'otlpTemporality'],
    ];
    for (const [c, field] of cases)
      assert.throws(
        () => resolveConfig(c),
        (e) => isLabError(e, 'LAB_ERR_CONFIG') && e.details?.field === field,
        JSON.stringify(c),
      );
  });

  it('POST /control/push accepts transport otlp and a temporality, and names a bad one', () => {
    assert.deepEqual(parsePushRequest({ transport: 'otlp', otlpTemporality: 'delta' }), {
      transport: 'otlp',
      otlpTemporality: 'delta',
    });
    assert.throws(
      () => parsePushRequest({ otlpTemporality: 'both' }),
      (e) => isLabError(e, 'LAB_ERR_CONTROL') && e.details?.field === 'otlpTemporality',
    );
    assert.throws(
      () => parsePushRequest({ transport: 'grpc' }),
      (e) => isLabError(e, 'LAB_ERR_CONTROL') && e.details?.field === 'transport',
    );
  });
});
