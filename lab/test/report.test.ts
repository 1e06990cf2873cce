import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { statusLine, windowRate } from '../src/burst/progress.ts';
import { contractPhase, renderPhaseMetrics } from '../src/probe/pushgateway.ts';
import { alertTimeline, cpuSeries, recordCharts } from '../src/report/charts.ts';
import { renderHtml, renderMarkdown, renderTerminalSummary, writeReport } from '../src/report/render.ts';
import { compact, escapeXml, lineChart, niceStep, ticks } from '../src/report/svg.ts';
import { record, sample, series, T0 } from './fixtures.ts';
import { assertSelfContained } from './report-fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'pushpull-lab-report-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('report rendering', () => {
  const r = record({
    series: series(-10, 20, (sec) => ({
      alerts:
        sec >= 2 && sec < 5
          ? [{ name: 'UdpReceiveErrors', state: 'pending', count: 1 }]
          : sec >= 5
            ? [{ name: 'UdpReceiveErrors', state: 'firing', count: 1 }]
            : [],
    })),
  });

  it('HTML is self-contained: inline SVG charts and inline scripts, no external resource', () => {
    const html = renderHtml(r);
    assertSelfContained(html);
    assert.match(html, /<script>[^<]*uPlot/, 'the chart library is inlined');
    assert.match(html, /<script type="application\/json" id="chart-data">/);
    for (const id of [
      'pull-rate',
      'push-rate',
      'cumulative',
      'scrape-duration',
      'body-size',
      'udp-drops',
      'cpu',
      'alerts',
    ])
      assert.match(html, new RegExp(`<figure id="${id}"><svg`), id);
    assert.ok(html.includes(escapeXml(r.verdict)));
    assert.ok(html.includes('a note with &lt;html&gt; &amp; &quot;quotes&quot;'), 'escaped');
    assert.match(
      html,
      /<td class="r">5,000<\/td><td class="r">4,000<\/td><td class="r">1,000<\/td><td class="r">20.0%<\/td>/,
    );
  });

  it('markdown has the verdict, the loss table and the first failures', () => {
    const md = renderMarkdown(r);
    assert.match(md, /\*\*Verdict:\*\* push \(per-event UDP\) failed first/);
    assert.match(md, /\| push \(per-event UDP\) \| 5,000 \| 4,000 \| 1,000 \| 20\.0% \|/);
    assert.match(md, /\| pull \(Prometheus scrape\) \| 5,000 \| 5,000 \| 0 \| 0% \|/);
    assert.match(md, /\| 1 \| push \| kernel-udp-drop \| \+0\.9 \|/);
    assert.match(md, /\| lost between them \| 1,000 \|/);
  });

  it('a failed run says the numbers are partial', () => {
    assert.match(renderMarkdown(record({ error: 'LAB_ERR_CHILD_EXIT: collector died' })), /PARTIAL/);
    assert.match(renderHtml(record({ error: 'boom' })), /PARTIAL/);
  });

  it('terminal summary: verdict sentence and loss table', () => {
    const t = renderTerminalSummary({ ...r, failOn: { expr: 'push.lossPct>1', met: true } });
    assert.match(t, /^verdict: push \(per-event UDP\) failed first/);
    assert.match(t, /push \(per-event UDP\)\s+5,000\s+4,000\s+1,000\s+20\.0%/);
    assert.match(t, /\+0\.9 s\s+push\s+kernel-udp-drop/);
    assert.match(t, /--fail-on "push.lossPct>1": MET \(exit 3\)/);
  });

  it('writes run.json (round-trips), report.md, report.html', () => {
    const w = writeReport(join(dir, 'out'), r);
    assert.equal(w.files.length, 3);
    assert.deepEqual(
      JSON.parse(readFileSync(join(dir, 'out', 'run.json'), 'utf8')),
      JSON.parse(JSON.stringify(r)),
    );
    assert.ok(readFileSync(join(dir, 'out', 'report.html'), 'utf8').startsWith('<!doctype html>'));
  });

  it('every chart is well-formed XML-ish SVG (balanced tags)', () => {
    for (const c of recordCharts(r)) {
      const opens = (c.svg.match(/<(svg|text|title|rect)(\s[^>]*)?(?<!\/)>/g) ?? []).length;
      const closes = (c.svg.match(/<\/(svg|text|title|rect)>/g) ?? []).length;
      assert.equal(opens, closes, c.id);
      assert.ok(!c.svg.includes('NaN'), `${c.id} has no NaN coordinates`);
    }
  });

  it('alert timeline: pending then firing spans', () => {
    const rows = alertTimeline(r.series, T0);
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0]!.spans, [
      { from: 2, to: 5, state: 'pending' },
      { from: 5, to: 21, state: 'firing' },
    ]);
  });

  it('CPU per component in cores from cumulative seconds', () => {
    const c = cpuSeries(series(0, 3), T0);
    assert.deepEqual(
      c.map((x) => x.name),
      ['lab', 'producers', 'prometheus'],
    );
    assert.deepEqual(
      c.find((x) => x.name === 'producers')!.points.map((p) => p.y),
      [null, 2, 2, 2],
    );
  });

  it('alert timeline: ticks without an alert observation continue the previous state', () => {
    const s = series(0, 6, (sec) => ({
      alerts:
        sec % 2 === 1 ? null : sec >= 2 ? [{ name: 'InstanceDown', state: 'firing' as const, count: 1 }] : [],
    }));
    assert.deepEqual(alertTimeline(s, T0)[0]!.spans, [{ from: 2, to: 7, state: 'firing' }]);
  });

  it('chart helpers', () => {
    assert.equal(niceStep(97), 20);
    assert.equal(niceStep(0), 1);
    assert.deepEqual(ticks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
    assert.equal(compact(1234), '1.2k');
    assert.equal(compact(3_400_000), '3.4M');
    assert.equal(compact(0.41), '0.41');
    assert.match(lineChart({ title: 't', yLabel: 'y', series: [] }), /no data/);
    const svg = lineChart({
      title: 'a<b',
      yLabel: 'y',
      series: [
        {
          name: 's',
          points: [
            { x: 0, y: null },
            { x: 1, y: 5 },
          ],
        },
      ],
    });
    assert.match(svg, /a&lt;b/);
    assert.match(svg, /<circle/);
  });
});

describe('live progress', () => {
  it('rates over a window and a status line with both paths', () => {
    const s = series(-3, 3);
    assert.equal(
      windowRate(s, (x) => x.ledger?.orders, 2000),
      100,
    );
    const line = statusLine(s, {
      burstAtMs: T0,
      scrapeIntervalMs: 2000,
      pods: 20,
      producers: 1,
      elapsedMs: 42_000,
    });
    assert.match(line, /^\[ {2}42s T\+3s\] peak/);
    assert.match(line, /pull 100\/s emitted 100\/s stored up 10\/10/);
    assert.match(line, /push 100\/s emitted 100\/s counted/);
    assert.equal(
      windowRate([sample(0)], (x) => x.ledger?.orders, 1000),
      null,
    );
  });
});

describe('Pushgateway phase annotations (contract)', () => {
  it('maps lab phases onto the contract phases', () => {
    assert.equal(contractPhase('start'), null);
    assert.equal(contractPhase('warmup'), 'warmup');
    assert.equal(contractPhase('ramp'), 'burst');
    assert.equal(contractPhase('peak'), 'hold');
    assert.equal(contractPhase('after'), 'decay');
    assert.equal(contractPhase('final-scrapes'), 'drain');
    assert.equal(contractPhase('done'), 'done');
  });

  it('renders valid exposition with the contract names (promtool check metrics)', () => {
    const text = renderPhaseMetrics({
      runId: 'r1',
      current: 'hold',
      startedMs: { warmup: T0 - 10_000, burst: T0, hold: T0 + 800 },
      expectedSources: 140,
      burstAtMs: T0,
      faults: [{ kind: 'kill', target: 'producer-1', count: 1 }],
    });
    assert.match(text, /pushpull_lab_phase\{run_id="r1",phase="hold"\} 1/);
    assert.match(text, /pushpull_lab_phase\{run_id="r1",phase="warmup"\} 0/);
    assert.match(
      text,
      /pushpull_lab_phase_started_timestamp_seconds\{run_id="r1",phase="burst"\} 1700000000\.000/,
    );
    assert.match(text, /pushpull_lab_expected_sources\{run_id="r1"\} 140/);
    assert.match(text, /pushpull_lab_burst_timestamp_seconds\{run_id="r1"\} 1700000000\.000/);
    assert.match(text, /pushpull_lab_faults_total\{run_id="r1",kind="kill",target="producer-1"\} 1/);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
    // promtool lints HELP absence; only real format errors fail it
    assert.ok(
      !/error while linting|text format parsing error/i.test(r.stdout + r.stderr),
      r.stdout + r.stderr,
    );
  });
});
