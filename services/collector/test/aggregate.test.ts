// Aggregation through the pure core (Ingest): bytes in, series and counters out. No sockets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '@pushpull/common';
import type { Ingest } from '../src/index.ts';
import { LineScan, scanLine, viewOf } from '../src/parse/scan.ts';
import { testIngest } from '../testkit/helpers.ts';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function ingest(over: Partial<ConstructorParameters<typeof Ingest>[0]> = {}): Ingest {
  return testIngest({ maxSeries: 1000, buckets: BUCKETS, maxSetSize: 1000, ...over });
}

function send(ing: Ingest, text: string | Buffer, nowMs = 1000): void {
  ing.datagram(typeof text === 'string' ? Buffer.from(text) : text, nowMs);
}

function series(ing: Ingest, family: string, labels = '') {
  const s = ing.store.families.get(family)?.series.get(labels);
  assert.ok(s, `series ${family}{${labels}} exists; families: ${[...ing.store.families.keys()].join(',')}`);
  return s;
}

function reason(ing: Ingest, name: string): number {
  const i = [
    'ok',
    'malformed_line',
    'empty_name',
    'bad_value',
    'unknown_type',
    'bad_sample_rate',
    'bad_timestamp',
    'unknown_component',
    'multi_value_not_allowed',
    'negative_counter',
    'invalid_utf8',
    'mixed_tag_styles',
    'line_too_long',
    'type_conflict',
    'name_conflict',
    'set_full',
  ].indexOf(name);
  assert.ok(i > 0, name);
  return ing.stats.parseErrors[i]!;
}

function assertBalanced(ing: Ingest): void {
  const st = ing.stats;
  const errors = st.parseErrors.reduce((a, b) => a + b, 0);
  assert.equal(st.lines[0]! + st.lines[1]!, st.linesAccepted + errors + st.seriesRejected, 'lines balance');
}

describe('counters', () => {
  it('sum, and a sample rate scales by 1/r', () => {
    const ing = ingest();
    send(ing, 'orders:1|c\norders:2|c\norders:1|c|@0.1');
    assert.equal(series(ing, 'orders').value, 13);
    assert.equal(ing.stats.samples[0], 3);
    assertBalanced(ing);
  });
  it('tag order and tag style do not split a series', () => {
    const ing = ingest();
    send(ing, 'orders:1|c|#a:1,b:2\norders:1|c|#b:2,a:1\norders,a=1,b=2:1|c\norders#b=2,a=1:1|c');
    assert.equal(ing.store.seriesCount, 1);
    assert.equal(series(ing, 'orders', 'a="1",b="2"').value, 4);
  });
  it('the same line many times hits the key cache and keeps counting', () => {
    const ing = ingest();
    for (let i = 0; i < 1000; i++) send(ing, 'orders:1|c|#region:ap,pod:p1\norders:1|c|#region:eu,pod:p1');
    assert.equal(series(ing, 'orders', 'pod="p1",region="ap"').value, 1000);
    assert.equal(series(ing, 'orders', 'pod="p1",region="eu"').value, 1000);
    assert.equal(ing.stats.linesAccepted, 2000);
  });
  it('--strict-names appends _total (once)', () => {
    const ing = ingest({ strictNames: true });
    send(ing, 'orders:1|c\nrequests_total:2|c\nq:3|g');
    assert.equal(series(ing, 'orders_total').value, 1);
    assert.equal(series(ing, 'requests_total').value, 2);
    assert.equal(series(ing, 'q').value, 3);
  });
});

describe('gauges', () => {
  it('absolute sets, +n/-n adjust, a new gauge adjusts from 0', () => {
    const ing = ingest();
    send(ing, 'g:10|g\ng:+5|g\ng:-3|g\nh:-2|g');
    assert.equal(series(ing, 'g').value, 12);
    assert.equal(series(ing, 'h').value, -2);
    send(ing, 'g:4|g');
    assert.equal(series(ing, 'g').value, 4);
  });
});

describe('histograms', () => {
  it('timers are observed in seconds into the buckets', () => {
    const ing = ingest();
    send(ing, 'lat:3|ms\nlat:47.2|ms\nlat:2000|ms\nlat:20000|ms\nlat:5|ms');
    const s = series(ing, 'lat');
    // per-bucket: <=0.005: 3ms, 5ms; <=0.05: 47.2ms; <=2.5: 2s; +Inf: 20s
    assert.deepEqual(Array.from(s.buckets!), [2, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1]);
    assert.equal(s.count, 5);
    assert.ok(Math.abs(s.sum - (0.003 + 0.0472 + 2 + 20 + 0.005)) < 1e-12);
  });
  it('h and d keep the value as sent; multi-value with a rate counts each value 1/r times', () => {
    const ing = ingest();
    send(ing, 'size:1:2|h|@0.5\ndist:7|d');
    const s = series(ing, 'size');
    assert.equal(s.count, 4);
    assert.equal(s.sum, 6);
    assert.equal(series(ing, 'dist').sum, 7);
    assert.equal(ing.stats.samples[3], 2, 'two h samples');
    assert.equal(ing.stats.samples[4], 1, 'one d sample');
  });
  it('ms, h and d share one family when they share a name', () => {
    const ing = ingest();
    send(ing, 'x:1000|ms\nx:1|h\nx:1|d');
    assert.equal(series(ing, 'x').count, 3);
    assert.equal(series(ing, 'x').sum, 3);
  });
});

describe('sets', () => {
  it('count distinct members per flush window', () => {
    const ing = ingest();
    send(ing, 'u:alice|s\nu:bob|s\nu:alice|s');
    const s = series(ing, 'u');
    assert.equal(s.members!.size, 2);
    ing.store.tick(2000, 3_600_000);
    assert.equal(s.lastWindow, 2);
    assert.equal(s.members!.size, 0);
    send(ing, 'u:carol|s');
    ing.store.tick(3000, 3_600_000);
    assert.equal(s.lastWindow, 1);
  });
  it('a full set drops new members (set_full) but still takes known ones', () => {
    const ing = ingest({ maxSetSize: 2 });
    send(ing, 'u:a|s\nu:b|s\nu:c|s\nu:a|s');
    assert.equal(reason(ing, 'set_full'), 1);
    assert.equal(ing.stats.linesAccepted, 3);
    assertBalanced(ing);
  });
});

describe('conflicts', () => {
  it('a name used with another type is dropped as type_conflict, every time', () => {
    const ing = ingest();
    send(ing, 'x:1|c\nx:1|g\nx:1|g\nx:1|ms');
    assert.equal(reason(ing, 'type_conflict'), 3);
    assert.equal(series(ing, 'x').value, 1);
    assertBalanced(ing);
  });
  it('histogram suffixes and self-metric names are taken (name_conflict)', () => {
    const ing = ingest();
    send(ing, 'lat:1|ms\nlat_count:1|g\nlat_bucket:1|c\ncollector_series:1|g\ncollector_packets_total:1|c');
    assert.equal(reason(ing, 'name_conflict'), 4);
    send(ing, 'y_sum:1|g\ny:1|h');
    assert.equal(reason(ing, 'name_conflict'), 5, 'a histogram cannot take a name whose _sum exists');
  });
});

describe('cardinality limit', () => {
  it('refuses new series past --max-series, counts them, keeps updating existing ones', () => {
    const ing = ingest({ maxSeries: 3 });
    for (let i = 0; i < 5; i++) send(ing, `orders:1|c|#pod:p${i}`);
    assert.equal(ing.store.seriesCount, 3);
    assert.equal(ing.stats.seriesRejected, 2);
    send(ing, 'orders:1|c|#pod:p0\nnew_family:1|c');
    assert.equal(series(ing, 'orders', 'pod="p0"').value, 2);
    assert.equal(ing.stats.seriesRejected, 3);
    assert.equal(ing.store.families.has('new_family'), false);
    assertBalanced(ing);
  });
  it('a refused line still proves its source alive', () => {
    const ing = ingest({ maxSeries: 1 });
    send(ing, 'a:1|c', 1000);
    send(ing, 'heartbeat:1|c|#pod:late', 5000);
    assert.equal(ing.store.sources.get('late')?.lastSeenMs, 5000);
  });
});

describe('source liveness', () => {
  it('tracks last seen per source, expires after the TTL, comes back when seen again', () => {
    const ing = ingest();
    send(ing, 'heartbeat:1|c|#pod:a\nheartbeat:1|c|#pod:b', 1000);
    send(ing, 'orders:1|c|#pod:a,region:x', 20_000);
    assert.equal(ing.store.sources.get('a')?.lastSeenMs, 20_000);
    assert.equal(ing.store.sources.get('b')?.lastSeenMs, 1000);
    assert.equal(ing.store.activeSources(25_000, 10_000), 1);
    assert.equal(ing.store.activeSources(25_000, 30_000), 2);
    ing.store.tick(70_000, 60_000); // b last seen 69 s ago > ttl 60 s
    assert.deepEqual([...ing.store.sources.keys()], ['a']);
    send(ing, 'heartbeat:1|c|#pod:b', 80_000);
    assert.equal(ing.store.sources.get('b')?.lastSeenMs, 80_000);
  });
  it('the source tag is configurable', () => {
    const ing = ingest({ sourceTag: 'host' });
    send(ing, 'x:1|c|#host:h1,pod:p1');
    assert.deepEqual([...ing.store.sources.keys()], ['h1']);
  });
});

describe('drops and accounting', () => {
  it('every line ends in exactly one outcome', () => {
    const ing = ingest({ maxSeries: 5 });
    send(ing, 'ok:1|c\nbad\n:1|c\nx:abc|c\nq:1:2|g\n\n\nx,a=b:1|c|#c:d\nz:1|c|@7');
    for (let i = 0; i < 10; i++) send(ing, `s${i}:1|c`);
    assertBalanced(ing);
    assert.equal(ing.stats.lines[0], 17, 'empty lines are not lines');
    assert.equal(reason(ing, 'malformed_line'), 1);
    assert.equal(reason(ing, 'empty_name'), 1);
    assert.equal(reason(ing, 'bad_value'), 1);
    assert.equal(reason(ing, 'multi_value_not_allowed'), 1);
    assert.equal(reason(ing, 'mixed_tag_styles'), 1);
    assert.equal(reason(ing, 'bad_sample_rate'), 1);
  });
  it('a datagram over --max-packet-size is dropped whole and counted', () => {
    const ing = ingest({ maxPacketSize: 32 });
    send(ing, `${'a:1|c\n'.repeat(10)}`);
    assert.equal(ing.stats.packets[0], 1);
    assert.equal(ing.stats.packetsTooLarge[0], 1);
    assert.equal(ing.stats.lines[0], 0);
  });
  it('tag errors are counted per line, also on the cached path', () => {
    const ing = ingest();
    send(ing, 'x:1|c|#novalue\nx:1|c|#novalue');
    assert.equal(ing.stats.tagErrors[0], 2, 'malformed');
  });
  it('a bad line does not disturb its neighbours', () => {
    const ing = ingest();
    send(ing, Buffer.concat([Buffer.from('a:1|c\nb'), Buffer.from([0xff]), Buffer.from(':1|c\nc:2|c')]));
    assert.equal(series(ing, 'a').value, 1);
    assert.equal(series(ing, 'c').value, 2);
    assert.equal(reason(ing, 'invalid_utf8'), 1);
  });
});

describe('key cache', () => {
  it('two keys with the same hash stay two series', () => {
    // Find a real collision of the 30-bit key hash by brute force (birthday bound: ~40k keys).
    const SEED = 12345;
    const s = new LineScan(16, SEED);
    const seen = new Map<number, string>();
    const rng = new Rng(11);
    let pair: [string, string] | null = null;
    for (let i = 0; i < 400_000 && pair === null; i++) {
      const line = `k${rng.int(0, 1e9).toString(36)}:1|c`;
      const b = Buffer.from(line);
      assert.equal(scanLine(b, viewOf(b), 0, b.length, s, 8192), 0);
      const prev = seen.get(s.hash);
      if (prev !== undefined && prev !== line) pair = [prev, line];
      else seen.set(s.hash, line);
    }
    assert.ok(pair, 'found a colliding pair');
    const ing = ingest({ hashSeed: SEED });
    const [a, b] = pair;
    send(ing, `${a}\n${b}\n${b}\n${a}\n${b}`);
    assert.equal(ing.store.seriesCount, 2);
    assert.equal(series(ing, a.slice(0, a.indexOf(':'))).value, 2);
    assert.equal(series(ing, b.slice(0, b.indexOf(':'))).value, 3);
  });
  it('a key hashes the same wherever it sits in a packet (word-at-a-time scan, any alignment, at the end)', () => {
    const lines = [
      'orders:1|c|#region:ap-south-1a,pod:p17',
      'a:1|c',
      'abcd:1|ms|#k:v',
      'x,a=b:1|g',
      'y:1|h|#t:1|c:cid',
    ];
    const s = new LineScan(16);
    for (const line of lines) {
      const hashes = new Set<number>();
      for (let pad = 0; pad < 8; pad++) {
        for (const tail of ['', '\nz:1|c', '\n']) {
          const b = Buffer.from(`${'p'.repeat(pad)}${pad ? ':1|c\n' : ''}${line}${tail}`);
          const at = pad ? pad + 5 : 0;
          assert.equal(scanLine(b, viewOf(b), at, b.length, s, 8192), 0, `${line} at ${at}`);
          hashes.add(s.hash);
        }
      }
      assert.equal(hashes.size, 1, `${line}: one hash for 24 placements`);
    }
    const ing = ingest();
    send(ing, 'orders:1|c|#pod:p1');
    send(ing, 'xx:1|c\norders:1|c|#pod:p1\nyy:1|c');
    send(ing, 'xxx:1|c\norders:1|c|#pod:p1');
    assert.equal(series(ing, 'orders', 'pod="p1"').value, 3);
  });
  it('a crowded hash bucket (40 keys, one bucket) still counts every key right', () => {
    const SEED = 777;
    const s = new LineScan(16, SEED);
    const rng = new Rng(5);
    const keys: string[] = [];
    let bucket = -1;
    for (let i = 0; i < 2_000_000 && keys.length < 40; i++) {
      const line = `q${rng.int(0, 1e9).toString(36)}:1|c`;
      const b = Buffer.from(line);
      scanLine(b, viewOf(b), 0, b.length, s, 8192);
      if (bucket < 0) bucket = s.hash & 1023;
      if ((s.hash & 1023) === bucket && !keys.includes(line)) keys.push(line);
    }
    assert.equal(keys.length, 40);
    const ing = ingest({ hashSeed: SEED });
    for (let round = 1; round <= 3; round++) send(ing, keys.join('\n'));
    for (const k of keys) assert.equal(series(ing, k.slice(0, k.indexOf(':'))).value, 3, k);
    assert.equal(ing.stats.linesAccepted, 120);
  });
  it('the cache is bounded: many spellings of few series still count right', () => {
    const ing = ingest({ maxSeries: 10 }); // cache holds max(1024, 20) keys
    for (let i = 0; i < 5000; i++) send(ing, `x:1|c|#a:${i},a:1,b:${i % 3}`); // last a wins: 3 series
    assert.equal(ing.store.seriesCount, 3);
    let total = 0;
    for (const s of ing.store.families.get('x')!.series.values()) total += s.value;
    assert.equal(total, 5000);
  });
});
