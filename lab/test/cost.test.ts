import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { ManualClock, systemClock } from '@pushpull/common';
import { runCostCommand } from '../src/commands/cost/cli.ts';
import {
  type CollectorCounts,
  type CollectorEndpoint,
  createPullRecorder,
  createPushClient,
  defaultCollectorBin,
  MAX_BUFFER_SIZE,
  makeCheckoutEvents,
  medianSummary,
  PAYMENTS,
  parseExposition,
  REGIONS,
  scrapeOnce,
  settleCounts,
  summarizeNs,
  sumSamples,
  timeEach,
} from '../src/cost/index.ts';

describe('cost: events', () => {
  it('are seeded, drawn from the 12 region × payment series, and frozen', () => {
    const a = makeCheckoutEvents(500, 1);
    assert.equal(a.length, 500);
    assert.deepEqual(a, makeCheckoutEvents(500, 1));
    assert.notDeepEqual(a, makeCheckoutEvents(500, 2));
    const keys = new Set(a.map((e) => `${e.labels.region}/${e.labels.payment}`));
    assert.equal(keys.size, REGIONS.length * PAYMENTS.length);
    assert.ok(Object.isFrozen(a[0]!.labels));
  });
});

describe('cost: measurement', () => {
  it('timeEach times every call with the clock it is given', () => {
    const clock = new ManualClock(0);
    const costs = timeEach([1, 2, 3], (ms) => clock.advance(ms / 1000), clock); // 1, 2, 3 µs
    assert.deepEqual([...costs], [1000, 2000, 3000]);
  });

  it('summarizeNs: p50/p99 interpolated, mean, max, total', () => {
    const s = summarizeNs(Array.from({ length: 101 }, (_, i) => i * 10)); // 0..1000
    assert.equal(s.count, 101);
    assert.equal(s.p50Ns, 500);
    assert.equal(s.p99Ns, 990);
    assert.equal(s.meanNs, 500);
    assert.equal(s.maxNs, 1000);
    assert.equal(s.totalNs, 50500);
  });

  it('medianSummary takes each statistic’s median over repeats', () => {
    const m = medianSummary([summarizeNs([1, 100]), summarizeNs([2, 200]), summarizeNs([3, 3000])]);
    assert.equal(m.maxNs, 200);
    assert.equal(m.count, 2);
  });
});

describe('cost: Prometheus text', () => {
  const text = [
    '# HELP collector_packets_total Datagrams read.',
    '# TYPE collector_packets_total counter',
    'collector_packets_total{transport="udp"} 17',
    'collector_packets_total{transport="tcp"} 5',
    'checkout{region="eu-west",payment="card"} 3',
    'checkout{payment="wallet",region="a\\"b}c"} 4 1700000000000',
    'checkout_total 2',
    'checkouts_total 100',
    'up NaN',
  ].join('\n');
  it('sums series by name and label match, tolerating escaped quotes and timestamps', () => {
    const s = parseExposition(text);
    assert.equal(sumSamples(s, ['collector_packets_total'], { transport: 'udp' }), 17);
    assert.equal(sumSamples(s, ['checkout', 'checkout_total']), 9);
    assert.equal(s.find((x) => x.labels.payment === 'wallet')?.labels.region, 'a"b}c');
    assert.equal(sumSamples(s, ['up']), 0);
  });
});

describe('cost: settleCounts', () => {
  const endpoint: CollectorEndpoint = {
    kind: 'inproc',
    udp: { host: '127.0.0.1', port: 1 },
    httpUrl: 'http://127.0.0.1:1',
    otlpUrl: 'http://127.0.0.1:2',
    rcvbufGranted: null,
    stop: async () => {},
  };
  function deps(series: CollectorCounts[]) {
    const clock = new ManualClock(0);
    let reads = 0;
    return {
      reads: () => reads,
      d: {
        clock,
        collector: endpoint,
        readCounts: async () => series[Math.min(reads++, series.length - 1)]!,
        sleep: async (ms: number) => clock.advance(ms),
      },
    };
  }
  const zero = { udpPackets: 0, checkoutEvents: 0 };

  it('returns as soon as everything sent has been counted', async () => {
    const f = deps([zero, { udpPackets: 5, checkoutEvents: 50 }, { udpPackets: 10, checkoutEvents: 100 }]);
    const r = await settleCounts(f.d, zero, 10, 100, 5000);
    assert.deepEqual(r, { counts: { udpPackets: 10, checkoutEvents: 100 }, timedOut: false });
    assert.equal(f.reads(), 3);
  });

  it('accepts a loss once counts stop changing', async () => {
    const f = deps([{ udpPackets: 996, checkoutEvents: 996 }]);
    const r = await settleCounts(f.d, zero, 1000, 1000, 5000);
    assert.equal(r.timedOut, false);
    assert.equal(r.counts.udpPackets, 996);
    assert.ok(f.reads() < 30, `stopped after ~300 ms of no change (${f.reads()} reads)`);
  });

  it('gives up at the timeout when nothing ever arrives (bounded polls)', async () => {
    const f = deps([zero]);
    const r = await settleCounts(f.d, zero, 10, 10, 1000);
    assert.equal(r.timedOut, true);
    assert.ok(f.reads() <= 1000 / 20 + 3);
  });
});

describe('cost: pull recorder and scrape over HTTP', () => {
  it('records one increment per event and serves exactly the registry’s text', async () => {
    const events = makeCheckoutEvents(300, 3);
    const rec = createPullRecorder({ defaultMetrics: false });
    timeEach(events, rec.record, systemClock);
    const text = await rec.registry.metrics();
    assert.equal(sumSamples(parseExposition(text), ['checkout_total']), 300);
    const s = await scrapeOnce(rec.registry);
    assert.equal(s.bytes, Buffer.byteLength(text));
    assert.ok(s.ms > 0);
  });

  it('default metrics make the body a typical service’s (several KB)', async () => {
    const rec = createPullRecorder({ defaultMetrics: true });
    const s = await scrapeOnce(rec.registry);
    assert.ok(s.bytes > 3000, `${s.bytes} bytes`);
  });
});

describe('cost: hot-shots clients against a plain UDP socket', () => {
  let sock: dgram.Socket;
  const received: string[] = [];
  before(async () => {
    sock = dgram.createSocket('udp4');
    sock.on('message', (m) => received.push(m.toString('utf8')));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    sock.setRecvBufferSize(4 << 20);
  });
  after(() => sock.close());

  async function drain(expected: number) {
    for (let i = 0; i < 100 && received.length < expected; i++) await new Promise((r) => setTimeout(r, 10));
  }
  const sumLines = (datagrams: string[]) =>
    datagrams
      .flatMap((d) => d.split('\n'))
      .reduce((a, l) => a + Number(/^checkout:(\d+)\|c\|#/.exec(l)?.[1] ?? Number.NaN), 0);

  for (const mode of ['per-event', 'buffered', 'aggregated'] as const) {
    it(`${mode}: counts the datagrams it sends, and they carry all 200 increments`, async () => {
      received.length = 0;
      const events = makeCheckoutEvents(200, 9);
      const c = createPushClient(mode, {
        host: '127.0.0.1',
        port: (sock.address() as { port: number }).port,
      });
      for (const e of events) c.record(e);
      c.flush();
      await c.close();
      await drain(c.counters.datagrams);
      assert.equal(c.counters.sendErrors, 0);
      assert.equal(received.length, c.counters.datagrams);
      assert.equal(
        c.counters.bytes,
        received.reduce((a, d) => a + Buffer.byteLength(d), 0),
      );
      assert.equal(sumLines(received), 200);
      for (const d of received) assert.ok(Buffer.byteLength(d) <= MAX_BUFFER_SIZE);
      if (mode === 'per-event') assert.equal(c.counters.datagrams, 200);
      if (mode === 'buffered') assert.ok(c.counters.datagrams > 1 && c.counters.datagrams < 20);
      if (mode === 'aggregated') {
        assert.equal(c.counters.datagrams, 1, 'one send per flush');
        assert.equal(received[0]!.split('\n').length, 12, 'one line per series');
      }
    });
  }
});

describe('cost command: flags', () => {
  async function run(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCostCommand(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
    return { code, out: out.join(''), err: err.join('') };
  }
  const bad: [string[], RegExp][] = [
    [['--bogus'], /LAB_ERR_FLAG_UNKNOWN.*--bogus/],
    [['--events', '0'], /LAB_ERR_FLAG_VALUE.*--events/],
    [['--events', 'lots'], /LAB_ERR_FLAG_VALUE.*"lots"/],
    [['--repeats', '1000'], /LAB_ERR_FLAG_VALUE.*--repeats/],
    [['--warmup', '-1'], /LAB_ERR_FLAG_VALUE.*--warmup/],
    [['--rcvbuf', 'huge'], /LAB_ERR_FLAG_VALUE.*"huge"/],
    [['--collector', 'remote'], /LAB_ERR_FLAG_VALUE.*"remote"/],
    [['--settle', 'never'], /LAB_ERR_FLAG_VALUE.*"never"/],
    [['--settle', '0s'], /LAB_ERR_FLAG_VALUE.*--settle/],
    [['now'], /LAB_ERR_FLAG_UNKNOWN.*"now"/],
  ];
  for (const [argv, msg] of bad)
    it(`exit 2 for ${argv.join(' ')}`, async () => {
      const r = await run(argv);
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.match(r.err, msg);
    });

  it('--help exits 0', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /--events/);
    assert.match(r.out, /--collector/);
  });

  it('--collector spawn with a missing binary fails with LAB_ERR_MISSING_BINARY, exit 1', async () => {
    const r = await run([
      '--collector',
      'spawn',
      '--collector-bin',
      '/nonexistent/collector.js',
      '--events',
      '1',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.err, /LAB_ERR_MISSING_BINARY/);
  });

  it('finds the built collector by walking up, or says there is none', () => {
    const found = defaultCollectorBin('/');
    assert.equal(found, null);
  });
});
