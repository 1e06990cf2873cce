import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isLabError } from '@pushpull/common';
import { type Cell, checkExpectations, type DrillRecord, gridRows, terminalGrid } from '../src/drill/grid.ts';
import { spreadPct } from '../src/drill/modes/scrape-storm.ts';
import { binStats } from '../src/drill/modes/synchronised-flush.ts';
import { renderDrillHtml } from '../src/drill/report.ts';
import { loadScenarios } from '../src/drill/run.ts';
import { FAILURE_MODES, parseScenario } from '../src/drill/scenario.ts';
import { assertSelfContained } from './report-fixtures.ts';
import { targetDiesYaml } from './scenario-fixtures.ts';

const scenarioDir = join(dirname(fileURLToPath(import.meta.url)), '../scenarios');

const minimal = targetDiesYaml(['a'], 'a');

describe('drill scenarios', () => {
  it('every shipped scenario file validates, one per failure mode, in grid order', () => {
    const all = loadScenarios(scenarioDir);
    assert.deepEqual(
      all.map((s) => s.mode),
      [...FAILURE_MODES],
    );
    for (const s of all) {
      assert.ok(s.variants.length > 0, s.name);
      assert.ok(s.expect.length > 0, `${s.name} asserts something`);
      assert.ok(Object.isFrozen(s) && Object.isFrozen(s.variants), 'frozen after validation');
    }
  });

  it('parses durations, defaults and variant push overrides', () => {
    const s = parseScenario(
      minimal.replace(
        '- { name: a, column: push-udp }',
        '- { name: a, column: push-udp, push: { heartbeat: off } }',
      ),
      'x.yml',
    );
    assert.equal(s.observeMs, 30_000);
    assert.equal(s.scrapeIntervalMs, 15_000);
    assert.equal(s.variants[0]!.push.heartbeatMs, 0);
    assert.equal(s.variants[0]!.push.mode, 'per-event');
    assert.equal(s.faults[0]!.producer, 1);
    assert.equal(s.expect[0]!.detectedWithinMs, 45_000);
  });

  const bad: [string, string, RegExp][] = [
    ['unknown key', `${minimal}\nbogus: 1\n`, /bogus: unknown key/],
    ['bad mode', minimal.replace('mode: target-dies', 'mode: meteor'), /mode: "meteor" is not one of/],
    ['bad duration', minimal.replace('observe: 30s', 'observe: soon'), /observe: "soon" is not a duration/],
    ['producer out of range', minimal.replace('producer: 1', 'producer: 5'), /faults\[0\]\.producer/],
    ['fault after window', minimal.replace('at: 0s', 'at: 40s'), /after the observation window/],
    ['expect names unknown variant', minimal.replace('variant: a,', 'variant: zz,'), /no variant named "zz"/],
    ['no variants', minimal.replace('  - { name: a, column: push-udp }\n', ''), /at least one variant/],
    ['not yaml', '{:', /not valid YAML/],
  ];
  for (const [what, text, re] of bad) {
    it(`rejects ${what}, naming file and field`, () => {
      assert.throws(
        () => parseScenario(text, 'x.yml'),
        (e) => isLabError(e, 'LAB_ERR_SCENARIO') && /^x\.yml/.test(e.message) && re.test(e.message),
      );
    });
  }
});

const cell = (o: Partial<Cell>): Cell => ({
  column: 'pull',
  variant: 'a',
  detectedAfterS: null,
  signal: 's',
  lostCount: 0,
  lostPct: 0,
  detail: '',
  ...o,
});

describe('drill expectations and grid', () => {
  const s = parseScenario(
    `${minimal.replace('expect:\n', 'expect:\n  - { column: push-udp, variant: a, never: true }\n  - { column: push-udp, lostPctAtMost: 1 }\n  - { column: pull, metricAtLeast: { name: ratio, value: 5 } }\n')}`,
    'x.yml',
  );
  it('passes when the measurements meet them', () => {
    const r = checkExpectations(
      s,
      [cell({ detectedAfterS: 40 }), cell({ column: 'push-udp', detectedAfterS: null, lostPct: 0.5 })],
      { ratio: 6 },
    );
    assert.deepEqual(
      r.map((x) => x.ok),
      [true, true, true, true],
    );
  });
  it('fails each one that is not met and says what was measured', () => {
    const r = checkExpectations(
      s,
      [cell({ detectedAfterS: 50 }), cell({ column: 'push-udp', detectedAfterS: 31, lostPct: 3 })],
      { ratio: 2 },
    );
    assert.deepEqual(
      r.map((x) => x.ok),
      [false, false, false, false],
    );
    assert.match(r[0]!.text, /never detected — got: detected after 31 s/);
    assert.match(r[1]!.text, /lost 3\.00%/);
    assert.match(r[2]!.text, /ratio = 2\.00/);
    assert.match(r[3]!.text, /detected after 50 s/);
  });
  it('a missing cell fails its expectation', () => {
    assert.equal(checkExpectations(s, [], {})[0]!.ok, false);
  });

  const record: DrillRecord = {
    startedAt: '2026-11-25T00:00:00Z',
    runtime: 'process',
    scenarios: [
      {
        name: 't',
        title: 'Target dies',
        mode: 'target-dies',
        runtime: 'process',
        startedAt: '',
        durationS: 1,
        cells: [
          cell({ detectedAfterS: 36.2, signal: 'InstanceDown fired', lostCount: 12, lostPct: 0.4 }),
          cell({ column: 'push-udp', variant: 'hb-off', signal: 'none' }),
          cell({ column: 'push-udp', variant: 'hb-on', detectedAfterS: 44 }),
        ],
        metrics: { x: 1 },
        series: {
          up: [
            [0, 1],
            [1, 0],
          ],
        },
        notes: [],
        expectations: [{ text: 'pull: detected within 45 s', ok: true }],
        error: null,
      },
    ],
  };
  it('renders rows × columns with every variant of a cell', () => {
    const rows = gridRows(record);
    assert.equal(rows.length, 1);
    assert.match(rows[0]!.cells[0]!, /^a: detected 36 s; lost 12 \(0\.4%\); InstanceDown fired$/);
    assert.match(rows[0]!.cells[1]!, /hb-off: never detected.*\| hb-on: detected 44 s/);
    assert.equal(rows[0]!.cells[2], '—');
    assert.match(terminalGrid(record), /ok {3}t: pull: detected within 45 s/);
    const html = renderDrillHtml(record);
    assert.match(html, /<svg/);
    assertSelfContained(html);
  });
});

describe('drill measurements (pure)', () => {
  it('spreadPct: evenly spread offsets cover most of the interval, identical ones none', () => {
    assert.equal(spreadPct([1000, 1000, 1000], 5000), 0);
    assert.equal(spreadPct([0, 1000, 2000, 3000, 4000], 5000), 80);
    // circular: offsets either side of the boundary are close together
    assert.ok(spreadPct([4900, 5100, 10_050], 5000) < 5);
  });
  it('binStats: peak, mean and p99 of per-bin counts', () => {
    assert.deepEqual(binStats([]), { peak: 0, mean: 0, p99: 0 });
    const st = binStats([0, 0, 0, 100, 0, 0, 0, 0, 0, 0]);
    assert.equal(st.peak, 100);
    assert.equal(st.mean, 10);
  });
});
