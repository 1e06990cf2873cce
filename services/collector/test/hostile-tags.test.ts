// Issue 11, item 1: no tag a sender writes may become a label Prometheus rejects. Prometheus reserves every
// label name starting with "__" (one exposed __name__ makes the whole scrape fail, `up == 0`), and labels
// the collector sets itself ("le" on histograms, "container_id" from |c:) must not be doubled. In every tag
// syntax such a tag is dropped, the line kept, and the tag counted in collector_tag_errors_total{reason}.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Ingest, parseLine } from '../src/index.ts';
import { parseExposition, quietSelf, renderText, sum, testIngest } from '../testkit/helpers.ts';

type Row = [title: string, line: string, labels: Record<string, string>, reasons: Record<string, number>];

const rows: Row[] = [
  ['DogStatsD __name__', 'x:1|c|#__name__:y,a:b', { a: 'b' }, { reserved: 1 }],
  ['DogStatsD #-prefixed __name__', 'x:1|c|#a:b,#__name__:y', { a: 'b' }, { reserved: 1 }],
  ['DogStatsD other __ name', 'x:1|c|#__meta_x:y', {}, { reserved: 1 }],
  ['DogStatsD __ after sanitising (..x)', 'x:1|c|#..x:y', {}, { reserved: 1 }],
  ['DogStatsD __ after sanitising (-_x)', 'x:1|c|#-_x:y', {}, { reserved: 1 }],
  ['DogStatsD __ in a second tag component', 'x:1|c|#a:b|#__name__:y', { a: 'b' }, { reserved: 1 }],
  ['InfluxDB __name__', 'x,__name__=y,a=b:1|c', { a: 'b' }, { reserved: 1 }],
  ['Librato __name__', 'x#__name__=y:1|c', {}, { reserved: 1 }],
  ['SignalFx __name__', 'x.[__name__=y,a=b]z:1|c', { a: 'b' }, { reserved: 1 }],
  ['SignalFx __address__', 'x.[__address__=y]:1|g', {}, { reserved: 1 }],
  ['one leading _ stays', 'x:1|c|#_a:b', { _a: 'b' }, {}],
  ['le on a histogram (DogStatsD)', 'x:1|h|#le:5', {}, { collision: 1 }],
  ['le on a timer (InfluxDB)', 'x,le=5:1|ms', {}, { collision: 1 }],
  ['le on a distribution (SignalFx)', 'x.[le=5]:1|d', {}, { collision: 1 }],
  ['le on a histogram (Librato)', 'x#le=5:1|h', {}, { collision: 1 }],
  ['le on a counter', 'x:1|c|#le:5', {}, { collision: 1 }],
  ['quantile on a gauge (InfluxDB)', 'x,quantile=0.5:1|g', {}, { collision: 1 }],
  ['container_id next to |c:', 'x:1|c|#container_id:evil|c:abc', { container_id: 'abc' }, { collision: 1 }],
  ['container_id without |c: is a tag', 'x:1|c|#container_id:abc', { container_id: 'abc' }, {}],
  ['duplicate after sanitising', 'x:1|c|#a.b:1,a_b:2', { a_b: '2' }, { duplicate: 1 }],
];

function ingest(): Ingest {
  return testIngest({ maxSeries: 1000, buckets: [0.1, 1], maxSetSize: 100 });
}

function render(ing: Ingest): string {
  return renderText(ing, quietSelf({ sourceActiveWindowMs: 1 }));
}

describe('hostile tags: parser', () => {
  for (const [title, line, labels, reasons] of rows) {
    it(`${title}: ${line}`, () => {
      const v = parseLine(line);
      assert.ok(v.ok, `accepted: ${JSON.stringify(v)}`);
      assert.deepEqual(v.line.labels, labels);
      assert.deepEqual(v.line.tagErrorReasons, reasons);
    });
  }
});

describe('hostile tags: ingest and exposition', () => {
  it('every hostile line is kept, counted by reason, twice (cached path too), and no __ label is exposed', () => {
    const ing = ingest();
    // Each row its own metric name: x is a counter in one row and a histogram in another (type_conflict).
    const text = rows.map((r, i) => `r${i}_${r[1]}`).join('\n');
    ing.datagram(Buffer.from(text), 1000);
    ing.datagram(Buffer.from(text), 1000);
    assert.equal(ing.stats.lines[0], rows.length * 2);
    assert.equal(ing.stats.linesAccepted, rows.length * 2, 'no line dropped for a bad tag');
    const samples = parseExposition(render(ing));
    const want: Record<string, number> = { malformed: 0, reserved: 0, collision: 0, duplicate: 0 };
    for (const [, , , reasons] of rows) for (const [k, n] of Object.entries(reasons)) want[k]! += n * 2;
    for (const [reason, n] of Object.entries(want))
      assert.equal(sum(samples, 'collector_tag_errors_total', { reason }), n, reason);
    for (const s of samples)
      for (const k of Object.keys(s.labels)) assert.ok(!k.startsWith('__'), `${s.name} exposes ${k}`);
    for (const s of samples.filter((x) => x.name.endsWith('_bucket')))
      assert.equal(Object.keys(s.labels).filter((k) => k === 'le').length, 1);
  });
});
