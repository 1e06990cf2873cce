import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type FlagSpecs,
  formatHelp,
  formatUsage,
  isLabError,
  parseArgs,
  parseBytes,
  parseDurationMs,
  parseHostPort,
  Rng,
} from '../src/index.ts';

describe('units', () => {
  const durations: [string, number][] = [
    ['800ms', 800],
    ['15s', 15000],
    ['2m', 120000],
    ['1.5', 1500],
    ['1h', 3600000],
    // the forms the lab prints (capacity's progress line: "budget left 6m40s")
    ['6m40s', 400000],
    ['0m05s', 5000],
    ['1h2m3s', 3723000],
    ['1m30s500ms', 90500],
    [' 15s ', 15000],
  ];
  for (const [text, ms] of durations)
    it(`duration ${text} = ${ms} ms`, () => assert.equal(parseDurationMs(text), ms));
  for (const bad of ['', 'abc', '-1s', '5 parsecs', '40s6m', '1m1m', '6m 40s', 'm', '5x']) {
    it(`duration rejects "${bad}" naming it`, () =>
      assert.throws(
        () => parseDurationMs(bad),
        (e) => isLabError(e, 'LAB_ERR_FLAG_VALUE') && e.message.includes(`"${bad}"`),
      ));
  }
  const sizes: [string, number][] = [
    ['8MiB', 8 << 20],
    ['212992', 212992],
    ['64k', 65536],
  ];
  for (const [text, n] of sizes) it(`size ${text} = ${n}`, () => assert.equal(parseBytes(text), n));
  it('size rejects unknown units', () => assert.throws(() => parseBytes('3 furlongs')));
  const addrs: [string, string, number][] = [
    ['127.0.0.1:8125', '127.0.0.1', 8125],
    [':0', '127.0.0.1', 0],
    ['[::1]:9', '::1', 9],
    ['collector:8125', 'collector', 8125],
  ];
  for (const [text, host, port] of addrs)
    it(`address ${text}`, () => assert.deepEqual(parseHostPort(text), { host, port }));
  for (const bad of ['8125', 'host:99999', 'a:b'])
    it(`address rejects ${bad}`, () =>
      assert.throws(
        () => parseHostPort(bad),
        (e) => isLabError(e, 'LAB_ERR_ADDRESS'),
      ));
});

describe('flags', () => {
  const specs: FlagSpecs = {
    pods: { kind: 'int', env: 'PODS', default: 50, min: 1, help: 'pods' },
    mode: { kind: 'string', choices: ['a', 'b'], default: 'a', help: 'mode' },
    jitter: { kind: 'bool', default: true, help: 'jitter' },
  };
  it('applies flag > env > default', () => {
    assert.equal(parseArgs([], specs, {}).flags.pods, 50);
    assert.equal(parseArgs([], specs, { PODS: '7' }).flags.pods, 7);
    assert.equal(parseArgs(['--pods', '9'], specs, { PODS: '7' }).flags.pods, 9);
    assert.equal(parseArgs(['--pods=3'], specs).flags.pods, 3);
  });
  it('parses booleans in every spelling', () => {
    assert.equal(parseArgs(['--jitter', 'off'], specs).flags.jitter, false);
    assert.equal(parseArgs(['--no-jitter'], specs).flags.jitter, false);
    assert.equal(parseArgs(['--jitter'], specs).flags.jitter, true);
  });
  it('keeps positionals', () =>
    assert.deepEqual(parseArgs(['burst', '--pods', '2', 'x'], specs).positionals, ['burst', 'x']));
  it('rejects unknown flags by name', () =>
    assert.throws(
      () => parseArgs(['--podz', '3'], specs),
      (e) => isLabError(e, 'LAB_ERR_FLAG_UNKNOWN') && e.message.includes('--podz'),
    ));
  it('rejects bad values naming flag and value', () => {
    assert.throws(
      () => parseArgs(['--pods', 'many'], specs),
      (e) =>
        isLabError(e, 'LAB_ERR_FLAG_VALUE') && e.message.includes('--pods') && e.message.includes('many'),
    );
    assert.throws(() => parseArgs(['--pods', '0'], specs), /minimum/);
    assert.throws(() => parseArgs(['--mode', 'c'], specs), /not one of a, b/);
    assert.throws(() => parseArgs([], specs, { PODS: 'x' }), /PODS/);
  });
  it('-h is --help where the command has one, and an unknown short flag otherwise', () => {
    const withHelp: FlagSpecs = { ...specs, help: { kind: 'bool', help: 'show help' } };
    assert.equal(parseArgs(['-h'], withHelp).flags.help, true);
    assert.throws(
      () => parseArgs(['-h'], specs),
      (e) => isLabError(e, 'LAB_ERR_FLAG_UNKNOWN') && e.message.includes('"-h"'),
    );
  });
  it('formats help: placeholders, aligned columns, defaults and env, -h/--help last', () => {
    const text = formatHelp('tool [flags]', {
      help: { kind: 'bool', help: 'show help' },
      ...specs,
      window: { kind: 'string', placeholder: 'D', defaultText: 'the profile length', help: 'window' },
      'a-very-long-flag-name-indeed': { kind: 'string', placeholder: 'SOMETHING-LONG', help: 'long one' },
    });
    const lines = text.split('\n');
    assert.deepEqual(lines.slice(0, 3), ['Usage: tool [flags]', '', 'Flags:']);
    assert.match(lines[3]!, /^ {2}--pods N +pods \(default: 50; env PODS\)$/);
    assert.match(lines[4]!, /^ {2}--mode a\|b +mode \(default: a\)$/);
    assert.match(lines[5]!, /^ {2}--jitter +jitter \(default: on\)$/);
    assert.match(lines[6]!, /^ {2}--window D +window \(default: the profile length\)$/);
    // too wide for the column: its help goes on the next line, at the column
    assert.equal(lines[7], '  --a-very-long-flag-name-indeed SOMETHING-LONG');
    assert.match(lines[9]!, /^ {2}-h, --help +show help$/);
    const col = lines[3]!.indexOf('pods (');
    const helpAt = (l: string) => l.length - l.replace(/^ {2}\S+(?: \S+)* +/, '').length;
    for (const i of [3, 4, 5, 6, 9]) assert.equal(helpAt(lines[i]!), col, lines[i]);
    assert.equal(lines[8]!.trimStart(), 'long one');
    assert.equal(lines[8]!.length - 'long one'.length, col);
  });
  it('one Usage line first, whatever the synopsis brought', () => {
    const cases: [string, string][] = [
      ['tool [flags]', 'Usage: tool [flags]'],
      ['tool [flags]\nWhat it does.', 'Usage: tool [flags]\nWhat it does.'],
      ['usage: tool x', 'Usage: tool x'],
      ['Usage: tool x\n       tool y', 'Usage: tool x\n       tool y'],
    ];
    for (const [usage, want] of cases) assert.equal(formatUsage(usage), want, usage);
  });
  it('wraps long help under its column', () => {
    const text = formatHelp('t', { x: { kind: 'int', help: 'word '.repeat(40).trim() } }, 60);
    const rows = text.split('\n').slice(3);
    assert.ok(rows.length > 2);
    assert.ok(
      rows.every((r) => r.length <= 60),
      rows.join('\n'),
    );
    assert.ok(rows.slice(1).every((r) => r.startsWith(' '.repeat(rows[0]!.indexOf('word')))));
  });
});

describe('Rng', () => {
  it('is repeatable for a seed and differs across seeds', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const sa = Array.from({ length: 5 }, () => a.next());
    assert.deepEqual(
      sa,
      Array.from({ length: 5 }, () => b.next()),
    );
    assert.notDeepEqual(
      sa,
      Array.from({ length: 5 }, () => c.next()),
    );
  });
  it('stays in range and is roughly uniform', () => {
    const r = new Rng(1);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const v = r.next();
      assert.ok(v >= 0 && v < 1);
      sum += v;
    }
    assert.ok(Math.abs(sum / 100_000 - 0.5) < 0.01);
  });
  it('log-normal median is near the requested median', () => {
    const r = new Rng(3);
    const xs = Array.from({ length: 20_001 }, () => r.logNormal(50, 0.6)).sort((x, y) => x - y);
    assert.ok(Math.abs(xs[10_000]! - 50) < 2, `median ${xs[10_000]}`);
  });
});
