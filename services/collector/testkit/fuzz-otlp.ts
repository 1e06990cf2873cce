// Structure-aware fuzzing of the OTLP receiver (fast-check), shared by the seeded test in `npm test`
// (fuzz-otlp.test.ts) and the long run (bench/fuzz-otlp.bench.ts). One case = one ExportMetricsServiceRequest
// built from the message structure (every metric type, hostile names and attributes, bad times, values,
// bounds and counts), encoded as protobuf or OTLP/JSON, sometimes with a field of the wrong JSON type or a
// few bytes flipped, inserted or cut. Each case runs through decode → apply on a fresh collector core and
// a shared one: decoding throws only OtlpDecodeError (400/413/415), applying never throws, every decoded
// point ends in exactly one outcome (accepted or refused by reason) and the rendered /metrics is valid
// text format whose self-metrics say the same.
import fc from 'fast-check';
import { type ApplyResult, OTLP_REFUSAL_REASONS } from '../src/aggregate/otlp.ts';
import { type Collector, createCollector } from '../src/index.ts';
import { decodeRequest, type ExportRequest, encodeRequest, OtlpDecodeError } from '../src/parse/otlp.ts';
import { checkExposition } from './fuzz-lines.ts';

export const T0 = 1_764_547_200_000_000_000n;
export const NOW = Number(T0 / 1_000_000n) + 3_600_000;

const HOSTILE_KEYS = [
  '__name__',
  '__x',
  'le',
  'quantile',
  'pod',
  'service.name',
  'a.b',
  'a_b',
  '',
  'k\ud800',
];
// split by code point: the emoji stays whole (lone surrogates are drawn on purpose, above and below)
const keyChar = fc.constantFrom(...[...'abcXYZ019_.-:é😀 "\\\n']);
const str = (max: number) => fc.string({ unit: keyChar, maxLength: max });
const key = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_KEYS) },
  { weight: 3, arbitrary: str(8) },
);
const anyValue: fc.Arbitrary<object> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: str(12).map((s) => ({ stringValue: s })) },
    { weight: 1, arbitrary: fc.constantFrom('a\ud800', 'x'.repeat(1100)).map((s) => ({ stringValue: s })) },
    fc.boolean().map((b) => ({ boolValue: b })),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => ({ intValue: String(n) })),
    fc.double().map((d) => ({ doubleValue: d })),
    fc.array(tie('v'), { maxLength: 2 }).map((values) => ({ arrayValue: { values } })),
    fc
      .array(fc.record({ key, value: tie('v') }), { maxLength: 2 })
      .map((values) => ({ kvlistValue: { values } })),
  ),
})).v;
const attributes = fc.array(fc.record({ key, value: anyValue }), { maxLength: 4 });
const time = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.integer({ min: 0, max: 3900 }).map((s) => String(T0 + BigInt(s) * 1_000_000_000n)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '0',
      '1',
      '18446744073709551615',
      String(T0 + 3_601_000_000_000n),
      String(T0 + 10n ** 15n),
    ),
  },
);
const number = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -5, max: 1000 }).map((n) => ({ asInt: String(n) })) },
  { weight: 3, arbitrary: fc.double().map((d) => ({ asDouble: d })) },
  { weight: 1, arbitrary: fc.constant({}) },
);
const numberPoint = fc
  .record({ attributes, timeUnixNano: time, n: number, flags: fc.constantFrom(0, 0, 0, 0, 0, 0, 1) })
  .map(({ n, ...p }) => ({ ...p, ...n }));
const histPoint = fc
  .record({
    attributes,
    timeUnixNano: time,
    bounds: fc.array(fc.double({ noNaN: true }), { maxLength: 6 }),
    counts: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 7 }),
    sorted: fc.boolean(),
    sum: fc.double(),
  })
  .map(({ bounds, counts, sorted, ...p }) => {
    const b = sorted ? [...new Set(bounds.filter(Number.isFinite))].sort((x, y) => x - y) : bounds;
    const c = sorted ? Array.from({ length: b.length + 1 }, (_, i) => counts[i] ?? 0) : counts;
    return {
      ...p,
      explicitBounds: b,
      bucketCounts: c.map(String),
      count: String(c.reduce((x, y) => x + y, 0)),
    };
  });
const name = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('orders', 'orders.accepted', 'q', 'lat', 'h_bucket', '1st') },
  { weight: 1, arbitrary: fc.constantFrom('collector_series', '__n', '', 'n\ud800', 'n'.repeat(300)) },
  { weight: 2, arbitrary: str(10) },
);
const temporality = fc.constantFrom(0, 1, 1, 2, 2, 2, 2);
const gaugeM = fc.record({ name, gauge: fc.record({ dataPoints: fc.array(numberPoint, { maxLength: 4 }) }) });
const sumM = fc.record({
  name,
  sum: fc.record({
    aggregationTemporality: temporality,
    isMonotonic: fc.boolean(),
    dataPoints: fc.array(numberPoint, { maxLength: 4 }),
  }),
});
const histM = fc.record({
  name,
  histogram: fc.record({
    aggregationTemporality: temporality,
    dataPoints: fc.array(histPoint, { maxLength: 3 }),
  }),
});
const summaryM = fc.record({
  name,
  summary: fc.record({ dataPoints: fc.array(fc.constant({}), { maxLength: 2 }) }),
});
const metric = fc.oneof(
  { weight: 3, arbitrary: gaugeM },
  { weight: 3, arbitrary: sumM },
  { weight: 3, arbitrary: histM },
  { weight: 1, arbitrary: summaryM },
  { weight: 1, arbitrary: fc.record({ name }) },
);
export const request = fc.record({
  resourceMetrics: fc.array(
    fc.record({
      resource: fc.record({ attributes }),
      scopeMetrics: fc.array(fc.record({ metrics: fc.array(metric, { maxLength: 4 }) }), { maxLength: 2 }),
    }),
    { maxLength: 3 },
  ),
});

const mutation = fc.tuple(
  fc.nat(),
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom('set', 'insert', 'cut'),
);
const WRONG = ['"abc"', '1.9', '"1e18"', '"false"', '[]', '{}', '"99999999999999999999"'];

/** One case: a request, its encoding, and what damage is done to the bytes. */
export const body = fc
  .record({
    req: request,
    json: fc.boolean(),
    muts: fc.array(mutation, { maxLength: 2 }),
    damage: fc.constantFrom('none', 'none', 'none', 'bytes', 'type'),
    wrong: fc.constantFrom(...WRONG),
  })
  .map(({ req, json, muts, damage, wrong }) => {
    let b = json ? Buffer.from(JSON.stringify(req)) : encodeRequest(req);
    if (damage === 'type' && json) {
      // a scalar field of the wrong JSON type: the first number or string value after some key
      const s = b.toString();
      const at = muts[0]?.[0] ?? 0;
      const re =
        /"(asInt|asDouble|timeUnixNano|count|isMonotonic|aggregationTemporality|flags)":("[^"]*"|[-\d.e]+|true|false)/g;
      const hits = [...s.matchAll(re)];
      const h = hits.length > 0 ? hits[at % hits.length] : undefined;
      if (h !== undefined)
        b = Buffer.from(`${s.slice(0, h.index)}"${h[1]}":${wrong}${s.slice(h.index + h[0].length)}`);
    } else if (damage === 'bytes') {
      for (const [at, byte, op] of muts) {
        if (b.length === 0) break;
        const i = at % b.length;
        if (op === 'set') b[i] = byte;
        else if (op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
        else b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
      }
    }
    return { bytes: b, encoding: json ? ('json' as const) : ('protobuf' as const) };
  });

export function newCollector(): Collector {
  return createCollector(
    {
      statsdUdp: '127.0.0.1:0',
      statsdTcp: 'off',
      http: '127.0.0.1:0',
      otlpHttp: '127.0.0.1:0',
      maxSeries: '20000',
      otlpMaxPoints: '1000',
    },
    { logger: { info() {}, warn() {}, error() {} } as never },
  );
}

/** Points a decoded request carries, counted the way apply() counts outcomes. */
export function pointsOf(req: ExportRequest): number {
  let n = 0;
  for (const rm of req.resourceMetrics ?? [])
    for (const sm of rm.scopeMetrics ?? [])
      for (const m of sm.metrics ?? []) {
        const pts = m.gauge?.dataPoints ?? m.sum?.dataPoints ?? m.histogram?.dataPoints ?? undefined;
        if (m.gauge != null || m.sum != null || m.histogram != null) n += pts?.length ?? 0;
        else n += m.exponentialHistogram?.dataPoints?.length ?? m.summary?.dataPoints?.length ?? 1;
      }
  return n;
}

export interface Tally {
  cases: number;
  /** protobuf bodies the streaming check refused that the whole decode took (stricter wire types). */
  streamRefused?: number;
  undecodable: Record<number, number>;
  points: number;
}

/** One case through a fresh core and the shared one: throws when a property is broken. */
export function checkCase(
  b: { bytes: Buffer; encoding: 'json' | 'protobuf' },
  shared: Collector,
  t: Tally,
): void {
  t.cases++;
  // The streaming path the receiver takes for protobuf (checked whole, then applied metric by metric)
  const streamed = b.encoding === 'protobuf' ? streamedResult(b.bytes) : null;
  let req: ExportRequest;
  try {
    req = decodeRequest(b.bytes, b.encoding, 1000);
  } catch (e) {
    if (!(e instanceof OtlpDecodeError)) throw new Error(`decode threw ${String(e)}`);
    if (streamed !== null && streamed !== 'refused')
      throw new Error('streamed applied a body that does not decode');
    t.undecodable[e.status] = (t.undecodable[e.status] ?? 0) + 1;
    return;
  }
  const c = newCollector();
  const want = pointsOf(req);
  const r = c.otlp.apply(req, NOW);
  shared.otlp.apply(req, NOW);
  t.points += want;
  if (r.accepted + r.refused !== want) throw new Error(`points ${want} != ${r.accepted} + ${r.refused}`);
  // streaming may refuse more strictly (a known field of the wrong wire type), never apply differently
  if (streamed === 'refused') t.streamRefused = (t.streamRefused ?? 0) + 1;
  else if (streamed !== null && JSON.stringify(streamed) !== JSON.stringify(r))
    throw new Error(`streamed ${JSON.stringify(streamed)} != decoded ${JSON.stringify(r)}`);
  const st = c.otlp.stats;
  const refused = st.refusedBy.reduce((x, y) => x + y, 0);
  if (st.pointsAccepted !== r.accepted || refused !== r.refused)
    throw new Error('stats differ from the answer');
  const text = c.render();
  checkExposition(text);
  const lines = [
    `collector_otlp_points_total{outcome="accepted"} ${r.accepted}`,
    `collector_otlp_points_total{outcome="refused"} ${r.refused}`,
    ...OTLP_REFUSAL_REASONS.map(
      (x, i) => `collector_otlp_points_refused_total{reason="${x}"} ${st.refusedBy[i]}`,
    ),
  ];
  for (const l of lines) if (!text.includes(`\n${l}\n`)) throw new Error(`exposition lacks "${l}"`);
}

/** The receiver's streaming path on a fresh core: its answer, or 'refused' (only OtlpDecodeError may escape). */
function streamedResult(body: Buffer): ApplyResult | 'refused' {
  const c = newCollector();
  try {
    const it = c.otlp.applyProtobufSteps(body, 1000, NOW);
    for (;;) {
      const s = it.next();
      if (s.done) return s.value;
    }
  } catch (e) {
    if (!(e instanceof OtlpDecodeError)) throw new Error(`streaming threw ${String(e)}`);
    if (c.otlp.stats.pointsAccepted > 0) throw new Error('streaming applied points of a refused request');
    return 'refused';
  }
}
