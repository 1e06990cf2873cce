import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type FlagSpecs,
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
  ];
  for (const [text, ms] of durations)
    it(`duration ${text} = ${ms} ms`, () => assert.equal(parseDurationMs(text), ms));
  for (const bad of ['', 'abc', '-1s', '5 parsecs']) {
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
