// Property-based fuzzing of parse -> aggregate -> expose (fast-check), shared by the seeded test in
// `npm test` (fuzz-property.test.ts) and the long run (bench/fuzz.bench.ts). One case = one datagram of
// random and mutated lines in every tag syntax the parser knows (DogStatsD |#, InfluxDB ,k=v, Librato #k=v,
// SignalFx [k=v]), with the hostile tags of issue 11 (reserved "__" names, "le", container_id, long values)
// drawn often. Each case runs through its own Ingest (accounting, exposition) and a shared one (the merged
// exposition checked once by promtool).
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { DROP_REASONS, type Ingest, REFUSAL_REASONS, TAG_ERROR_REASONS } from '../src/index.ts';
import { quietSelf, renderText, testIngest } from './helpers.ts';

const HOSTILE_KEYS = ['__name__', '__x', '__meta_k', '..a', '-_b', 'le', 'container_id', 'quantile', 'pod'];
const keyChar = fc.constantFrom(...'abcXYZ019_.-:é😀 '.split(''));
const valChar = fc.constantFrom(...'ab0:=,#|[]"\\\n\t é😀'.split(''));
const key = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_KEYS) },
  { weight: 3, arbitrary: fc.string({ unit: keyChar, minLength: 0, maxLength: 8 }) },
);
const value = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: valChar, minLength: 0, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 1100 }).map((n) => 'v'.repeat(n)) }, // around 1 KiB
);
const name = fc.oneof(
  fc.constantFrom('orders', 'order.latency', 'q', 'collector_series', 'h_bucket', 'x.y-z', '1st', '__n'),
  fc.string({ unit: keyChar, minLength: 0, maxLength: 10 }),
);
const num = fc.oneof(
  fc.constantFrom('1', '-1', '+2', '0.5', '1e3', '-0', 'NaN', 'Inf', '0x10', '', '1:2:3', 'alice'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
);
const type = fc.constantFrom('c', 'g', 'ms', 'h', 'd', 's', 'x', '');
const extra = fc.constantFrom('', '|@0.5', '|@2', '|@', '|c:abc', '|T1700000000', '|Tx', '|zz', '||');
const tags = fc.array(fc.tuple(key, value), { maxLength: 4 });

/** One line in one of the tag syntaxes (style 0 = none). */
export const line = fc
  .record({ style: fc.integer({ min: 0, max: 4 }), name, num, type, extra, tags, dogHash: fc.boolean() })
  .map(({ style, name, num, type, extra, tags, dogHash }) => {
    const kv = (sep: string) => tags.map(([k, v]) => `${k}${sep}${v}`).join(',');
    const body = `:${num}|${type}`;
    switch (style) {
      case 1:
        return `${name}${body}${extra}|#${tags.map(([k, v]) => `${dogHash ? '#' : ''}${k}:${v}`).join(',')}`;
      case 2:
        return `${name},${kv('=')}${body}${extra}`;
      case 3:
        return `${name}#${kv('=')}${body}${extra}`;
      case 4:
        return `${name}.[${kv('=')}]${body}${extra}`;
      default:
        return `${name}${body}${extra}`;
    }
  });

/** Byte-level mutations of a datagram: flips, inserts, cuts. */
const mutation = fc.tuple(
  fc.nat(),
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom('set', 'insert', 'cut'),
);

export const datagram = fc
  .tuple(fc.array(line, { minLength: 1, maxLength: 8 }), fc.array(mutation, { maxLength: 3 }))
  .map(([lines, muts]) => {
    let b = Buffer.from(lines.join('\n'));
    for (const [at, byte, op] of muts) {
      if (b.length === 0) break;
      const i = at % b.length;
      if (op === 'set') b[i] = byte;
      else if (op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
      else b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
    }
    return b;
  });

export function newIngest(maxSeries = 10_000): Ingest {
  return testIngest({
    maxSeries,
    buckets: [0.01, 0.1, 1],
    maxSetSize: 50,
    maxLabelValueLength: 1024,
    maxSeriesBytes: 16 * 1024 * 1024,
    hashSeed: 7,
  });
}

const SELF = quietSelf();

export function render(ing: Ingest): string {
  return renderText(ing, SELF);
}

// Text format 0.0.4, strictly: a label name is [a-zA-Z_][a-zA-Z0-9_]* and not "__"-prefixed, a value has
// only \\, \" and \n escapes, a sample value is a number or ±Inf/NaN.
const LABEL = String.raw`(?!__)[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"`;
const SAMPLE = new RegExp(
  String.raw`^[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{${LABEL}(?:,${LABEL})*\})? (?:[+-]?Inf|NaN|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$`,
);
const COMMENT =
  /^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram))$/;

/** Throws with the offending line when the text is not valid exposition. */
export function checkExposition(text: string): number {
  let samples = 0;
  for (const l of text.split('\n')) {
    if (l === '') continue;
    if (l.startsWith('#')) {
      if (!COMMENT.test(l)) throw new Error(`bad comment line: ${JSON.stringify(l)}`);
    } else if (!SAMPLE.test(l)) throw new Error(`bad sample line: ${JSON.stringify(l)}`);
    else samples++;
  }
  return samples;
}

const sumOf = (a: Float64Array) => a.reduce((x, y) => x + y, 0);

/** Every line in exactly one counter, and the rendered self-metrics say the same as the counters. */
export function checkAccounting(ing: Ingest, text: string): void {
  const st = ing.stats;
  const lines = st.lines[0]! + st.lines[1]!;
  const parts = st.linesAccepted + sumOf(st.parseErrors) + st.seriesRejected;
  if (lines !== parts) throw new Error(`lines ${lines} != accepted + errors + rejected ${parts}`);
  if (st.seriesRejected !== sumOf(st.seriesRejectedBy)) throw new Error('rejections by reason do not sum');
  const want = [
    `collector_lines_total{transport="udp"} ${st.lines[0]}`,
    `collector_lines_accepted_total ${st.linesAccepted}`,
    ...DROP_REASONS.slice(1).map(
      (r, i) => `collector_parse_errors_total{reason="${r}"} ${st.parseErrors[i + 1]}`,
    ),
    ...REFUSAL_REASONS.map(
      (r, i) => `collector_series_rejected_total{reason="${r}"} ${st.seriesRejectedBy[i]}`,
    ),
    ...TAG_ERROR_REASONS.map((r, i) => `collector_tag_errors_total{reason="${r}"} ${st.tagErrors[i]}`),
  ];
  for (const w of want) if (!text.includes(`\n${w}\n`)) throw new Error(`exposition lacks "${w}"`);
}

/** One case: must not throw out of the collector; accounting exact; exposition valid. */
export function checkCase(buf: Buffer, shared: Ingest): void {
  const ing = newIngest();
  ing.datagram(buf, 1000);
  shared.datagram(buf, 1000);
  const text = render(ing);
  checkExposition(text);
  checkAccounting(ing, text);
}

// promtool's naming lints on sender-chosen names are allowed (statsd_exporter keeps names as sent);
// anything else — above all a parse error — is not.
const NAMING_LINTS = [
  /counter metrics should have "_total" suffix$/,
  /metric names should not contain abbreviated units$/,
  /metric names should be written in 'snake_case' not 'camelCase'$/,
  /non-histogram( and non-summary)? metrics should not have "_(sum|count|bucket)" suffix$/,
  /metric names should not contain ':'$/,
  /label names should be written in 'snake_case' not 'camelCase'$/,
];

export function promtool(text: string): { status: number | null; unexpected: string[]; findings: number } {
  const r = spawnSync(process.env.PROMTOOL ?? 'promtool', ['check', 'metrics'], {
    input: text,
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`cannot run promtool: ${r.error.message}`);
  const findings = `${r.stdout}\n${r.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return {
    status: r.status,
    findings: findings.length,
    unexpected: findings.filter((f) => !NAMING_LINTS.some((re) => re.test(f))),
  };
}
