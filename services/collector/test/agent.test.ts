// Agent mode's parts, table-driven: the store's news as OTLP delta points, batches within the receiver's
// limits, and the forwarder's queue, retries, Retry-After and partial_success against a real HTTP server on
// 127.0.0.1 (port 0) that decodes what it gets with the collector's own OTLP decoder.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { systemClock } from '@pushpull/common';
import { toBatches } from '../src/agent/batches.ts';
import { AgentBooks } from '../src/agent/books.ts';
import { Forwarder, retryAfterMs } from '../src/agent/forwarder.ts';
import { DeltaTracker, type OutPoint, parseLabelsText } from '../src/agent/points.ts';
import { decodeRequest, type ExportRequest, encodeResponse } from '../src/parse/otlp.ts';
import { testIngest, waitFor } from '../testkit/helpers.ts';

const lines = (...ls: string[]) => Buffer.from(ls.join('\n'));
const ingest = () => testIngest({ maxSeries: 1000, buckets: [0.01, 0.1, 1], maxSetSize: 100 });

describe('DeltaTracker: what the store took in since the last flush', () => {
  const cases: {
    name: string;
    first: string[];
    second: string[];
    /** metric:kind → the value sum of the second flush's points (sum/gauge value, histogram count). */
    want: Record<string, number>;
    tally: number;
  }[] = [
    {
      name: 'a counter forwards its growth, not its total',
      first: ['orders:3|c|#pod:a', 'orders:2|c|#pod:b'],
      second: ['orders:4|c|#pod:a'],
      want: { 'orders:sum': 4 },
      tally: 4,
    },
    {
      name: 'a counter that did not grow is not sent; sampled lines count their weight',
      first: ['orders:1|c|#pod:a', 'other:1|c'],
      second: ['other:1|c|@0.5'],
      want: { 'other:sum': 2 },
      tally: 0,
    },
    {
      name: 'a gauge is sent when it changed',
      first: ['depth:5|g', 'same:1|g'],
      second: ['depth:+2|g', 'same:1|g'],
      want: { 'depth:gauge': 7 },
      tally: 0,
    },
    {
      name: 'a timer sends the observations since the last flush',
      first: ['lat:5|ms', 'lat:50|ms'],
      second: ['lat:500|ms', 'lat:5000|ms', 'lat:1|ms'],
      want: { 'lat:histogram': 3 },
      tally: 0,
    },
    { name: 'nothing new: nothing sent', first: ['orders:1|c', 'g:1|g'], second: [], want: {}, tally: 0 },
  ];
  for (const c of cases)
    it(c.name, () => {
      const ing = ingest();
      const t = new DeltaTracker(new Set(['orders']));
      ing.datagram(lines(...c.first), 1000);
      t.take(ing.store, 1000);
      if (c.second.length > 0) ing.datagram(lines(...c.second), 2000);
      const f = t.take(ing.store, 2000);
      const got: Record<string, number> = {};
      for (const p of f.points) {
        const pt = p.point as { asDouble?: number; count?: number };
        got[`${p.metric}:${p.kind}`] = (got[`${p.metric}:${p.kind}`] ?? 0) + (pt.asDouble ?? pt.count ?? 0);
        assert.equal(p.point.startTimeUnixNano, String(1000n * 1_000_000n));
        assert.equal(p.point.timeUnixNano, String(2000n * 1_000_000n));
      }
      assert.deepEqual(got, c.want);
      assert.equal(
        f.points.reduce((a, p) => a + p.tally, 0),
        c.tally,
      );
    });

  it('a histogram point carries the store bounds and per-bucket deltas that add to its count', () => {
    const ing = ingest();
    const t = new DeltaTracker(new Set());
    ing.datagram(lines('lat:5|ms', 'lat:50|ms', 'lat:2000|ms'), 1);
    const [p] = t.take(ing.store, 1).points;
    const h = p!.point as { bucketCounts: number[]; explicitBounds: number[]; count: number; sum: number };
    assert.deepEqual(h.explicitBounds, [0.01, 0.1, 1]);
    assert.deepEqual(h.bucketCounts, [1, 1, 0, 1]);
    assert.equal(h.count, 3);
    assert.ok(Math.abs(h.sum - 2.055) < 1e-9);
  });
});

describe('parseLabelsText', () => {
  const cases: [string, [string, string][]][] = [
    ['', []],
    ['pod="a"', [['pod', 'a']]],
    [
      'a="x,y",b="q\\"uote"',
      [
        ['a', 'x,y'],
        ['b', 'q"uote'],
      ],
    ],
    [
      'a="back\\\\slash",b="new\\nline"',
      [
        ['a', 'back\\slash'],
        ['b', 'new\nline'],
      ],
    ],
  ];
  for (const [text, want] of cases)
    it(JSON.stringify(text), () => assert.deepEqual(parseLabelsText(text), want));
});

const point = (i: number, labelBytes = 10): OutPoint => ({
  metric: 'orders',
  kind: 'sum',
  point: {
    attributes: [{ key: 'pod', value: { stringValue: `p${i}`.padEnd(labelBytes, 'x') } }],
    startTimeUnixNano: '1',
    timeUnixNano: '2',
    asDouble: 1,
  },
  tally: 1,
  bytes: 30 + labelBytes,
});

describe('toBatches: within the receiver per-request limits', () => {
  const cases = [
    { name: 'by points', n: 25, maxPoints: 10, maxBytes: 1 << 20, label: 10, batches: 3 },
    { name: 'by bytes', n: 40, maxPoints: 1000, maxBytes: 2048, label: 200, batches: -1 },
    { name: 'one batch', n: 5, maxPoints: 10, maxBytes: 1 << 20, label: 10, batches: 1 },
  ];
  for (const c of cases)
    it(c.name, () => {
      const pts = Array.from({ length: c.n }, (_, i) => point(i, c.label));
      const b = toBatches(pts, { maxPoints: c.maxPoints, maxBytes: c.maxBytes, resource: [] });
      if (c.batches > 0) assert.equal(b.batches.length, c.batches);
      else assert.ok(b.batches.length > 1);
      let decoded = 0;
      for (const x of b.batches) {
        assert.ok(x.points <= c.maxPoints && x.body.length <= c.maxBytes);
        const req = decodeRequest(x.body, 'protobuf');
        const n = req.resourceMetrics![0]!.scopeMetrics![0]!.metrics!.reduce(
          (a, m) => a + (m.sum?.dataPoints?.length ?? 0),
          0,
        );
        assert.equal(n, x.points);
        decoded += n;
      }
      assert.equal(decoded, c.n);
      assert.equal(b.tooLarge.points, 0);
    });
  it('a point larger than --forward-max-bytes alone is left out and counted', () => {
    const b = toBatches([point(0, 5000), point(1)], { maxPoints: 10, maxBytes: 1024, resource: [] });
    assert.equal(b.tooLarge.points, 1);
    assert.equal(
      b.batches.reduce((a, x) => a + x.points, 0),
      1,
    );
  });
});

describe('retryAfterMs', () => {
  const cases: [string | null, number | null][] = [
    [null, null],
    ['', null],
    ['2', 2000],
    [new Date(10_000).toUTCString(), 9000],
    ['soon', null],
  ];
  for (const [h, want] of cases) it(String(h), () => assert.equal(retryAfterMs(h, 1000), want));
});

/** A central receiver stand-in on 127.0.0.1: answers from a script, decodes and counts what it got. */
interface Central {
  url: string;
  points: number;
  requests: number;
  times: number[];
  close(): Promise<void>;
}
const servers: Central[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

type Answer = { status: number; retryAfter?: string; rejected?: number };
async function central(script: Answer[]): Promise<Central> {
  const c: Central = { url: '', points: 0, requests: 0, times: [], close: async () => {} };
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const a = script[Math.min(c.requests, script.length - 1)]!;
      c.requests++;
      c.times.push(Date.now());
      if (a.status === 200) {
        const r: ExportRequest = decodeRequest(Buffer.concat(chunks), 'protobuf');
        for (const rm of r.resourceMetrics ?? [])
          for (const sm of rm.scopeMetrics ?? [])
            for (const m of sm.metrics ?? []) c.points += (m.sum?.dataPoints ?? []).length;
      }
      const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
      if (a.retryAfter !== undefined) headers['retry-after'] = a.retryAfter;
      res.writeHead(a.status, headers);
      res.end(
        a.status === 200 ? encodeResponse('protobuf', a.rejected ?? 0, a.rejected ? 'some refused' : '') : '',
      );
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  c.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/v1/metrics`;
  c.close = () => new Promise((r) => srv.close(() => r()));
  servers.push(c);
  return c;
}

function forwarder(url: string, o: { maxElapsedMs?: number; queuePoints?: number } = {}) {
  const books = new AgentBooks();
  const f = new Forwarder(
    {
      url,
      timeoutMs: 2000,
      maxElapsedMs: o.maxElapsedMs ?? 10_000,
      queuePoints: o.queuePoints ?? 1000,
      initialBackoffMs: 20,
      maxBackoffMs: 100,
      clock: systemClock,
      random: () => 0.5,
    },
    books,
  );
  return { f, books };
}
const batch = (n: number) =>
  toBatches(
    Array.from({ length: n }, (_, i) => point(i)),
    { maxPoints: 1000, maxBytes: 1 << 20, resource: [] },
  ).batches;

describe('Forwarder against a real HTTP server', () => {
  const cases: {
    name: string;
    script: Answer[];
    want: {
      forwarded: number;
      refused: number;
      failed: number;
      retries: number;
      requests: number;
      honoured: number;
    };
    maxElapsedMs?: number;
  }[] = [
    {
      name: '200: forwarded',
      script: [{ status: 200 }],
      want: { forwarded: 10, refused: 0, failed: 0, retries: 0, requests: 1, honoured: 0 },
    },
    {
      name: '503, 503, 200: retried with back-off, then forwarded',
      script: [{ status: 503 }, { status: 503 }, { status: 200 }],
      want: { forwarded: 10, refused: 0, failed: 0, retries: 2, requests: 3, honoured: 0 },
    },
    {
      name: 'partial_success: its rejected points are refused, the rest forwarded',
      script: [{ status: 200, rejected: 3 }],
      want: { forwarded: 7, refused: 3, failed: 0, retries: 0, requests: 1, honoured: 0 },
    },
    {
      name: '400: not retried, forward_failed',
      script: [{ status: 400 }],
      want: { forwarded: 0, refused: 0, failed: 10, retries: 0, requests: 1, honoured: 0 },
    },
    {
      name: '503 for longer than --forward-max-elapsed: forward_failed',
      script: [{ status: 503 }],
      maxElapsedMs: 150,
      want: { forwarded: 0, refused: 0, failed: 10, retries: -1, requests: -1, honoured: 0 },
    },
    {
      name: '429 + Retry-After: 1 waits the second, then forwarded',
      script: [{ status: 429, retryAfter: '1' }, { status: 200 }],
      want: { forwarded: 10, refused: 0, failed: 0, retries: 1, requests: 2, honoured: 1 },
    },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const srv = await central(c.script);
      const { f, books } = forwarder(
        srv.url,
        c.maxElapsedMs === undefined ? {} : { maxElapsedMs: c.maxElapsedMs },
      );
      assert.equal(f.enqueue(batch(10)), true);
      assert.ok(await waitFor(() => f.queueBatches === 0, 5000));
      assert.equal(books.pointsForwarded, c.want.forwarded);
      assert.equal(books.pointsRefused, c.want.refused);
      assert.equal(books.pointsDropped.forward_failed, c.want.failed);
      assert.equal(books.tallyForwarded + books.tallyDropped.forward_failed, 10);
      assert.equal(books.retryAfterHonoured, c.want.honoured);
      if (c.want.retries >= 0) assert.equal(books.retries, c.want.retries);
      if (c.want.requests >= 0) assert.equal(srv.requests, c.want.requests);
      else assert.ok(srv.requests >= 2, `retried before giving up: ${srv.requests}`);
      if (c.want.forwarded > 0) assert.equal(srv.points, 10);
      if (c.want.honoured > 0) assert.ok(srv.times[1]! - srv.times[0]! >= 950, 'waited the Retry-After');
      f.close();
    });

  it('central down: batches queue up to --forward-queue-points, then flushes are dropped (queue_full)', async () => {
    const srv = await central([{ status: 200 }]);
    const url = srv.url;
    await srv.close(); // nothing listens there now: connection refused
    const { f, books } = forwarder(url, { queuePoints: 25, maxElapsedMs: 60_000 });
    assert.equal(f.enqueue(batch(10)), true);
    assert.equal(f.enqueue(batch(10)), true);
    assert.equal(f.enqueue(batch(10)), false);
    assert.equal(f.queuePoints, 20);
    assert.equal(books.pointsDropped.queue_full, 10);
    assert.equal(books.tallyDropped.queue_full, 10);
    assert.ok(await waitFor(() => (books.requests.get('error') ?? 0) >= 2, 3000), 'retried');
    assert.equal(f.queuePoints, 20, 'still queued while retrying');
    f.close();
  });
});
