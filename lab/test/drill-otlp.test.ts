// The drill's OTLP column, pure parts: scenario parsing of push-otlp variants, the grid and expectations
// with a fourth column, and the cell builders / measurements of the OTLP modes.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { emptyCounts, isLabError } from '@pushpull/common';
import { type Cell, checkExpectations, type DrillRecord, gridRows, terminalGrid } from '../src/drill/grid.ts';
import { otlpCollectorFlags, otlpFlushCell, perPoll, receiverSample } from '../src/drill/modes/otlp-flush.ts';
import { killAfterMs, msToBoundary, otlpJobCells } from '../src/drill/modes/otlp-job.ts';
import { otlpActivity, otlpKillCell, otlpPartitionCell } from '../src/drill/modes/otlp-target.ts';
import { combinePeaks } from '../src/drill/modes/synchronised-flush.ts';
import { renderDrillHtml } from '../src/drill/report.ts';
import { loadScenarios } from '../src/drill/run.ts';
import { parseScenario, type Scenario } from '../src/drill/scenario.ts';

const scenarioDir = join(dirname(fileURLToPath(import.meta.url)), '../scenarios');

const base = `
name: t
title: T
mode: network-partition
description: d
fleet: { pods: 4, podsPerProducer: 2 }
observe: 30s
variants:
  - { name: udp, column: push-udp }
  - { name: otlp-c, column: push-otlp, push: { transport: otlp, flushInterval: 2s } }
  - { name: otlp-d, column: push-otlp, push: { transport: otlp, flushInterval: 2s, temporality: delta } }
faults:
  - { at: 0s, action: partition, producer: 1 }
  - { at: 20s, action: heal, producer: 1 }
expect:
  - { column: push-otlp, variant: otlp-c, lostPctAtMost: 1 }
  - { column: push-otlp, variant: otlp-d, lostPctAtLeast: 10 }
`;

function rejects(text: string, field: RegExp): void {
  assert.throws(
    () => parseScenario(text, 'x.yml'),
    (e: unknown) => isLabError(e) && e.code === 'LAB_ERR_SCENARIO' && field.test(e.message),
  );
}

describe('scenario: the push-otlp column', () => {
  it('parses OTLP variants, their temporality (absent = the SDK default) and expectations on them', () => {
    const s = parseScenario(base, 'x.yml');
    const [udp, c, d] = s.variants;
    assert.equal(udp!.push.transport, 'udp');
    assert.equal(udp!.push.otlpTemporality, undefined);
    assert.deepEqual(
      [c!.column, c!.push.transport, c!.push.otlpTemporality],
      ['push-otlp', 'otlp', undefined],
    );
    assert.equal(c!.push.flushIntervalMs, 2000);
    assert.equal(d!.push.otlpTemporality, 'delta');
    assert.deepEqual(
      s.expect.map((e) => [e.column, e.variant]),
      [
        ['push-otlp', 'otlp-c'],
        ['push-otlp', 'otlp-d'],
      ],
    );
  });
  it('rejects a column that does not match the transport, either way', () => {
    rejects(
      base.replace('column: push-udp }', 'column: push-otlp }'),
      /variants\[0\]\.column.*needs push\.transport otlp/,
    );
    rejects(
      base.replace('{ name: otlp-c, column: push-otlp', '{ name: otlp-c, column: push-tcp'),
      /variants\[1\]\.column.*belongs in column push-otlp/,
    );
  });
  it('rejects a temporality on a StatsD transport and an unknown one', () => {
    rejects(
      base.replace('column: push-udp }', 'column: push-udp, push: { temporality: delta } }'),
      /temporality.*otlp only/,
    );
    rejects(
      base.replace('temporality: delta', 'temporality: sideways'),
      /temporality.*not one of cumulative, delta/,
    );
  });
  it('synchronised-flush takes an OTLP in-flight budget within the collector flag range', () => {
    const sf = (v: string) =>
      base.replace('mode: network-partition', `mode: synchronised-flush\nparams: { otlpMaxInflight: ${v} }`);
    assert.deepEqual(otlpCollectorFlags(parseScenario(sf('256KiB'), 'x.yml')), [
      '--otlp-max-inflight-bytes',
      '262144',
    ]);
    rejects(sf('100'), /params\.otlpMaxInflight/);
    rejects(
      base.replace('mode: network-partition', 'mode: target-dies\nparams: { otlpMaxInflight: 1MiB }'),
      /otlpMaxInflight.*unknown key/,
    );
    assert.deepEqual(otlpCollectorFlags(parseScenario(base, 'x.yml')), []);
  });
  it('the four scenarios where it applies ship an OTLP variant', () => {
    const withOtlp = loadScenarios(scenarioDir)
      .filter((s) => s.variants.some((v) => v.column === 'push-otlp' && v.push.transport === 'otlp'))
      .map((s) => s.mode);
    assert.deepEqual(withOtlp, ['target-dies', 'network-partition', 'short-lived-job', 'synchronised-flush']);
    const np = loadScenarios(scenarioDir).find((s) => s.mode === 'network-partition')!;
    const temps = np.variants.filter((v) => v.column === 'push-otlp').map((v) => v.push.otlpTemporality);
    assert.deepEqual(temps, ['cumulative', 'delta'], 'the partition shows cumulative next to delta');
  });
});

const cell = (o: Partial<Cell>): Cell => ({
  column: 'push-otlp',
  variant: 'otlp-c',
  detectedAfterS: null,
  signal: 's',
  lostCount: 0,
  lostPct: 0,
  detail: '',
  ...o,
});

describe('grid and expectations with the OTLP column', () => {
  const s = parseScenario(base, 'x.yml');
  it('checks expectations against the push-otlp cells by variant', () => {
    const ok = checkExpectations(s, [cell({ lostPct: 0 }), cell({ variant: 'otlp-d', lostPct: 40 })], {});
    assert.deepEqual(
      ok.map((x) => x.ok),
      [true, true],
    );
    const bad = checkExpectations(s, [cell({ lostPct: 5 }), cell({ variant: 'otlp-d', lostPct: 0 })], {});
    assert.deepEqual(
      bad.map((x) => x.ok),
      [false, false],
    );
    assert.match(bad[0]!.text, /push-otlp \(otlp-c\): loses at most 1% — got: lost 5\.00%/);
  });
  it('renders a fourth column in the terminal grid and the HTML report', () => {
    const record: DrillRecord = {
      startedAt: '2026-12-01T00:00:00Z',
      runtime: 'process',
      scenarios: [
        {
          name: 't',
          title: 'Network partition',
          mode: 'network-partition',
          runtime: 'process',
          startedAt: '',
          durationS: 1,
          cells: [cell({ lostCount: 0 }), cell({ variant: 'otlp-d', lostCount: 900, lostPct: 45 })],
          metrics: {},
          series: {},
          notes: [],
          expectations: [],
          error: null,
        },
      ],
    };
    const row = gridRows(record)[0]!;
    assert.deepEqual(row.cells.slice(0, 3), ['—', '—', '—']);
    assert.match(
      row.cells[3]!,
      /^otlp-c: never detected; lost 0 \(0\.0%\); s \| otlp-d: .*lost 900 \(45\.0%\)/,
    );
    assert.match(terminalGrid(record), /\n {2}push-otlp otlp-c:/);
    assert.match(renderDrillHtml(record), /push OTLP\/HTTP \(OpenTelemetry SDK\)/);
  });
});

const counts = (o: Partial<ReturnType<typeof emptyCounts>>) => ({ ...emptyCounts(), ...o });
const variant = (temporality?: 'cumulative' | 'delta') =>
  parseScenario(base, 'x.yml').variants.find((v) =>
    temporality === 'delta' ? v.name === 'otlp-d' : v.name === 'otlp-c',
  )!;

describe('OTLP cells: target dies, network partition', () => {
  it('activity is what the exporter did between two ledgers; retries = requests beyond one per export', () => {
    const a = otlpActivity(
      counts({ otlpExports: 10, otlpRequests: 10 }),
      counts({ otlpExports: 30, otlpExportsFailed: 18, otlpRequests: 55, otlpRequestsRetryable: 2 }),
    );
    assert.deepEqual(a, { exports: 20, exportsFailed: 18, requests: 45, requestsRetryable: 2 });
    const c = otlpPartitionCell(
      variant(),
      { pushAlertS: null, producerFailS: 2.1 },
      a,
      counts({ ordersPushed: 1000 }),
      1000,
      40_000,
    );
    assert.equal(c.lostCount, 0);
    assert.match(
      c.signal,
      /no alert in the 40 s window; the producer saw its first failed export after 2\.1 s/,
    );
    assert.match(
      c.detail,
      /18 of 20 exports failed .* 45 HTTP requests sent \(25 beyond one per export: retries\)/,
    );
    assert.match(c.detail, /cumulative.*first export after the heal carried the totals/);
  });
  it('delta: the failed exports are lost and the cell says so', () => {
    const a = { exports: 20, exportsFailed: 18, requests: 45, requestsRetryable: 0 };
    const c = otlpPartitionCell(
      variant('delta'),
      { pushAlertS: 41, producerFailS: null },
      a,
      counts({ ordersPushed: 1000 }),
      600,
      40_000,
    );
    assert.equal(c.lostCount, 400);
    assert.equal(c.lostPct, 40);
    assert.equal(c.detectedAfterS, 41);
    assert.match(c.signal, /PushHeartbeatAbsent fired.*; the producer counted failed exports/);
    assert.match(c.detail, /delta.*points are gone/);
  });
  it('a kill loses what was recorded since the last successful export', () => {
    const c = otlpKillCell(
      variant(),
      33,
      counts({ ordersPushed: 500, otlpOrdersExported: 480 }),
      480,
      75_000,
    );
    assert.equal(c.lostCount, 20);
    assert.equal(c.lostPct, 4);
    assert.match(
      c.detail,
      /500 orders recorded .* last successful export carried 480, the receiver holds 480/,
    );
  });
});

describe('OTLP short-lived job (pure)', () => {
  it('kills well inside the job and before the first export; starts just after a boundary', () => {
    assert.equal(killAfterMs(8000, 30_000), 4000);
    assert.equal(killAfterMs(3000, 30_000), 1500);
    assert.equal(killAfterMs(8000, 6000), 1500);
    assert.equal(msToBoundary(60_000, 30_000), 300);
    assert.equal(msToBoundary(60_100, 30_000), 200);
    assert.equal(msToBoundary(60_400, 30_000), 29_900);
  });
  it('cells: the clean job exports at shutdown, the killed one left nothing', () => {
    const [ends, killed] = otlpJobCells(
      30_000,
      8000,
      4000,
      { job: { orders: 50, ordersPushed: 50, otlpExports: 1, otlpOrdersExported: 50 }, stored: 50 },
      { recorded: 25, exports: 0, stored: 0 },
    );
    assert.deepEqual([ends!.lostCount, killed!.lostCount, killed!.lostPct], [0, 25, 100]);
    assert.match(ends!.signal, /1 export\(s\), at shutdown/);
    assert.match(killed!.signal, /killed before its first export/);
  });
});

describe('OTLP synchronised export (pure)', () => {
  const self = (req200: number, req429: number, inflight: number) =>
    `# TYPE collector_otlp_requests_total counter\ncollector_otlp_requests_total{code="200"} ${req200}\ncollector_otlp_requests_total{code="429"} ${req429}\n# TYPE collector_otlp_inflight_bytes gauge\ncollector_otlp_inflight_bytes ${inflight}\ncollector_series 5\n`;
  it('reads requests, 429/503 answers and in-flight bytes from the self-metrics; requests per poll', () => {
    const a = receiverSample(self(10, 0, 0));
    const b = receiverSample(self(70, 5, 4096));
    assert.deepEqual(b, { requests: 75, throttled: 5, inflightBytes: 4096 });
    assert.deepEqual(perPoll([a, a, b, receiverSample(self(70, 5, 0))]), [0, 65, 0]);
  });
  it('jitter off vs on peak ratio per path', () => {
    const o = (metrics: Record<string, number>) => ({ cells: [], metrics, series: {}, notes: [] });
    const m = new Map([
      ['jitter-off', o({ peak: 600 })],
      ['jitter-on', o({ peak: 60 })],
      ['otlp-jitter-off', o({ otlpPeakRequests: 40 })],
      ['otlp-jitter-on', o({ otlpPeakRequests: 8 })],
    ]);
    assert.deepEqual(combinePeaks(m), { peakVsJitterOn: 10, otlpPeakVsJitterOn: 5 });
    assert.deepEqual(combinePeaks(new Map([['otlp-jitter-off', o({ otlpPeakRequests: 40 })]])), {});
  });
  it('the cell: peak, throttling and loss', () => {
    const s = { pods: 60 } as Scenario;
    const c = otlpFlushCell(s, 'otlp-jitter-off', false, 4000, {
      peak: 60,
      mean: 1.5,
      throttled: 12,
      peakInflight: 200_000,
      pushed: 1000,
      delivered: 990,
      failed: 1,
      retryable: 12,
    });
    assert.equal(c.lostCount, 10);
    assert.match(c.signal, /peak 60 requests\/100 ms at the receiver, 40\.0× the mean; 12 answered 429\/503/);
  });
});
