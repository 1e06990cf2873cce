// Exposition text, kernel counter parsing, TCP line framing and config validation: pure units.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import { OTLP_REFUSAL_REASONS, OtlpStats } from '../src/aggregate/otlp.ts';
import type { SelfValues } from '../src/expose/render.ts';
import {
  exposition,
  formatValue,
  Ingest,
  LineFramer,
  parseProcNetSnmp,
  parseProcNetUdpDrops,
  resolveConfig,
  SELF_METRIC_NAMES,
  TAG_ERROR_REASONS,
} from '../src/index.ts';
import { OtlpHttpStats } from '../src/transport/otlp-http.ts';
import { renderText, testIngest } from '../testkit/helpers.ts';

function ingest(): Ingest {
  return testIngest({ maxSeries: 100, buckets: [0.01, 0.1, 1], maxSetSize: 100 });
}

const SELF: SelfValues = {
  nowMs: 10_000,
  sourceActiveWindowMs: 30_000,
  rcvbufGranted: 4194304,
  lastFlushSeconds: 0.002,
  eventLoopLagSeconds: 0.011,
  kernel: { InDatagrams: 100, InErrors: 2, RcvbufErrors: 1, NoPorts: 0 },
  socketDrops: 7,
  tcpConnections: 3,
  tcpOpen: 0,
  tcpRefused: 0,
  tcpIdleClosed: 0,
  http: { refusedBusy: 0, refusedConnections: 0, refusedBadRequest: 0, refusedBodyTimeout: 0, timeouts: 0 },
  otlp: otlpSelf(),
};

function otlpSelf(): NonNullable<SelfValues['otlp']> {
  const points = new OtlpStats(TAG_ERROR_REASONS.length);
  points.pointsAccepted = 12;
  points.refusedBy[OTLP_REFUSAL_REASONS.indexOf('out_of_order')] = 2;
  const http = new OtlpHttpStats();
  http.answered(200, 0.002);
  http.answered(429, 0.0005);
  http.answered(200, 7);
  http.bytes = 900;
  return { points, requests: http.requests, bytes: http.bytes, latency: http.latency, inflightBytes: 0 };
}

function render(ing: Ingest, self: SelfValues = SELF): string {
  return renderText(ing, self);
}

describe('exposition', () => {
  it('renders sender families exactly (sorted, HELP and TYPE, cumulative buckets)', () => {
    const ing = ingest();
    ing.datagram(
      Buffer.from('orders:1|c|#region:ap,pod:p1\nlat:50|ms\nlat:500|ms|#pod:p1\nq:7|g\nu:a|s'),
      1000,
    );
    const text = render(ing);
    const sender = text.slice(0, text.indexOf('# HELP collector_'));
    assert.equal(
      sender,
      [
        '# HELP lat StatsD timer (ms, in seconds), histogram (h) or distribution (d) received by pushpull-collector.',
        '# TYPE lat histogram',
        'lat_bucket{le="0.01"} 0',
        'lat_bucket{le="0.1"} 1',
        'lat_bucket{le="1"} 1',
        'lat_bucket{le="+Inf"} 1',
        'lat_sum 0.05',
        'lat_count 1',
        'lat_bucket{pod="p1",le="0.01"} 0',
        'lat_bucket{pod="p1",le="0.1"} 0',
        'lat_bucket{pod="p1",le="1"} 1',
        'lat_bucket{pod="p1",le="+Inf"} 1',
        'lat_sum{pod="p1"} 0.5',
        'lat_count{pod="p1"} 1',
        '# HELP orders StatsD counter (c) received by pushpull-collector.',
        '# TYPE orders counter',
        'orders{pod="p1",region="ap"} 1',
        '# HELP q StatsD gauge (g) received by pushpull-collector.',
        '# TYPE q gauge',
        'q 7',
        '# HELP u StatsD set (s): distinct values in the last completed flush interval.',
        '# TYPE u gauge',
        'u 1',
        '',
      ].join('\n'),
    );
  });
  it('escapes label values', () => {
    const ing = ingest();
    ing.datagram(Buffer.from('x:1|c|#path:C:\\dir,q:say "hi"'), 1000);
    assert.match(render(ing), /^x\{path="C:\\\\dir",q="say \\"hi\\""\} 1$/m);
  });
  it('every sample belongs to a family announced with HELP and TYPE', () => {
    const ing = ingest();
    ing.datagram(Buffer.from('a:1|c|#pod:p1\nb:2|g\nc:3|h\nbad line'), 1000);
    const text = render(ing);
    const helped = new Set<string>();
    const typed = new Map<string, string>();
    for (const line of text.split('\n')) {
      let m = /^# HELP (\S+) \S/.exec(line);
      if (m) helped.add(m[1]!);
      m = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line);
      if (m) typed.set(m[1]!, m[2]!);
    }
    let samples = 0;
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      samples++;
      const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)![1]!;
      const fam = typed.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
      assert.ok(typed.has(fam) && helped.has(fam), `${line}: family ${fam} has HELP and TYPE`);
      if (fam !== name) assert.equal(typed.get(fam), 'histogram');
    }
    assert.ok(samples > 40);
  });
  it('self-metrics carry the contract names and values', () => {
    const ing = ingest();
    ing.datagram(Buffer.from('heartbeat:1|c|#pod:p9\nbad'), 5000);
    const text = render(ing);
    for (const line of [
      'collector_packets_total{transport="udp"} 1',
      'collector_packets_total{transport="tcp"} 0',
      'collector_lines_total{transport="udp"} 2',
      'collector_lines_accepted_total 1',
      'collector_samples_total{type="c"} 1',
      'collector_parse_errors_total{reason="malformed_line"} 1',
      'collector_parse_errors_total{reason="invalid_utf8"} 0',
      'collector_series 1',
      'collector_series_rejected_total{reason="max_series"} 0',
      'collector_series_rejected_total{reason="label_value_too_long"} 0',
      'collector_tag_errors_total{reason="reserved"} 0',
      'collector_flush_duration_seconds 0.002',
      'collector_event_loop_lag_seconds 0.011',
      'collector_kernel_udp_rcvbuf_errors_total 1',
      'collector_kernel_udp_in_errors_total 2',
      'collector_kernel_udp_in_datagrams_total 100',
      'collector_udp_socket_drops_total 7',
      'collector_source_last_seen_timestamp_seconds{source="p9"} 5',
      'collector_sources_active 1',
      'collector_udp_rcvbuf_bytes 4194304',
      'collector_tcp_connections_total 3',
      'collector_otlp_points_total{outcome="accepted"} 12',
      'collector_otlp_points_total{outcome="refused"} 2',
      'collector_otlp_points_refused_total{reason="out_of_order"} 2',
      'collector_otlp_requests_total{code="200"} 2',
      'collector_otlp_requests_total{code="429"} 1',
      'collector_otlp_request_bytes_total 900',
      'collector_otlp_request_seconds_bucket{le="0.001"} 1',
      'collector_otlp_request_seconds_bucket{le="0.0025"} 2',
      'collector_otlp_request_seconds_bucket{le="5"} 2',
      'collector_otlp_request_seconds_bucket{le="+Inf"} 3',
      'collector_otlp_request_seconds_count 3',
      'collector_otlp_inflight_bytes 0',
    ])
      assert.ok(text.includes(`\n${line}\n`), `missing: ${line}`);
    for (const name of SELF_METRIC_NAMES) assert.ok(text.includes(`# TYPE ${name} `), `TYPE for ${name}`);
  });
  it('leaves the kernel counters out where /proc/net cannot be read', () => {
    const text = render(ingest(), { ...SELF, kernel: null, socketDrops: null });
    assert.equal(text.includes('collector_kernel_udp'), false);
    assert.equal(text.includes('collector_udp_socket_drops'), false);
  });
  it('yields in chunks for large stores', () => {
    const ing = ingest();
    const big = new Ingest({ ...ing.store.opts, maxLineSize: 8192, maxPacketSize: 65536, maxSeries: 10_000 });
    for (let i = 0; i < 5000; i++) big.datagram(Buffer.from(`x:1|c|#pod:p${i}`), 1000);
    const chunks = [...exposition(big.store, big.stats, () => SELF)];
    assert.ok(chunks.length >= 3, `${chunks.length} chunks`);
    assert.equal(
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('x{')).length,
      5000,
    );
  });
  it('formats special values the way Prometheus parses them', () => {
    assert.equal(formatValue(Number.POSITIVE_INFINITY), '+Inf');
    assert.equal(formatValue(Number.NEGATIVE_INFINITY), '-Inf');
    assert.equal(formatValue(1e21), '1e+21');
    assert.equal(formatValue(0.5), '0.5');
  });
});

describe('/proc/net/snmp', () => {
  const fixture = [
    'Ip: Forwarding DefaultTTL',
    'Ip: 1 64',
    'Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors',
    'Udp: 1234 5 17 999 16 0 0 0 0',
    'UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors',
    'UdpLite: 0 0 0 0 0 0 0 0 0',
    '',
  ].join('\n');
  it('reads the Udp counters by column name', () =>
    assert.deepEqual(parseProcNetSnmp(fixture), {
      InDatagrams: 1234,
      InErrors: 17,
      RcvbufErrors: 16,
      NoPorts: 5,
    }));
  it('returns null without a Udp section', () => assert.equal(parseProcNetSnmp('Ip: a\nIp: 1\n'), null));
  const udpTable = [
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    ' 1159: 0100007F:1FBD 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 115837 2 00000000c9c8cac5 42',
    ' 1488: 00000000:BCFA 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 123123 2 00000000558d2eb4 0',
    '',
  ].join('\n');
  it('reads the drops of the socket on a port from /proc/net/udp', () => {
    assert.equal(parseProcNetUdpDrops(udpTable, 8125), 42);
    assert.equal(parseProcNetUdpDrops(udpTable, 48378), 0);
    assert.equal(parseProcNetUdpDrops(udpTable, 9), null);
  });
});

describe('TCP line framing', () => {
  function framer(max = 64) {
    const lines: string[] = [];
    let overlong = 0;
    const f = new LineFramer(
      max,
      (buf, s, e) => {
        for (const l of buf.toString('utf8', s, e).split('\n')) if (l) lines.push(l);
      },
      () => overlong++,
    );
    return { f, lines, overlong: () => overlong };
  }
  it('joins a line split across reads, byte by byte', () => {
    const { f, lines } = framer();
    for (const byte of Buffer.from('orders:1|c\nq:2|g\nlat:3|ms')) f.push(Buffer.from([byte]));
    assert.deepEqual(lines, ['orders:1|c', 'q:2|g']);
    f.end();
    assert.deepEqual(
      lines,
      ['orders:1|c', 'q:2|g', 'lat:3|ms'],
      'the last line without newline counts at EOF',
    );
  });
  it('keeps a multi-byte UTF-8 character split across reads intact', () => {
    const { f, lines } = framer();
    const b = Buffer.from('x:1|c|#city:Zürich\n');
    const cut = b.indexOf(0xc3) + 1;
    f.push(b.subarray(0, cut));
    f.push(b.subarray(cut));
    assert.deepEqual(lines, ['x:1|c|#city:Zürich']);
  });
  it('discards a line longer than the limit up to its newline, once', () => {
    const { f, lines, overlong } = framer(16);
    f.push(Buffer.from('a:1|c\nthis-line-is-way-too-'));
    f.push(Buffer.from('long-for-the-limit'));
    f.push(Buffer.from('-still\nb:2|c\n'));
    assert.deepEqual(lines, ['a:1|c', 'b:2|c']);
    assert.equal(overlong(), 1);
  });
});

describe('config', () => {
  it('defaults match the contract, frozen', () => {
    const c = resolveConfig({});
    assert.equal(c.statsdUdp, '127.0.0.1:8125');
    assert.equal(c.statsdTcp, '127.0.0.1:8125');
    assert.equal(c.http, '127.0.0.1:9102');
    assert.equal(c.rcvbuf, 8 << 20);
    assert.equal(c.maxSeries, 100000);
    assert.equal(c.sourceTag, 'pod');
    assert.equal(c.sourceTtl, 3_600_000);
    assert.equal(c.sourceActiveWindow, 30_000);
    assert.equal(c.strictNames, false);
    assert.equal(c.otlpHttp, 'off', 'the OTLP receiver is opt-in');
    assert.equal(c.otlpMaxRequestSize, 4 << 20);
    assert.deepEqual(c.otlpResourceLabels, ['service.name', 'service.instance.id', 'pod']);
    assert.ok(Object.isFrozen(c.otlpResourceLabels));
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.buckets));
  });
  it('accepts strings for sizes, durations, booleans and buckets', () => {
    const c = resolveConfig({
      rcvbuf: '1MiB',
      sourceTtl: '2m',
      strictNames: 'on',
      buckets: '0.1, 1,10',
      statsdTcp: 'off',
      otlpHttp: '127.0.0.1:4318',
      otlpResourceLabels: ' k8s.pod.name, ,pod ',
    });
    assert.equal(c.otlpHttp, '127.0.0.1:4318');
    assert.deepEqual(c.otlpResourceLabels, ['k8s.pod.name', 'pod']);
    assert.equal(c.rcvbuf, 1 << 20);
    assert.equal(c.sourceTtl, 120_000);
    assert.equal(c.strictNames, true);
    assert.deepEqual(c.buckets, [0.1, 1, 10]);
    assert.equal(c.statsdTcp, 'off');
  });
  const bad: [Record<string, unknown>, string, string][] = [
    [{ maxSeries: 0 }, 'LAB_ERR_FLAG_VALUE', '--max-series'],
    [{ maxSeries: 'lots' }, 'LAB_ERR_FLAG_VALUE', '"lots"'],
    [{ rcvbuf: '3 furlongs' }, 'LAB_ERR_FLAG_VALUE', '--rcvbuf'],
    [{ statsdUdp: 'nowhere' }, 'LAB_ERR_ADDRESS', '--statsd-udp'],
    [{ http: '127.0.0.1:99999' }, 'LAB_ERR_ADDRESS', '"127.0.0.1:99999"'],
    [{ buckets: '1,0.5' }, 'LAB_ERR_FLAG_VALUE', 'ascending'],
    [{ buckets: '1,abc' }, 'LAB_ERR_FLAG_VALUE', '--buckets'],
    [{ sourceTtl: 'soon' }, 'LAB_ERR_FLAG_VALUE', '--source-ttl'],
    [{ sourceActiveWindow: '2h' }, 'LAB_ERR_FLAG_VALUE', '--source-active-window'],
    [{ strictNames: 'maybe' }, 'LAB_ERR_FLAG_VALUE', '--strict-names'],
    [{ statsdUpd: '127.0.0.1:0' }, 'LAB_ERR_CONFIG', '"statsdUpd"'],
    [{ otlpHttp: 'somewhere' }, 'LAB_ERR_ADDRESS', '--otlp-http'],
    [{ otlpMaxInflightBytes: '10' }, 'LAB_ERR_FLAG_VALUE', '--otlp-max-inflight-bytes'],
    [{ otlpResourceLabels: 7 }, 'LAB_ERR_FLAG_VALUE', '--otlp-resource-labels'],
  ];
  for (const [input, code, mention] of bad) {
    it(`rejects ${JSON.stringify(input)} with ${code} naming ${mention}`, () =>
      assert.throws(
        () => resolveConfig(input as never),
        (e) => isLabError(e, code as never) && e.message.includes(mention),
      ));
  }
});
