// Hostile senders, second pass (issue #23), in the pure core: each input was accepted or broke something
// before; each row says what must happen now. Sockets and timing: hostile.int.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCollector } from '../src/index.ts';
import { decodeRequest, encodeRequest, OtlpDecodeError } from '../src/parse/otlp.ts';
import { parseExposition, sum } from '../testkit/helpers.ts';

const T0 = 1_764_547_200_000_000_000n; // 2025-12-01T00:00:00Z in ns
const ns = (s: number) => String(T0 + BigInt(s) * 1_000_000_000n);
const NOW = Number(T0 / 1_000_000n) + 3_600_000;
const quiet = { logger: { info() {}, warn() {}, error() {} } as never };

function collector(over: Record<string, string> = {}) {
  return createCollector(
    { statsdUdp: '127.0.0.1:0', statsdTcp: 'off', http: '127.0.0.1:0', otlpHttp: '127.0.0.1:0', ...over },
    quiet,
  );
}

function req(metrics: object[], resource: object[] = []) {
  return { resourceMetrics: [{ resource: { attributes: resource }, scopeMetrics: [{ metrics }] }] };
}
const sumMetric = (name: string, points: object[], monotonic = true, temporality = 2) => ({
  name,
  sum: { aggregationTemporality: temporality, isMonotonic: monotonic, dataPoints: points },
});
const attr = (key: string, v: string) => ({ key, value: { stringValue: v } });

/** Refusals by reason, from the rendered self-metrics. */
function refusedBy(text: string, reason: string): number {
  return sum(parseExposition(text), 'collector_otlp_points_refused_total', { reason });
}

describe('OTLP points that broke the exposition or were wrong numbers are refused alone, by reason', () => {
  const bounds = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const cases: { name: string; metric: object; reason: string; over?: Record<string, string> }[] = [
    {
      name: 'a histogram with 4,000 bounds (thousands of bucket lines per series)',
      metric: {
        name: 'h',
        histogram: {
          aggregationTemporality: 2,
          dataPoints: [
            {
              timeUnixNano: ns(1),
              count: '0',
              explicitBounds: bounds(4000),
              bucketCounts: Array(4001).fill('0'),
            },
          ],
        },
      },
      reason: 'too_many_bounds',
    },
    {
      name: 'a metric name of 20 KB',
      metric: sumMetric('n'.repeat(20_000), [{ timeUnixNano: ns(1), asInt: '1' }]),
      reason: 'name_too_long',
    },
    {
      name: 'label text of 100 attributes × 1,000 characters (each within --max-label-value-length)',
      metric: sumMetric('m', [
        {
          timeUnixNano: ns(1),
          asInt: '1',
          attributes: bounds(100).map((i) => attr(`a${i}`, 'v'.repeat(1000))),
        },
      ]),
      reason: 'labels_too_long',
    },
    {
      name: 'a negative monotonic cumulative sum',
      metric: sumMetric('neg', [{ timeUnixNano: ns(1), asDouble: -5 }]),
      reason: 'bad_value',
    },
    {
      name: 'a point at time 2^64-1 (would freeze its series)',
      metric: sumMetric('frozen', [{ timeUnixNano: '18446744073709551615', asInt: '1' }]),
      reason: 'future_timestamp',
    },
    {
      name: 'a point 11 minutes ahead (default skew 10 min)',
      metric: sumMetric('ahead', [{ timeUnixNano: String(BigInt(NOW + 660_000) * 1_000_000n), asInt: '1' }]),
      reason: 'future_timestamp',
    },
    {
      name: 'an attribute value spelled with a lone surrogate (not valid UTF-8)',
      metric: sumMetric('u', [{ timeUnixNano: ns(1), asInt: '1', attributes: [attr('k', 'a\ud800b')] }]),
      reason: 'invalid_utf8',
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.reason}, in partial_success, the rest applied`, () => {
      const col = collector(c.over);
      const ok = sumMetric('fine', [{ timeUnixNano: ns(1), asInt: '7' }]);
      for (const body of [
        Buffer.from(JSON.stringify(req([c.metric, ok]))),
        encodeRequest(req([c.metric, ok])),
      ]) {
        const enc = body[0] === 0x7b ? 'json' : 'protobuf';
        const r = col.otlp.apply(decodeRequest(body, enc), NOW);
        assert.equal(r.accepted, 1, enc);
        assert.equal(r.refused, 1, enc);
        assert.match(r.message, new RegExp(`^${c.reason}:`), enc);
      }
      const text = col.render();
      assert.equal(refusedBy(text, c.reason), 2);
      assert.equal(sum(parseExposition(text), 'fine'), 7);
    });
  }
});

describe('a series too long to render is left out and counted; the rest is served', () => {
  it('a histogram allowed 100,000 bounds (by configuration) with long labels is not rendered', () => {
    const col = collector({ otlpMaxBounds: '100000', maxLineSize: '64KiB' });
    const n = 60_000;
    const h = {
      name: 'wide',
      histogram: {
        aggregationTemporality: 2,
        dataPoints: [
          {
            timeUnixNano: ns(1),
            count: '0',
            explicitBounds: Array.from({ length: n }, (_, i) => i),
            bucketCounts: Array(n + 1).fill(0),
            attributes: [attr('a', 'x'.repeat(1000))],
          },
        ],
      },
    };
    const r = col.otlp.apply(
      decodeRequest(
        encodeRequest(req([h, sumMetric('fine', [{ timeUnixNano: ns(1), asInt: '3' }])])),
        'protobuf',
      ),
      NOW,
    );
    assert.equal(r.accepted, 2);
    col.ingest.datagram(Buffer.from('statsd_ok:1|c'), NOW);
    const text = col.render();
    const s = parseExposition(text);
    assert.equal(sum(s, 'fine'), 3);
    assert.equal(sum(s, 'statsd_ok'), 1);
    assert.equal(sum(s, 'collector_series_unrendered_total'), 1);
    assert.ok(!text.includes('wide_bucket{'));
  });
});

describe('timestamps are compared as integers', () => {
  it('a point 1 ns older than the last one (equal as doubles) is out of order', () => {
    const col = collector();
    const t = 1_764_547_200_123_456_789n;
    const at = (d: bigint, v: number) =>
      decodeRequest(
        encodeRequest(req([sumMetric('c', [{ timeUnixNano: String(t + d), asInt: String(v) }])])),
        'protobuf',
      );
    assert.equal(col.otlp.apply(at(1n, 10), NOW).accepted, 1);
    const r = col.otlp.apply(at(0n, 5), NOW);
    assert.equal(r.refused, 1);
    assert.match(r.message, /^out_of_order:/);
    assert.equal(sum(parseExposition(col.render()), 'c'), 10);
  });
  it('a future point does not move the series clock: the next normal point applies', () => {
    const col = collector();
    const at = (t: string, v: number) =>
      decodeRequest(
        encodeRequest(req([sumMetric('c', [{ timeUnixNano: t, asInt: String(v) }])])),
        'protobuf',
      );
    assert.equal(col.otlp.apply(at(ns(1), 1), NOW).accepted, 1);
    assert.equal(col.otlp.apply(at('18446744073709551615', 99), NOW).refused, 1);
    assert.equal(col.otlp.apply(at(ns(2), 2), NOW).accepted, 1);
    assert.equal(sum(parseExposition(col.render()), 'c'), 2);
  });
});

describe('OTLP/JSON follows the proto3 JSON mapping: a wrong type is 400 naming the field', () => {
  const point = (p: object) => req([sumMetric('m', [{ timeUnixNano: ns(1), asInt: '1', ...p }])]);
  const cases: [string, object, RegExp][] = [
    ['asDouble "abc"', point({ asInt: undefined, asDouble: 'abc' }), /asDouble must be a number/],
    ['asInt beyond int64', point({ asInt: '99999999999999999999' }), /asInt must be a 64-bit integer/],
    ['timeUnixNano "1e18"', point({ timeUnixNano: '1e18' }), /timeUnixNano must be an unsigned 64-bit/],
    [
      'isMonotonic "false"',
      { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'm', sum: { isMonotonic: 'false' } }] }] }] },
      /isMonotonic must be true or false/,
    ],
    [
      'histogram count 1.9',
      req([
        {
          name: 'h',
          histogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: ns(1), count: 1.9 }] },
        },
      ]),
      /count must be an unsigned 64-bit/,
    ],
  ];
  for (const [name, body, msg] of cases) {
    it(name, () => {
      assert.throws(
        () => decodeRequest(Buffer.from(JSON.stringify(body)), 'json'),
        (e: unknown) => e instanceof OtlpDecodeError && e.status === 400 && msg.test(e.message),
      );
    });
  }
  it('more points than --otlp-max-points is 413, in both encodings', () => {
    const body = req([
      sumMetric(
        'm',
        Array.from({ length: 11 }, () => ({ timeUnixNano: ns(1), asInt: '1' })),
      ),
    ]);
    for (const [buf, enc] of [
      [Buffer.from(JSON.stringify(body)), 'json'],
      [encodeRequest(body), 'protobuf'],
    ] as const)
      assert.throws(
        () => decodeRequest(buf, enc, 10),
        (e: unknown) => e instanceof OtlpDecodeError && e.status === 413,
      );
  });
});

describe('protobuf strings that are not valid UTF-8 are refused point by point as invalid_utf8', () => {
  it('a metric name with a 0xFF byte', () => {
    const col = collector();
    const marker = 'zzzzzzzz';
    const body = encodeRequest(
      req([
        sumMetric(marker, [{ timeUnixNano: ns(1), asInt: '1' }]),
        sumMetric('ok', [{ timeUnixNano: ns(1), asInt: '1' }]),
      ]),
    );
    const i = body.indexOf(marker);
    body[i + 3] = 0xff;
    const r = col.otlp.apply(decodeRequest(body, 'protobuf'), NOW);
    assert.deepEqual([r.accepted, r.refused], [1, 1]);
    assert.match(r.message, /^invalid_utf8:/);
  });
});

describe('memory outside the byte budget is counted in --max-series-bytes', () => {
  it('OTLP histogram bounds', () => {
    const col = collector({ maxSeriesBytes: '64KiB' });
    const hist = (i: number) => ({
      name: 'h',
      histogram: {
        aggregationTemporality: 2,
        dataPoints: [
          {
            timeUnixNano: ns(1),
            count: '0',
            explicitBounds: Array.from({ length: 256 }, (_, k) => k),
            bucketCounts: Array(257).fill(0),
            attributes: [attr('i', String(i))],
          },
        ],
      },
    });
    const r = col.otlp.apply(
      decodeRequest(encodeRequest(req(Array.from({ length: 40 }, (_, i) => hist(i)))), 'protobuf'),
      NOW,
    );
    assert.ok(r.refused > 0, 'some series must be refused by the byte budget');
    assert.ok(col.ingest.store.bytes <= 64 * 1024, `bytes ${col.ingest.store.bytes}`);
    assert.equal(refusedBy(col.render(), 'max_series_bytes'), r.refused);
  });
  it('StatsD set members: charged while the window holds them, released when it closes', () => {
    const col = collector({ maxSeriesBytes: '64KiB' });
    for (let i = 0; i < 40; i++) col.ingest.datagram(Buffer.from(`users:${'m'.repeat(4000)}${i}|s`), NOW);
    const s = parseExposition(col.render());
    assert.ok(sum(s, 'collector_series_rejected_total', { reason: 'max_series_bytes' }) > 0);
    assert.ok(col.ingest.store.bytes <= 64 * 1024);
    const before = col.ingest.store.bytes;
    col.ingest.store.tick(NOW, 3_600_000);
    assert.ok(col.ingest.store.bytes < before - 4000 * 10);
  });
});

describe('StatsD: wrong numbers and DogStatsD non-metrics get reasons of their own', () => {
  const cases: [string, string][] = [
    ['c:1|c|@1e-320', 'bad_sample_rate'],
    ['t:5|ms|@1e-320', 'bad_sample_rate'],
    ['h:1e300|h|@1e-10', 'bad_sample_rate'],
    ['_e{1,1}:5|c', 'dogstatsd_event'],
    ['_e{5,4}:title|text|p:low', 'dogstatsd_event'],
    ['_sc|db.up|0|#env:prod', 'dogstatsd_service_check'],
  ];
  for (const [line, reason] of cases) {
    it(`${line} → ${reason}, nothing accepted`, () => {
      const col = collector();
      col.ingest.datagram(Buffer.from(line), NOW);
      const s = parseExposition(col.render());
      assert.equal(sum(s, 'collector_parse_errors_total', { reason }), 1);
      assert.equal(sum(s, 'collector_lines_accepted_total'), 0);
    });
  }
});
