import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { causeBarsSvg, causeColour } from '../src/report/cause-bars.ts';
import { recordCharts } from '../src/report/charts.ts';
import { toUplot } from '../src/report/interactive.ts';
import {
  budgetRows,
  causesNotes,
  causesTable,
  falsePagesTable,
  interruptedBanner,
  pullResolutionTable,
  visibilityTable,
} from '../src/report/loss-tables.ts';
import { renderHtml, renderMarkdown, renderTerminalSummary } from '../src/report/render.ts';
import { allZero, gaps, lineChart } from '../src/report/svg.ts';
import { environmentTable, failuresTable } from '../src/report/tables.ts';
import { record } from './fixtures.ts';
import { record2 } from './report-fixtures.ts';

const v1 = record();
const v2 = record2();

describe('where the loss went (run@2)', () => {
  it('one row per cause, in words, estimates marked, summing to the loss, unexplained last', () => {
    const t = causesTable(v2, 'push')!;
    assert.deepEqual(
      t.rows.map((r) => r.slice(0, 3)),
      [
        ["dropped by the kernel (the collector's receive buffer was full)", '600', '60.0%'],
        ['refused by the collector (series-limit)', '≈ 300', '30.0%'],
        ['not explained by any measured cause', '100', '10.0%'],
      ],
    );
    assert.match(t.rows[1]![3]!, /^estimate: /);
    const sum = v2.paths.push.causes!.reduce((a, c) => a + c.orders, 0);
    assert.equal(sum, v2.paths.push.lost);
  });
  it('unexplained is listed even at 0 and even when the record left it out', () => {
    const pull = causesTable(v2, 'pull')!;
    assert.deepEqual(pull.rows.at(-1)!.slice(0, 3), ['not explained by any measured cause', '0', '0.0%']);
    const stripped = record2();
    stripped.paths.pull.causes = stripped.paths.pull.causes!.filter((c) => c.cause !== 'unexplained');
    assert.equal(causesTable(stripped, 'pull')!.rows.at(-1)![0], 'not explained by any measured cause');
  });
  it('a path that lost nothing has no table and says so', () => {
    const r = record2();
    r.paths.pull = { ...r.paths.pull, delivered: 5000, lost: 0, lossPct: 0, causes: [] };
    assert.equal(causesTable(r, 'pull'), null);
    assert.deepEqual(causesNotes(r), ['pull (Prometheus scrape): nothing was lost.']);
  });
  it('run@1: no cause tables, a sentence instead', () => {
    assert.equal(causesTable(v1, 'push'), null);
    assert.deepEqual(causesNotes(v1), [
      'push (per-event UDP): this record (pushpull-lab/run@1) has no loss-by-cause accounting.',
    ]);
    assert.equal(causeBarsSvg(v1), null);
  });
  it('stacked bars: one colour per cause on every bar, a tooltip per segment', () => {
    const svg = causeBarsSvg(v2)!;
    const grey = causeColour('unexplained');
    assert.equal(
      (svg.match(new RegExp(`class="seg"[^>]*fill="${grey}"`, 'g')) ?? []).length,
      1,
      'pull unexplained is 0: no segment',
    );
    assert.equal((svg.match(/class="seg"/g) ?? []).length, 4);
    assert.match(svg, /<title>refused by the collector \(series-limit\): ≈ 300 orders \(30\.0%\)<\/title>/);
    assert.equal(
      causeColour('collector-refused:series-limit'),
      causeColour('collector-refused:series-limit'),
    );
    assert.notEqual(causeColour('kernel-rcvbuf'), causeColour('target-died'));
  });
});

describe('the other run@2 tables', () => {
  it('what failed first: impact = orders lost to the cause the signal points at', () => {
    const t = failuresTable(v2);
    assert.equal(t.head[4], 'impact (orders lost to its cause)');
    assert.deepEqual(
      t.rows.map((r) => [r[2], r[4]]),
      [
        ['kernel-udp-drop', '600 (60.0% of the loss)'],
        ['collector-drop', '300 (30.0% of the loss)'],
        ['slow-scrape', '–'],
        ['died:producer-1', '200 (100.0% of the loss)'],
      ],
    );
    assert.equal(failuresTable(v1).rows[0]![4], '–', 'run@1: no causes, no impact');
  });
  it('environment: series stored, the limit and who set it, and how the two limits fail', () => {
    const rows = environmentTable(v2).rows;
    assert.deepEqual(
      rows.find((r) => r[0] === 'push: series stored / limit in force'),
      ['push: series stored / limit in force', '100,000 / limit 100,000 (set by user)'],
    );
    const how = rows.find((r) => r[0] === 'how the two limits fail')![1]!;
    assert.match(
      how,
      /push: a line for a new series is refused; pull: a scrape over sample_limit is discarded whole/,
    );
    assert.deepEqual(budgetRows(v1), []);
  });
  it('environment: the open across producers (run.open) in one row; none without it', () => {
    const open = {
      scheduledAtMs: 1,
      compensation: false,
      spreadMs: 251.5,
      clockSpreadMs: 249,
      maxLateMs: 4,
      warnAboveMs: 50,
      warning: 'w',
      producers: [],
    };
    const rows = environmentTable(record2({ open })).rows;
    assert.deepEqual(
      rows.find((r) => r[0] === 'open spread'),
      [
        'open spread',
        "251.5 ms across 0 producers (clocks' part 249 ms, latest tick 4 ms late; compensation off; warned above 50 ms)",
      ],
    );
    assert.equal(
      environmentTable(v2).rows.find((r) => r[0] === 'open spread'),
      undefined,
    );
  });
  it('false pages, visibility, pull resolution; null for run@1', () => {
    assert.deepEqual(falsePagesTable(v2)!.rows, [['UdpReceiveErrors', 'push', '+5.2', '2']]);
    assert.deepEqual(
      visibilityTable(v2)!.rows.map((r) => r.slice(0, 4)),
      [
        ['pull (Prometheus scrape)', '7.5 s', '14.0 s', 'all caught up'],
        ['push (per-event UDP)', '1.2 s', 'never caught up', '3 of 20 s never caught up'],
      ],
    );
    assert.equal(pullResolutionTable(v2)!.rows[1]![1], '3');
    assert.equal(falsePagesTable(v1), null);
    assert.equal(visibilityTable(v1), null);
    assert.equal(pullResolutionTable(v1), null);
  });
  it('an interrupted record says so, with the phase, everywhere', () => {
    const r = record2({ interrupted: true });
    assert.equal(interruptedBanner(r), 'this run was interrupted at quiesce; the numbers are partial');
    assert.equal(interruptedBanner(v2), null);
    assert.match(renderMarkdown(r), /\*\*This run was interrupted at quiesce; the numbers are partial\.\*\*/);
    assert.match(renderHtml(r), /<div class="banner" id="interrupted">this run was interrupted at quiesce/);
    assert.match(renderTerminalSummary(r), /THIS RUN WAS INTERRUPTED AT QUIESCE/);
    assert.ok(!/interrupted/.test(renderMarkdown(v2)));
  });
  it('both schemas render every section', () => {
    for (const r of [v1, v2]) {
      const md = renderMarkdown(r);
      for (const h of [
        'Where the loss went',
        'What failed first',
        'False pages',
        'Visibility',
        'Environment',
      ])
        assert.match(md, new RegExp(`## ${h}`), `${r.schema}: ${h}`);
    }
    assert.match(renderMarkdown(v1), /does not list the alerts that fired/);
    assert.match(renderTerminalSummary(v2), /push lost because: dropped by the kernel .* 60\.0% · refused/);
  });
});

describe('charts worth reading', () => {
  it('memory is two charts: the host, and RSS per component', () => {
    const ids = recordCharts(v2).map((c) => c.id);
    assert.ok(ids.includes('memory-host') && ids.includes('memory-rss') && !ids.includes('memory'));
    const rss = recordCharts(v2).find((c) => c.id === 'memory-rss')!.options!;
    assert.deepEqual(
      rss.series.map((s) => s.name),
      ['collector', 'prometheus'],
    );
  });
  it('a series of zeros is drawn and labelled; a gap in the data is marked', () => {
    const zero = { name: 'drops', points: [0, 1, 2].map((x) => ({ x, y: 0 })) };
    const holey = {
      name: 'h',
      points: [
        { x: 0, y: 1 },
        { x: 1, y: null },
        { x: 2, y: null },
        { x: 3, y: 2 },
        { x: 4, y: null },
      ],
    };
    assert.ok(allZero(zero) && !allZero(holey));
    assert.deepEqual(gaps([holey]), [{ from: 0, to: 3 }], 'a trailing null is no gap');
    const svg = lineChart({ title: 't', yLabel: 'y', series: [zero, holey] });
    assert.match(svg, /drops \(0 throughout\)/);
    assert.match(svg, /<path d="M[^"]+L[^"]+" fill="none" stroke="#1f77b4"/, 'the zero line is drawn');
    assert.match(svg, /class="gap"[^>]*><title>no data 0\.0\.\.3\.0 s<\/title>/);
  });
  it('overlapping lines differ by dash and marker (cumulative chart)', () => {
    const c = recordCharts(v2).find((x) => x.id === 'cumulative')!;
    const styles = c.options!.series.map((s) => `${s.dash ?? ''}|${s.marker ?? ''}`);
    assert.equal(new Set(styles).size, styles.length);
    assert.match(c.svg, /stroke-dasharray="2 3"/);
    assert.match(
      c.svg,
      /<rect x="[\d.]+" y="[\d.]+" width="5" height="5" fill="#d62728"\/>/,
      'square markers',
    );
  });
  it('uPlot data: one shared x column, nulls where a line has no point', () => {
    const u = toUplot('c', {
      title: 't',
      yLabel: 'y',
      series: [
        {
          name: 'a',
          points: [
            { x: 0, y: 1 },
            { x: 2, y: 3 },
          ],
        },
        {
          name: 'b',
          points: [
            { x: 1, y: 5 },
            { x: 2, y: Number.NaN },
          ],
          dashed: true,
        },
      ],
    });
    assert.deepEqual(u.x, [0, 1, 2]);
    assert.deepEqual(u.values, [
      [1, null, 3],
      [null, 5, null],
    ]);
    assert.deepEqual(u.series[1]!.dash, [5, 3]);
  });
});
