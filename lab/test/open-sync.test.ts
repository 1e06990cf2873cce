// The open across clocks (analysis/open-sync.ts): offsets from timed exchanges, the instant each producer is
// told, the spread of actual opens and the warning above 50 ms — with compensation on and off.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bestOffset,
  type ClockExchange,
  type MeasuredOffset,
  type OpenObservation,
  openRecord,
  startInstants,
} from '../src/analysis/open-sync.ts';
import { testClockSkewOf } from '../src/burst/flags.ts';

const T0 = 1_800_000_000_000;

describe('clock offset from exchanges', () => {
  const cases: [string, ClockExchange[], MeasuredOffset | null][] = [
    ['none', [], null],
    ['one, symmetric', [{ sentMs: 100, remoteMs: 355, receivedMs: 110 }], { offsetMs: 250, errorMs: 5 }],
    [
      'the smallest round trip wins',
      [
        { sentMs: 0, remoteMs: 300, receivedMs: 40 },
        { sentMs: 100, remoteMs: 351, receivedMs: 102 },
        { sentMs: 200, remoteMs: 480, receivedMs: 230 },
      ],
      { offsetMs: 250, errorMs: 1 },
    ],
    ['behind', [{ sentMs: 1000, remoteMs: 600, receivedMs: 1000 }], { offsetMs: -400, errorMs: 0 }],
    [
      'a negative round trip or a NaN reading is skipped',
      [
        { sentMs: 10, remoteMs: 0, receivedMs: 5 },
        { sentMs: 0, remoteMs: Number.NaN, receivedMs: 1 },
        { sentMs: 0, remoteMs: 12, receivedMs: 4 },
      ],
      { offsetMs: 10, errorMs: 2 },
    ],
  ];
  for (const [name, ex, want] of cases) it(name, () => assert.deepEqual(bestOffset(ex), want));
});

describe('start instants', () => {
  const offsets = new Map<string, MeasuredOffset | null>([
    ['a', { offsetMs: 0.4, errorMs: 1 }],
    ['b', { offsetMs: 250.6, errorMs: 1 }],
    ['c', null],
  ]);
  const cases: [boolean, [string, number][]][] = [
    [
      true,
      [
        ['a', T0],
        ['b', T0 + 251],
        ['c', T0],
      ],
    ],
    [
      false,
      [
        ['a', T0],
        ['b', T0],
        ['c', T0],
      ],
    ],
  ];
  for (const [compensate, want] of cases)
    it(`compensation ${compensate ? 'on: T0 + offset in its own clock' : 'off: T0 for all'}`, () =>
      assert.deepEqual([...startInstants(T0, offsets, compensate)], want));
});

/**
 * Producers whose clocks are off by `skews` (ms), told by the lab with the offsets it measured (±1 ms error),
 * opening at their own 10 ms tick: what run.open says.
 */
function simulate(
  skews: number[],
  compensate: boolean,
  tickLate = (_i: number) => 4,
): ReturnType<typeof openRecord> {
  const measured = new Map(
    skews.map((s, i) => [`p${i}` as string, { offsetMs: s + (i % 2 ? 0.8 : -0.6), errorMs: 1 }] as const),
  );
  const starts = startInstants(T0, measured, compensate);
  const obs: OpenObservation[] = skews.map((skew, i) => {
    const name = `p${i}`;
    const startAtMs = starts.get(name)!;
    return {
      name,
      node: i === 0 ? 'w1' : 'w2',
      before: measured.get(name)!,
      after: { offsetMs: skew + 0.3, errorMs: 1 },
      startAtMs,
      openedOwnMs: startAtMs + tickLate(i), // its own clock at its first tick past the open
      ...(skew ? { testClockSkewMs: skew } : {}),
    };
  });
  return openRecord(T0, compensate, obs);
}

describe('spread of the actual opens and the warning', () => {
  it('compensated: a producer 250 ms ahead opens with the others, spread < 50 ms, no warning', () => {
    const o = simulate([0, 250, 0], true);
    assert.ok(o.spreadMs !== null && o.spreadMs < 50, String(o.spreadMs));
    assert.ok(o.clockSpreadMs !== null && o.clockSpreadMs < 5, String(o.clockSpreadMs));
    assert.equal(o.maxLateMs, 4);
    assert.equal(o.warning, null);
    assert.equal(o.compensation, true);
    assert.equal(o.producers[1]!.clockOffsetMs, 250.8);
    assert.equal(o.producers[1]!.startAtMs, T0 + 251);
    assert.equal(o.producers[1]!.testClockSkewMs, 250);
    for (const p of o.producers) assert.ok(Math.abs(p.openedAtMs! - T0) < 10, JSON.stringify(p));
  });
  it('uncompensated: the same producer opens 250 ms early, and the lab warns naming it', () => {
    const o = simulate([0, 250, 0], false);
    assert.ok(o.spreadMs !== null && Math.abs(o.spreadMs - 250) < 2, String(o.spreadMs));
    assert.match(o.warning ?? '', /the open spread over 25\d(\.\d)? ms across producers \(> 50 ms\)/);
    assert.match(o.warning ?? '', /p1 opened first/);
    assert.match(o.warning ?? '', /the clocks' part is 25\d(\.\d)? ms and clock compensation is off/);
    assert.ok(Math.abs((o.clockSpreadMs ?? 0) - 250) < 2);
  });
  it('compensated, but one producer opened 120 ms late (a busy node): warned as lateness, not clocks', () => {
    const o = simulate([0, 250, 0], true, (i) => (i === 2 ? 120 : 4));
    assert.ok(o.spreadMs !== null && o.spreadMs > 100, String(o.spreadMs));
    assert.ok(o.clockSpreadMs !== null && o.clockSpreadMs < 5, String(o.clockSpreadMs));
    assert.equal(o.maxLateMs, 120);
    assert.match(o.warning ?? '', /p2 last .*the clocks agree .*producers opened late, up to 120 ms/);
  });
  it('one kernel clock, compensation off: no spread worth a warning', () => {
    const o = simulate([0, 0, 0], false);
    assert.ok((o.spreadMs ?? 99) < 5);
    assert.equal(o.warning, null);
  });
  it('a producer that did not report its open: spread of the rest, and a warning that says which', () => {
    const obs: OpenObservation[] = ['a', 'b'].map((name, i) => ({
      name,
      node: null,
      before: { offsetMs: 0, errorMs: 1 },
      after: null,
      startAtMs: T0,
      openedOwnMs: i === 0 ? T0 + 3 : null,
    }));
    const o = openRecord(T0, true, obs);
    assert.equal(o.spreadMs, null);
    assert.equal(o.producers[0]!.openedAtMs, T0 + 3, 'the first offset converts when none was taken after');
    assert.match(o.warning ?? '', /unknown \(open not measured on b\)/);
  });
});

describe('--test-clock-skew NODE:MS', () => {
  const cases: [string | undefined, string, object | RegExp][] = [
    [undefined, 'swarm', {}],
    ['abcd1234:250', 'swarm', { testClockSkew: { node: 'abcd1234', ms: 250 } }],
    ['abcd:-300', 'swarm', { testClockSkew: { node: 'abcd', ms: -300 } }],
    ['abcd1234:250', 'process', /only with --runtime swarm.*not "process"/],
    ['abc:250', 'swarm', /"abc:250" is not NODE:MS/],
    ['abcd1234:0', 'swarm', /is not NODE:MS/],
    ['abcd1234:600001', 'swarm', /is not NODE:MS/],
    ['abcd1234', 'swarm', /is not NODE:MS/],
  ];
  for (const [raw, runtime, want] of cases)
    it(`${raw} on ${runtime}`, () => {
      const rt = runtime as 'swarm' | 'process';
      if (want instanceof RegExp) assert.throws(() => testClockSkewOf(raw, rt), want);
      else assert.deepEqual(testClockSkewOf(raw, rt), want);
    });
});
