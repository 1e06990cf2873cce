import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Ledger, LedgerCounts } from '@pushpull/common';
import fc from 'fast-check';
import { deriveFirstFailures } from '../src/analysis/failures.ts';
import { causeOfSignal } from '../src/analysis/impact.ts';
import { otlpLossCauses, otlpPodGaps } from '../src/analysis/otlp-causes.ts';
import type { LossCause } from '../src/core/record.ts';
import { collectorSnapshot } from '../src/probe/exposition.ts';
import { ledger, sample, series, T0 } from './fixtures.ts';

const sum = (cs: readonly LossCause[]) => cs.reduce((a, c) => a + c.orders, 0);
const byCause = (cs: readonly LossCause[]) => Object.fromEntries(cs.map((c) => [c.cause, c.orders]));

/** One producer's ledger from per-pod OTLP counts. */
function producer(name: string, pods: Record<string, Partial<LedgerCounts>>): Ledger {
  const full = Object.fromEntries(
    Object.entries(pods).map(([k, c]) => [k, { orders: 0, ordersPushed: 0, ...c } as LedgerCounts]),
  );
  return { name, atMs: 0, quiesced: true, total: { orders: 0 } as LedgerCounts, pods: full };
}

describe('OTLP loss by cause (pure)', () => {
  const ledgers = [
    producer('producer-0', {
      // exported everything
      p0: { ordersPushed: 1000, otlpOrdersExported: 1000 },
      // its last exports failed after retries: 300 never made it
      p1: { ordersPushed: 1000, otlpOrdersExported: 700, otlpExportsFailed: 2 },
      // no failure: 50 recorded after its last export (still in the SDK)
      p2: { ordersPushed: 1000, otlpOrdersExported: 950 },
    }),
  ];

  it('splits the gap per pod into dropped by the exporter and still queued, exactly', () => {
    const g = otlpPodGaps(ledgers);
    assert.deepEqual(
      { dropped: g.dropped, droppedPods: g.droppedPods, queued: g.queued, exported: g.exported },
      { dropped: 300, droppedPods: 1, queued: 50, exported: 2650 },
    );
  });

  it('attributes what left the pods but was not counted to the receiver’s refusals, by reason', () => {
    // delivered 2600 of 3000: 350 from the ledger gaps, 50 exported but not counted
    const cs = otlpLossCauses({
      lost: 400,
      temporality: 'delta',
      ledgers,
      refusedPoints: { out_of_order: 3, max_series: 1 },
      inFlightOrders: 0,
    });
    assert.deepEqual(byCause(cs), {
      'exporter-dropped': 300,
      'export-queued': 50,
      'receiver-refused:out_of_order': 38, // 50 × 3/4, rounded
      'receiver-refused:max_series': 12,
      unexplained: 0,
    });
    assert.equal(sum(cs), 400);
    assert.match(cs[0]!.countedBy, /2 failed export/);
    assert.equal(cs[2]!.estimate, true);
  });

  it('leaves an unmeasured remainder unexplained and never over-attributes', () => {
    const cs = otlpLossCauses({
      lost: 500,
      temporality: 'cumulative',
      ledgers,
      refusedPoints: {},
      inFlightOrders: 20,
    });
    assert.deepEqual(byCause(cs), {
      'exporter-dropped': 300,
      'export-queued': 50,
      'in-flight': 20,
      unexplained: 130,
    });
    const small = otlpLossCauses({
      lost: 100,
      temporality: 'cumulative',
      ledgers,
      refusedPoints: {},
      inFlightOrders: 0,
    });
    assert.deepEqual(byCause(small), { 'exporter-dropped': 100, unexplained: 0 });
  });

  it('causes always add up to the loss (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ pushed: fc.nat(10_000), exported: fc.nat(10_000), failed: fc.nat(3) }), {
          maxLength: 8,
        }),
        fc.nat(50_000),
        fc.dictionary(fc.constantFrom('out_of_order', 'max_series', 'bad_value'), fc.nat(100)),
        fc.nat(1000),
        (pods, lost, refused, inFlight) => {
          const l = producer(
            'p',
            Object.fromEntries(
              pods.map((p, i) => [
                `p${i}`,
                { ordersPushed: p.pushed, otlpOrdersExported: p.exported, otlpExportsFailed: p.failed },
              ]),
            ),
          );
          const cs = otlpLossCauses({
            lost,
            temporality: 'delta',
            ledgers: [l],
            refusedPoints: refused,
            inFlightOrders: inFlight,
          });
          assert.equal(sum(cs), lost);
          for (const c of cs) assert.ok(c.orders >= 0);
        },
      ),
    );
  });

  it('points the OTLP failure signals at their causes', () => {
    assert.equal(causeOfSignal('export-failed'), 'exporter-dropped');
    assert.equal(causeOfSignal('otlp-refused'), 'receiver-refused');
  });
});

describe('OTLP in the probe and the failure detectors', () => {
  it('reads the receiver’s accepted and refused points and its 429/503 answers from the collector', () => {
    const c = collectorSnapshot(
      [
        'collector_otlp_points_total{outcome="accepted"} 120',
        'collector_otlp_points_total{outcome="refused"} 7',
        'collector_otlp_points_refused_total{reason="out_of_order"} 5',
        'collector_otlp_points_refused_total{reason="bad_value"} 2',
        'collector_otlp_points_refused_total{reason="max_series"} 0',
        'collector_otlp_requests_total{code="200"} 40',
        'collector_otlp_requests_total{code="429"} 3',
        'collector_otlp_requests_total{code="503"} 1',
        'orders{pod="a"} 9',
      ].join('\n'),
    );
    assert.equal(c.otlpAccepted, 120);
    assert.deepEqual(c.otlpRefusedByReason, { out_of_order: 5, bad_value: 2 });
    assert.equal(c.otlpThrottled, 4);
    assert.equal(c.orders, 9);
    assert.equal(collectorSnapshot('orders 1\n').otlpAccepted, null);
  });

  it('finds failed exports, back-pressure and refusals, each at its first tick', () => {
    const opts = { burstAtMs: T0, scrapeTimeoutSeconds: 10, scrapeIntervalSeconds: 15 };
    const s = series(0, 8, (sec) => ({
      ledger: ledger({
        otlpExports: 10 + sec,
        otlpRequestsRetryable: sec >= 2 ? 5 : 0,
        otlpExportsFailed: sec >= 4 ? 1 : 0,
      }),
      collector: { ...sample(sec).collector!, otlpRefusedByReason: { out_of_order: sec >= 6 ? 2 : 0 } },
    }));
    const f = deriveFirstFailures(s, opts).filter((x) => x.path === 'push');
    const at = Object.fromEntries(f.map((x) => [x.signal, x.secondsAfterBurst]));
    assert.deepEqual(at, { 'export-throttled': 2, 'export-failed': 4, 'otlp-refused': 6 });
    assert.match(f.find((x) => x.signal === 'otlp-refused')!.detail, /2 out_of_order/);
  });
});
