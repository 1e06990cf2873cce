// OTLP metrics through the pure core: decode (protobuf and OTLP/JSON) → OtlpIngest → the same store and
// exposition as StatsD. No sockets (the real exporter end to end: otlp-http.int.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCollector } from '../src/index.ts';
import { decodeRequest, encodeRequest, OtlpDecodeError } from '../src/parse/otlp.ts';

const T0 = 1_764_547_200_000_000_000n; // 2025-12-01T00:00:00Z in ns
const ns = (s: number) => String(T0 + BigInt(s) * 1_000_000_000n);
/** The collector's clock in these tests: one hour after T0 (points are never "from the future"). */
const NOW = Number(T0 / 1_000_000n) + 3_600_000;

/** A request shaped as in the OTLP specification's JSON examples, with fields the collector does not know. */
function specRequest(opts: { sumValue?: string; time?: number; temporality?: number } = {}) {
  return {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'order-router' } },
            { key: 'service.instance.id', value: { stringValue: 'i-7' } },
            { key: 'pod', value: { stringValue: 'pod-3' } },
            { key: 'telemetry.sdk.language', value: { stringValue: 'nodejs' } },
          ],
          droppedAttributesCount: 0,
        },
        scopeMetrics: [
          {
            scope: { name: 'lab', version: '1.0.0', attributes: [] },
            metrics: [
              {
                name: 'orders.accepted',
                unit: '{order}',
                description: 'orders',
                futureField: { anything: [1, 2, 3] },
                sum: {
                  aggregationTemporality: opts.temporality ?? 2,
                  isMonotonic: true,
                  dataPoints: [
                    {
                      attributes: [{ key: 'venue', value: { stringValue: 'XNYS' } }],
                      startTimeUnixNano: ns(0),
                      timeUnixNano: ns(opts.time ?? 10),
                      asInt: opts.sumValue ?? '5',
                      exemplars: [{ timeUnixNano: ns(5), asInt: '1', spanId: 'ab' }],
                    },
                  ],
                },
              },
              {
                name: 'queue.depth',
                gauge: { dataPoints: [{ timeUnixNano: ns(10), asDouble: 2.5 }] },
              },
              {
                name: 'order.latency',
                unit: 's',
                histogram: {
                  aggregationTemporality: 2,
                  dataPoints: [
                    {
                      attributes: [{ key: 'side', value: { stringValue: 'buy' } }],
                      timeUnixNano: ns(10),
                      count: '4',
                      sum: 0.7,
                      bucketCounts: ['1', '2', '1'],
                      explicitBounds: [0.1, 0.25],
                      min: 0.05,
                      max: 0.3,
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

function collector(over: Record<string, string> = {}) {
  return createCollector({ statsdTcp: 'off', otlpHttp: '127.0.0.1:0', ...over });
}

const lines = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

const EXPECTED = [
  'orders_accepted{pod="pod-3",service_instance_id="i-7",service_name="order-router",venue="XNYS"} 5',
];

describe('OTLP decode → store → exposition', () => {
  it('a spec-shaped JSON request: names, resource labels, sum, gauge, histogram; unknown fields ignored', () => {
    const c = collector();
    const r = c.otlp.apply(decodeRequest(Buffer.from(JSON.stringify(specRequest())), 'json'), NOW);
    assert.deepEqual(r, { accepted: 3, refused: 0, message: '' });
    const out = c.render();
    assert.deepEqual(lines(out, 'orders_accepted'), EXPECTED);
    assert.match(out, /# TYPE orders_accepted counter\n# HELP|# HELP orders_accepted OTLP monotonic sum/);
    assert.deepEqual(lines(out, 'queue_depth'), [
      'queue_depth{pod="pod-3",service_instance_id="i-7",service_name="order-router"} 2.5',
    ]);
    const lab = 'pod="pod-3",service_instance_id="i-7",service_name="order-router",side="buy"';
    assert.deepEqual(lines(out, 'order_latency'), [
      `order_latency_bucket{${lab},le="0.1"} 1`,
      `order_latency_bucket{${lab},le="0.25"} 3`,
      `order_latency_bucket{${lab},le="+Inf"} 4`,
      `order_latency_sum{${lab}} 0.7`,
      `order_latency_count{${lab}} 4`,
    ]);
    assert.match(out, /collector_otlp_points_total\{outcome="accepted"\} 3\n/);
    assert.doesNotMatch(out, /telemetry_sdk/);
  });

  it('the same request as protobuf decodes to the same exposition; unknown protobuf fields are skipped', () => {
    const a = collector();
    a.otlp.apply(decodeRequest(Buffer.from(JSON.stringify(specRequest())), 'json'), NOW);
    const b = collector();
    // field 99 (varint 1) appended at the top level: a field from a future version of the proto
    const body = Buffer.concat([encodeRequest(specRequest()), Buffer.from([0x98, 0x06, 0x01])]);
    assert.deepEqual(b.otlp.apply(decodeRequest(body, 'protobuf'), NOW).accepted, 3);
    const strip = (s: string) => s.split('# HELP collector_')[0];
    assert.equal(strip(b.render()), strip(a.render()));
  });

  it('snake_case OTLP/JSON field names are accepted too', () => {
    const c = collector();
    const json = JSON.stringify(specRequest())
      .replaceAll('resourceMetrics', 'resource_metrics')
      .replaceAll('scopeMetrics', 'scope_metrics')
      .replaceAll('dataPoints', 'data_points')
      .replaceAll('asInt', 'as_int');
    assert.equal(c.otlp.apply(decodeRequest(Buffer.from(json), 'json'), NOW).accepted, 3);
    assert.deepEqual(lines(c.render(), 'orders_accepted'), EXPECTED);
  });

  it('bad bodies throw OtlpDecodeError: truncated protobuf, broken JSON, a JSON array, a wrong shape', () => {
    const full = encodeRequest(specRequest());
    for (const [body, enc] of [
      [full.subarray(0, full.length - 7), 'protobuf'],
      [Buffer.from('{"resourceMetrics": ['), 'json'],
      [Buffer.from('[1,2]'), 'json'],
      [Buffer.from('{"resourceMetrics": {"x": 1}}'), 'json'],
    ] as const)
      assert.throws(() => decodeRequest(body, enc), OtlpDecodeError, `${enc}: ${body.toString('latin1')}`);
  });

  it('cumulative: the first point counts whole, later ones replace, an older one is refused and counted', () => {
    const c = collector();
    const send = (v: string, t: number) =>
      c.otlp.apply(decodeRequest(encodeRequest(specRequest({ sumValue: v, time: t })), 'protobuf'), NOW);
    send('5', 10);
    assert.deepEqual(lines(c.render(), 'orders_accepted'), EXPECTED);
    assert.equal(send('9', 20).accepted, 3);
    const back = send('7', 15);
    assert.deepEqual([back.accepted, back.refused], [2, 1]); // the gauge and histogram stay at t=10
    assert.match(back.message, /^out_of_order: metric "orders\.accepted"/);
    const out = c.render();
    assert.match(lines(out, 'orders_accepted')[0]!, / 9$/);
    assert.match(out, /collector_otlp_points_refused_total\{reason="out_of_order"\} 1\n/);
    assert.match(out, /collector_otlp_points_total\{outcome="refused"\} 1\n/);
  });

  it('delta sums add; --strict-names appends _total to monotonic sums', () => {
    const c = collector({ strictNames: 'on' });
    for (const t of [10, 20])
      c.otlp.apply(decodeRequest(encodeRequest(specRequest({ time: t, temporality: 1 })), 'protobuf'), NOW);
    assert.match(lines(c.render(), 'orders_accepted_total{')[0]!, / 10$/);
  });

  it('refusals by reason: unsupported types, no value, unspecified temporality, a StatsD name, bad labels', () => {
    const c = collector();
    c.ingest.datagram(Buffer.from('statsd_orders:1|c'), NOW);
    const req = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                { name: 's', summary: { dataPoints: [{}, {}] } },
                { name: 'e', exponentialHistogram: { dataPoints: [{}] } },
                { name: 'g', gauge: { dataPoints: [{ timeUnixNano: ns(1) }] } },
                {
                  name: 'u',
                  sum: { aggregationTemporality: 0, dataPoints: [{ timeUnixNano: ns(1), asInt: 1 }] },
                },
                {
                  name: 'statsd_orders',
                  sum: {
                    aggregationTemporality: 1,
                    isMonotonic: true,
                    dataPoints: [{ timeUnixNano: ns(1), asInt: 1 }],
                  },
                },
                { name: 't', gauge: { dataPoints: [{ asDouble: 1 }] } },
                {
                  name: 'ok',
                  gauge: {
                    dataPoints: [
                      {
                        timeUnixNano: ns(1),
                        asDouble: 1,
                        attributes: [
                          { key: '__name__', value: { stringValue: 'x' } },
                          { key: 'le', value: { stringValue: '1' } },
                          { key: 'a.b', value: { intValue: '7' } },
                          { key: 'a_b', value: { boolValue: true } },
                        ],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const r = c.otlp.apply(decodeRequest(Buffer.from(JSON.stringify(req)), 'json'), NOW);
    assert.deepEqual([r.accepted, r.refused], [1, 7]);
    const out = c.render();
    for (const [reason, n] of [
      ['unsupported_type', 3],
      ['no_value', 1],
      ['bad_temporality', 1],
      ['type_conflict', 1],
      ['bad_time', 1],
    ] as const)
      assert.match(
        out,
        new RegExp(`collector_otlp_points_refused_total\\{reason="${reason}"\\} ${n}\\n`),
        reason,
      );
    assert.deepEqual(lines(out, 'ok{'), ['ok{a_b="true"} 1']);
    assert.match(out, /collector_otlp_attribute_errors_total\{reason="reserved"\} 1\n/);
    assert.match(out, /collector_otlp_attribute_errors_total\{reason="collision"\} 1\n/);
    assert.match(out, /collector_otlp_attribute_errors_total\{reason="duplicate"\} 1\n/);
    assert.deepEqual(lines(out, 'statsd_orders'), ['statsd_orders 1']);
  });

  it('histogram buckets that do not add up, and changed bounds, are refused', () => {
    const c = collector();
    const req = (counts: string[], bounds: number[], t: number) => ({
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'h',
                  histogram: {
                    aggregationTemporality: 1,
                    dataPoints: [
                      {
                        timeUnixNano: ns(t),
                        count: '3',
                        sum: 1,
                        bucketCounts: counts,
                        explicitBounds: bounds,
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    const apply = (o: object) => c.otlp.apply(decodeRequest(Buffer.from(JSON.stringify(o)), 'json'), NOW);
    assert.equal(apply(req(['1', '1'], [1], 1)).message, 'bad_value: metric "h"');
    assert.equal(apply(req(['1', '2'], [1], 2)).accepted, 1);
    assert.equal(apply(req(['1', '2'], [2], 3)).message, 'bounds_changed: metric "h"');
    assert.equal(apply(req(['1', '2'], [1], 4)).accepted, 1);
    assert.deepEqual(lines(c.render(), 'h_'), [
      'h_bucket{le="1"} 2',
      'h_bucket{le="+Inf"} 6',
      'h_sum 2',
      'h_count 6',
    ]);
  });
});
