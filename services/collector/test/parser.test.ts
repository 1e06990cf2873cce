// Table-driven tests of the line parser: every protocol case of issue 3, through the same functions the
// hot path runs (scanLine, then decodeKey), plus name sanitising and exact number parsing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '@pushpull/common';
import { type DropReason, escapeMetricName, parseDecimal, parseLine } from '../src/index.ts';

interface Ok {
  in: string | Buffer;
  name: string;
  type: 'c' | 'g' | 'ms' | 'h' | 'd' | 's';
  values?: number[];
  member?: string;
  rate?: number;
  relative?: boolean;
  labels?: Record<string, string>;
  tagErrors?: number;
}

const accepted: [string, Ok][] = [
  // types
  ['counter', { in: 'orders:1|c', name: 'orders', type: 'c', values: [1] }],
  ['counter, fractional', { in: 'orders:2.5|c', name: 'orders', type: 'c', values: [2.5] }],
  ['gauge', { in: 'order.queue_depth:12|g', name: 'order_queue_depth', type: 'g', values: [12] }],
  ['gauge +n is relative', { in: 'q:+3|g', name: 'q', type: 'g', values: [3], relative: true }],
  ['gauge -n is relative', { in: 'q:-3|g', name: 'q', type: 'g', values: [-3], relative: true }],
  ['gauge n is absolute', { in: 'q:3|g', name: 'q', type: 'g', values: [3], relative: false }],
  ['timer: milliseconds in, seconds out', { in: 'lat:47.2|ms', name: 'lat', type: 'ms', values: [0.0472] }],
  ['timer: 1500 ms', { in: 'lat:1500|ms', name: 'lat', type: 'ms', values: [1.5] }],
  ['histogram: value as sent', { in: 'size:3.5|h', name: 'size', type: 'h', values: [3.5] }],
  ['distribution: value as sent', { in: 'size:7|d', name: 'size', type: 'd', values: [7] }],
  [
    'set member is a string',
    { in: 'users.unique:alice|s', name: 'users_unique', type: 's', member: 'alice' },
  ],
  ['set member may contain ":"', { in: 'u:a:b|s', name: 'u', type: 's', member: 'a:b' }],
  // numbers
  ['exponent', { in: 'x:1e3|g', name: 'x', type: 'g', values: [1000] }],
  ['negative exponent', { in: 'x:25E-1|g', name: 'x', type: 'g', values: [2.5] }],
  ['leading dot', { in: 'x:.5|g', name: 'x', type: 'g', values: [0.5] }],
  ['trailing dot', { in: 'x:5.|g', name: 'x', type: 'g', values: [5] }],
  ['counter with + sign', { in: 'x:+2|c', name: 'x', type: 'c', values: [2] }],
  ['zero counter', { in: 'x:0|c', name: 'x', type: 'c', values: [0] }],
  ['negative timer is kept', { in: 'x:-5|ms', name: 'x', type: 'ms', values: [-0.005] }],
  // sample rate
  ['sample rate', { in: 'orders:1|c|@0.1', name: 'orders', type: 'c', values: [1], rate: 0.1 }],
  ['sample rate 1', { in: 'orders:1|c|@1', name: 'orders', type: 'c', values: [1], rate: 1 }],
  ['sample rate on a timer', { in: 'lat:10|ms|@0.5', name: 'lat', type: 'ms', values: [0.01], rate: 0.5 }],
  [
    'rate and tags in either order',
    { in: 'x:1|c|#a:b|@0.25', name: 'x', type: 'c', values: [1], rate: 0.25, labels: { a: 'b' } },
  ],
  // DogStatsD tags
  [
    'DogStatsD tags',
    {
      in: 'orders.latency_ms:47.2|ms|#region:ap-south-1a,pod:p17',
      name: 'orders_latency_ms',
      type: 'ms',
      values: [0.0472],
      labels: { region: 'ap-south-1a', pod: 'p17' },
    },
  ],
  [
    'DogStatsD tags with # on each tag',
    { in: 'x:1|c|#a:1,#b:2', name: 'x', type: 'c', values: [1], labels: { a: '1', b: '2' } },
  ],
  [
    'DogStatsD tag without value is ignored',
    { in: 'x:1|c|#novalue,k:v', name: 'x', type: 'c', values: [1], labels: { k: 'v' }, tagErrors: 1 },
  ],
  [
    'DogStatsD tag with empty value is ignored',
    { in: 'x:1|c|#k:,j:w', name: 'x', type: 'c', values: [1], labels: { j: 'w' }, tagErrors: 1 },
  ],
  [
    'DogStatsD tag with empty key is ignored',
    { in: 'x:1|c|#:v,j:w', name: 'x', type: 'c', values: [1], labels: { j: 'w' }, tagErrors: 1 },
  ],
  [
    'DogStatsD value may contain ":"',
    {
      in: 'x:1|c|#url:http://a:8080/x',
      name: 'x',
      type: 'c',
      values: [1],
      labels: { url: 'http://a:8080/x' },
    },
  ],
  ['empty DogStatsD tag section', { in: 'x:1|c|#', name: 'x', type: 'c', values: [1], labels: {} }],
  [
    'two DogStatsD tag sections',
    { in: 'x:1|c|#a:1|@0.5|#b:2', name: 'x', type: 'c', values: [1], rate: 0.5, labels: { a: '1', b: '2' } },
  ],
  [
    'duplicate tag: last wins, counted',
    { in: 'x:1|c|#a:1,a:2', name: 'x', type: 'c', values: [1], labels: { a: '2' }, tagErrors: 1 },
  ],
  [
    'tag value keeps UTF-8 and quotes',
    { in: 'x:1|c|#city:Zürich "z"', name: 'x', type: 'c', values: [1], labels: { city: 'Zürich "z"' } },
  ],
  [
    'DogStatsD container id',
    {
      in: 'x:1|c|#a:b|c:abc123',
      name: 'x',
      type: 'c',
      values: [1],
      labels: { a: 'b', container_id: 'abc123' },
    },
  ],
  ['DogStatsD timestamp is accepted', { in: 'x:1|c|T1656581400', name: 'x', type: 'c', values: [1] }],
  // other tag styles
  [
    'InfluxDB tags',
    {
      in: 'orders,region=ap,pod=p1:1|c',
      name: 'orders',
      type: 'c',
      values: [1],
      labels: { region: 'ap', pod: 'p1' },
    },
  ],
  [
    'Librato tags',
    {
      in: 'orders#region=ap,pod=p1:1|c',
      name: 'orders',
      type: 'c',
      values: [1],
      labels: { region: 'ap', pod: 'p1' },
    },
  ],
  [
    'SignalFx tags',
    {
      in: 'orders.[region=ap,pod=p1]rejects:1|c',
      name: 'orders_rejects',
      type: 'c',
      values: [1],
      labels: { region: 'ap', pod: 'p1' },
    },
  ],
  [
    'SignalFx with one bracket keeps the name as sent',
    { in: 'x.[a=b:1|c', name: 'x__a_b', type: 'c', values: [1], labels: {}, tagErrors: 1 },
  ],
  [
    'InfluxDB tag without value is ignored',
    { in: 'x,a,b=c:1|c', name: 'x', type: 'c', values: [1], labels: { b: 'c' }, tagErrors: 1 },
  ],
  // multi-value
  [
    'multi-value timer',
    {
      in: 'lat:1:2:3|ms|#pod:a',
      name: 'lat',
      type: 'ms',
      values: [0.001, 0.002, 0.003],
      labels: { pod: 'a' },
    },
  ],
  ['multi-value histogram', { in: 'x:1:2|h', name: 'x', type: 'h', values: [1, 2] }],
  ['multi-value distribution', { in: 'x:1:2:4|d', name: 'x', type: 'd', values: [1, 2, 4] }],
  // statsd_exporter-compatible sanitising
  ['dots and dashes', { in: 'order.latency-ms:1|c', name: 'order_latency_ms', type: 'c', values: [1] }],
  ['double dash collapses', { in: 'a--b:1|c', name: 'a_b', type: 'c', values: [1] }],
  ['leading digit gets _', { in: '1abc:1|c', name: '_1abc', type: 'c', values: [1] }],
  ['multi-byte char is one _', { in: 'héllo:1|c', name: 'h_llo', type: 'c', values: [1] }],
  ['emoji is one _', { in: 'a😀b:1|c', name: 'a_b', type: 'c', values: [1] }],
  [
    'label names: invalid chars become _, leading digit gets _',
    {
      in: 'x:1|c|#k.x:v,1k:w,ok_1:z',
      name: 'x',
      type: 'c',
      values: [1],
      labels: { k_x: 'v', _1k: 'w', ok_1: 'z' },
    },
  ],
  [
    '"le" is dropped from histograms',
    { in: 'x:1|h|#le:5,a:b', name: 'x', type: 'h', values: [1], labels: { a: 'b' }, tagErrors: 1 },
  ],
  [
    '"le" and "quantile" are dropped from every type',
    { in: 'x:1|c|#le:5,quantile:1,a:b', name: 'x', type: 'c', values: [1], labels: { a: 'b' }, tagErrors: 2 },
  ],
];

const dropped: [string, string | Buffer, DropReason][] = [
  ['no colon', 'orders', 'malformed_line'],
  ['no pipe', 'orders:1', 'malformed_line'],
  ['empty component', 'orders:1|c||#a:b', 'malformed_line'],
  ['trailing pipe', 'orders:1|c|', 'malformed_line'],
  ['empty name', ':1|c', 'empty_name'],
  ['only InfluxDB tags, no name', ',a=b:1|c', 'empty_name'],
  ['bad number', 'orders:abc|c', 'bad_value'],
  ['empty value', 'orders:|c', 'bad_value'],
  ['NaN', 'orders:NaN|g', 'bad_value'],
  ['Infinity', 'orders:Infinity|g', 'bad_value'],
  ['overflow to infinity', 'orders:1e999|g', 'bad_value'],
  ['hex', 'orders:0x10|c', 'bad_value'],
  ['dangling exponent', 'orders:1e|c', 'bad_value'],
  ['two dots', 'orders:1.2.3|g', 'bad_value'],
  ['sign only', 'q:+|g', 'bad_value'],
  ['empty value in multi-value', 'lat:1::2|ms', 'bad_value'],
  ['empty set member', 'u:|s', 'bad_value'],
  ['unknown type', 'orders:1|x', 'unknown_type'],
  ['empty type', 'orders:1|', 'unknown_type'],
  ['type with extra letters', 'orders:1|cc', 'unknown_type'],
  ['"m" alone is not ms', 'orders:1|m', 'unknown_type'],
  ['upper-case type', 'orders:1|C', 'unknown_type'],
  ['rate 0', 'orders:1|c|@0', 'bad_sample_rate'],
  ['rate above 1', 'orders:1|c|@2', 'bad_sample_rate'],
  ['rate not a number', 'orders:1|c|@abc', 'bad_sample_rate'],
  ['rate empty', 'orders:1|c|@', 'bad_sample_rate'],
  ['negative rate', 'orders:1|c|@-0.5', 'bad_sample_rate'],
  ['empty timestamp', 'orders:1|c|T', 'bad_timestamp'],
  ['bad timestamp', 'orders:1|c|T12a', 'bad_timestamp'],
  ['unknown component', 'orders:1|c|x', 'unknown_component'],
  ['empty container id', 'orders:1|c|c:', 'unknown_component'],
  ['multi-value counter', 'orders:1:2|c', 'multi_value_not_allowed'],
  ['multi-value gauge', 'q:1:2|g', 'multi_value_not_allowed'],
  ['negative counter', 'orders:-1|c', 'negative_counter'],
  ['InfluxDB + DogStatsD', 'x,a=b:1|c|#c:d', 'mixed_tag_styles'],
  ['Librato + DogStatsD', 'x#a=b:1|c|#c:d', 'mixed_tag_styles'],
  ['SignalFx + DogStatsD', 'x.[a=b]y:1|c|#c:d', 'mixed_tag_styles'],
  ['SignalFx + InfluxDB', 'x.[a=b]y,c=d:1|c', 'mixed_tag_styles'],
  ['SignalFx + Librato', 'x.[a=b]y#c=d:1|c', 'mixed_tag_styles'],
  ['invalid UTF-8 in the name', Buffer.from([0x61, 0xff, 0x3a, 0x31, 0x7c, 0x63]), 'invalid_utf8'],
  [
    'invalid UTF-8 in a tag value',
    Buffer.concat([Buffer.from('x:1|c|#a:'), Buffer.from([0xc3, 0x28])]),
    'invalid_utf8',
  ],
  [
    'overlong encoding',
    Buffer.concat([Buffer.from('x'), Buffer.from([0xc0, 0xaf]), Buffer.from(':1|c')]),
    'invalid_utf8',
  ],
  [
    'UTF-16 surrogate',
    Buffer.concat([Buffer.from('x'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(':1|c')]),
    'invalid_utf8',
  ],
  ['lone continuation byte', Buffer.concat([Buffer.from('x:1|c|#a:'), Buffer.from([0x80])]), 'invalid_utf8'],
  [
    'invalid UTF-8 wins over a bad value',
    Buffer.concat([Buffer.from('x:abc|c|#a:'), Buffer.from([0xfe])]),
    'invalid_utf8',
  ],
  ['too long', `${'a'.repeat(9000)}:1|c`, 'line_too_long'],
  ['too long wins over other faults', `${'a'.repeat(9000)}`, 'line_too_long'],
];

describe('parser: accepted lines', () => {
  for (const [title, c] of accepted) {
    it(`${title}: ${typeof c.in === 'string' ? c.in : c.in.toString('hex')}`, () => {
      const v = parseLine(c.in);
      assert.ok(v.ok, `expected accepted, got ${JSON.stringify(v)}`);
      const l = v.line;
      assert.equal(l.name, c.name);
      assert.equal(l.type, c.type);
      if (c.values) assert.deepEqual(l.values, c.values);
      if (c.member !== undefined) assert.equal(l.member, c.member);
      assert.equal(l.rate, c.rate ?? 1);
      if (c.relative !== undefined) assert.equal(l.relative, c.relative);
      assert.deepEqual(l.labels, c.labels ?? {});
      assert.equal(l.tagErrors, c.tagErrors ?? 0);
    });
  }
});

describe('parser: dropped lines, by reason', () => {
  for (const [title, input, reason] of dropped) {
    it(`${title} -> ${reason}`, () => {
      const v = parseLine(input);
      assert.deepEqual(v, { ok: false, reason });
    });
  }
  it('a line exactly at the size limit is accepted, one byte more is not', () => {
    const line = `${'a'.repeat(60)}:1|c`; // 64 bytes
    assert.equal(parseLine(line, 64).ok, true);
    assert.deepEqual(parseLine(`a${line}`, 64), { ok: false, reason: 'line_too_long' });
  });
});

describe('escapeMetricName (statsd_exporter EscapeMetricName)', () => {
  const table: [string, string][] = [
    ['', ''],
    ['clean_name', 'clean_name'],
    ['a.b.c', 'a_b_c'],
    ['a-b', 'a_b'],
    ['a--b', 'a_b'],
    ['a---b', 'a_b'],
    ['a-.-b', 'a___b'],
    ['0start', '_0start'],
    ['9.x', '_9_x'],
    ['ünïcode', '_n_code'],
    ['with space', 'with_space'],
    ['colon:name', 'colon_name'],
    ['CamelCase', 'CamelCase'],
  ];
  for (const [input, out] of table)
    it(`"${input}" -> "${out}"`, () => assert.equal(escapeMetricName(input), out));
});

describe('parseDecimal', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');
  it('matches Number() exactly on 20,000 random decimals', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 20_000; i++) {
      const mag = 10 ** rng.int(-12, 15);
      const v = (rng.next() - 0.5) * mag;
      const forms = [
        String(v),
        v.toFixed(rng.int(0, 6)),
        v.toPrecision(rng.int(1, 21)),
        v.toExponential(rng.int(0, 16)),
      ];
      for (const f of forms) {
        const got = parseDecimal(b(f), 0, f.length);
        assert.equal(Object.is(got, Number(f)) || got === Number(f), true, `${f}: ${got} vs ${Number(f)}`);
      }
    }
  });
  it('timer shift gives one rounding (47.2 ms = 0.0472 s)', () => {
    assert.equal(parseDecimal(b('47.2'), 0, 4, -3), 0.0472);
    assert.equal(parseDecimal(b('1'), 0, 1, -3), 0.001);
  });
  for (const bad of [
    '',
    '+',
    '-',
    '.',
    'e5',
    '1e',
    '1e+',
    '1.2.3',
    ' 1',
    '1 ',
    '0x1',
    'Infinity',
    'NaN',
    '1_000',
  ])
    it(`rejects "${bad}"`, () => assert.ok(Number.isNaN(parseDecimal(b(bad), 0, bad.length))));
});
