// Issue 11, item 3: memory is bounded by bytes, not only by the series count. 25,000 lines each with an
// 8 KB tag value once took the collector from 48 MB to 517 MB of RSS; with the default budget
// (--max-label-value-length 1KiB, --max-series-bytes 64MiB) they are refused, counted by reason, and
// leave nothing behind (no series, no cache entry).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ingest, resolveConfig, SELF_METRIC_NAMES } from '../src/index.ts';

function ingest(over: Partial<ConstructorParameters<typeof Ingest>[0]> = {}): Ingest {
  const c = resolveConfig({}); // the documented defaults
  return new Ingest({
    maxSeries: c.maxSeries,
    buckets: c.buckets,
    strictNames: false,
    sourceTag: c.sourceTag,
    maxSetSize: c.maxSetSize,
    reservedNames: SELF_METRIC_NAMES,
    maxLineSize: c.maxLineSize,
    maxPacketSize: c.maxPacketSize,
    maxLabelValueLength: c.maxLabelValueLength,
    maxSeriesBytes: c.maxSeriesBytes,
    ...over,
  });
}

function balanced(ing: Ingest): void {
  const st = ing.stats;
  const errors = st.parseErrors.reduce((a, b) => a + b, 0);
  assert.equal(st.lines[0]! + st.lines[1]!, st.linesAccepted + errors + st.seriesRejected, 'lines balance');
  assert.equal(
    st.seriesRejected,
    st.seriesRejectedBy.reduce((a, b) => a + b, 0),
    'rejections by reason sum up',
  );
}

const REASON = { max_series: 0, label_value_too_long: 1, max_series_bytes: 2 } as const;

describe('memory budget by bytes', () => {
  it('defaults: 25,000 lines with an 8 KB tag value are refused, counted, and hold no memory', () => {
    const ing = ingest();
    const pad = 'v'.repeat(8000);
    const heap0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < 25_000; i++) ing.datagram(Buffer.from(`big:1|c|#id:${i}${pad}`), 1000);
    const grown = process.memoryUsage().heapUsed - heap0;
    assert.equal(ing.stats.seriesRejectedBy[REASON.label_value_too_long], 25_000);
    assert.equal(ing.store.seriesCount, 0);
    assert.equal(ing.store.families.size, 0, 'a refused line creates no family');
    // 25,000 × 8 KB kept would be ≥ 200 MB (twice: label text and raw-key cache); garbage from the slow
    // path is at most what the young generation holds between scavenges.
    assert.ok(grown < 64 * 1024 * 1024, `heap grew ${(grown / 2 ** 20).toFixed(1)} MiB`);
    balanced(ing);
  });

  it('a value at the limit is kept, one byte (or one multi-byte character) more is refused', () => {
    const ing = ingest({ maxLabelValueLength: 16 });
    ing.datagram(Buffer.from(`x:1|c|#a:${'a'.repeat(16)}\nx:1|c|#a:${'a'.repeat(17)}`), 1);
    ing.datagram(Buffer.from(`x:1|c|#a:${'é'.repeat(8)}\nx:1|c|#a:${'é'.repeat(8)}b`), 1);
    assert.equal(ing.stats.linesAccepted, 2);
    assert.equal(ing.stats.seriesRejectedBy[REASON.label_value_too_long], 2);
    balanced(ing);
  });

  it('the limit holds in every tag syntax', () => {
    const ing = ingest({ maxLabelValueLength: 8 });
    const v = 'x'.repeat(9);
    ing.datagram(
      Buffer.from([`a:1|c|#k:${v}`, `b,k=${v}:1|c`, `c#k=${v}:1|c`, `d.[k=${v}]:1|c`].join('\n')),
      1,
    );
    assert.equal(ing.stats.seriesRejectedBy[REASON.label_value_too_long], 4);
    balanced(ing);
  });

  it('--max-series-bytes: new series beyond the budget are refused, existing ones keep counting', () => {
    const budget = 64 * 1024;
    const ing = ingest({ maxSeriesBytes: budget });
    const pad = 'p'.repeat(500);
    for (let i = 0; i < 1000; i++) ing.datagram(Buffer.from(`s:1|c|#id:${i}${pad}`), 1);
    const kept = ing.store.seriesCount;
    assert.ok(kept > 10 && kept < 1000, `kept ${kept}`);
    assert.ok(ing.store.bytes <= budget, `store holds ${ing.store.bytes} B`);
    assert.equal(ing.stats.seriesRejectedBy[REASON.max_series_bytes], 1000 - kept);
    // an existing series still takes lines
    ing.datagram(Buffer.from(`s:1|c|#id:0${pad}`), 2);
    assert.equal(ing.store.families.get('s')!.series.get(`id="0${pad}"`)!.value, 2);
    balanced(ing);
  });

  it('--max-series stays a reason of its own', () => {
    const ing = ingest({ maxSeries: 2 });
    ing.datagram(Buffer.from('a:1|c\nb:1|c\nc:1|c\nb:1|c|#k:v'), 1);
    assert.equal(ing.stats.seriesRejectedBy[REASON.max_series], 2);
    balanced(ing);
  });
});
