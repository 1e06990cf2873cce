import { formatLossPct } from '../analysis/accounting.ts';
import { causeText } from '../analysis/causes.ts';
import type { PathName, RunRecord } from '../core/record.ts';
import { type NamedChart, recordCharts } from './charts.ts';
import { interactiveParts } from './interactive.ts';
import { interruptedBanner, pathCauses, pathLabel } from './loss-tables.ts';
import { htmlPage, htmlSections, markdownSections, type TableSection } from './page.ts';
import { htmlTable } from './render.ts';
import { REPORT_CSS } from './style.ts';
import { type ChartSeries, escapeXml, lineChart, PALETTE } from './svg.ts';
import { markdownTable, peaksTable, type Table } from './tables.ts';

// One side-by-side report of several runs (`pushpull-lab compare DIR_A DIR_B …`): verdicts, loss per path,
// loss by cause, peaks, and the main time series overlaid (one colour per run). Records of both schemas
// mix freely. Pure: labelled records in, markdown and HTML out.

export interface LabelledRun {
  /** What the reader calls this run (its directory name). */
  label: string;
  record: RunRecord;
}

const PATHS: readonly PathName[] = ['pull', 'push'];
const int = (n: number) => Math.round(n).toLocaleString('en-US');

const state = (r: RunRecord) =>
  r.interrupted ? 'interrupted (partial)' : r.error ? 'failed (partial)' : 'complete';

export function runsTable(runs: readonly LabelledRun[]): Table {
  return {
    head: ['run', 'record', 'started', 'runtime', 'pods', 'push', 'scrape interval', 'state'],
    rows: runs.map(({ label, record: r }) => [
      label,
      r.schema.replace('pushpull-lab/', ''),
      r.startedAt,
      r.environment.runtime,
      String(r.config.pods),
      `${r.config.pushMode} ${r.config.transport}`,
      `${r.config.scrapeIntervalMs / 1000} s`,
      state(r),
    ]),
  };
}

export function verdictsTable(runs: readonly LabelledRun[]): Table {
  return { head: ['run', 'verdict'], rows: runs.map(({ label, record: r }) => [label, r.verdict]) };
}

export function compareLossTable(runs: readonly LabelledRun[]): Table {
  return {
    head: ['run', 'path', 'emitted', 'delivered', 'lost', 'loss'],
    rows: runs.flatMap(({ label, record: r }) =>
      PATHS.map((p) => {
        const a = r.paths[p];
        return [
          label,
          pathLabel(r, p),
          int(a.emitted),
          int(a.delivered),
          int(a.lost),
          formatLossPct(a.lossPct),
        ];
      }),
    ),
    align: ['l', 'l', 'r', 'r', 'r', 'r'],
  };
}

/** Every run's loss by cause, one row per (run, path, cause); run@1 records say they have none. */
export function compareCausesTable(runs: readonly LabelledRun[]): Table {
  const rows = runs.flatMap(({ label, record: r }) =>
    PATHS.flatMap((p) => {
      const causes = pathCauses(r, p);
      if (causes === null)
        return r.paths[p].lost > 0 ? [[label, p, `no cause accounting (${r.schema})`, '–', '–']] : [];
      if (causes.length === 0) return [[label, p, 'nothing lost', '0', '–']];
      return causes.map((c) => [
        label,
        p,
        causeText(c.cause),
        `${c.estimate ? '≈ ' : ''}${int(c.orders)}`,
        `${(c.share * 100).toFixed(1)}%`,
      ]);
    }),
  );
  return { head: ['run', 'path', 'lost because', 'orders', 'share'], rows, align: ['l', 'l', 'l', 'r', 'r'] };
}

/** Peaks side by side: one row per peak, one column per run. */
export function comparePeaksTable(runs: readonly LabelledRun[]): Table {
  const per = runs.map(({ record }) => new Map(peaksTable(record).rows.map((row) => [row[0]!, row[1]!])));
  const names = [...new Set(runs.flatMap(({ record }) => peaksTable(record).rows.map((row) => row[0]!)))];
  return {
    head: ['peak', ...runs.map((x) => x.label)],
    rows: names.map((n) => [n, ...per.map((m) => m.get(n) ?? '–')]),
    align: ['l', ...runs.map(() => 'r' as const)],
  };
}

/** The charts overlaid across runs: same chart id, one colour per run, one dash per line of the chart. */
const OVERLAID = ['pull-rate', 'push-rate', 'cumulative', 'scrape-duration', 'udp-drops', 'memory-host'];
const DASHES = [undefined, '6 3', '2 3', '8 3 2 3', '1 2'];

export function overlaidCharts(runs: readonly LabelledRun[]): NamedChart[] {
  const perRun = runs.map(({ record }) => recordCharts(record));
  return OVERLAID.flatMap((id) => {
    const first = perRun.flatMap((cs) => cs.filter((c) => c.id === id && c.options))[0]?.options;
    if (!first) return [];
    const series: ChartSeries[] = runs.flatMap(({ label }, i) => {
      const o = perRun[i]!.find((c) => c.id === id)?.options;
      return (o?.series ?? []).map((s, j) => ({
        name: `${label}: ${s.name}`,
        points: s.points,
        color: PALETTE[i % PALETTE.length]!,
        ...(DASHES[j % DASHES.length] ? { dash: DASHES[j % DASHES.length]! } : {}),
        ...(j > 0 ? { marker: (['circle', 'square', 'diamond'] as const)[(j - 1) % 3]! } : {}),
      }));
    });
    const options = {
      title: `${first.title.replace(/^push \([^)]*\)/, 'push')} — ${runs.length} runs`,
      yLabel: first.yLabel,
      series,
      markers: [{ x: 0, label: 'open' }],
      ...(first.formatY ? { formatY: first.formatY } : {}),
    };
    return [{ id: `cmp-${id}`, svg: lineChart(options), options }];
  });
}

export function renderCompareMarkdown(runs: readonly LabelledRun[]): string {
  const warn = runs.flatMap(({ label, record }) => {
    const b = interruptedBanner(record);
    return b ? [`**${label}: ${b}.**`, ''] : [];
  });
  return [
    `# pushpull-lab: ${runs.length} runs side by side`,
    '',
    ...warn,
    markdownTable(runsTable(runs)),
    '',
    ...markdownSections(sections(runs)),
    'Overlaid charts: see `compare.html` next to this file.',
    '',
  ].join('\n');
}

/** The tables after the runs table, in both renderings. */
function sections(runs: readonly LabelledRun[]): TableSection[] {
  return [
    { heading: 'Verdicts', table: verdictsTable(runs) },
    { heading: 'Loss per path', table: compareLossTable(runs) },
    { heading: 'Where the loss went', table: compareCausesTable(runs) },
    { heading: 'Peaks', table: comparePeaksTable(runs) },
  ];
}

export function renderCompareHtml(runs: readonly LabelledRun[]): string {
  const charts = overlaidCharts(runs);
  const live = interactiveParts(charts);
  const banners = runs
    .map(({ label, record }) => {
      const b = interruptedBanner(record);
      return b ? `<div class="banner">${escapeXml(`${label}: ${b}`)}</div>` : '';
    })
    .join('');
  return htmlPage(
    `pushpull-lab compare: ${runs.map((x) => x.label).join(' vs ')}`,
    `${REPORT_CSS}\n${live.css}`,
    `<h1>pushpull-lab: ${runs.length} runs side by side</h1>
${banners}
${htmlTable(runsTable(runs))}
${htmlSections(sections(runs))}
<h2>Overlaid</h2>
<p class="meta">One colour per run; a chart's lines differ by dash and marker.${live.scripts ? ' Hover for values; drag to zoom, double-click to reset.' : ''}</p>
${charts.map((c) => `<figure id="${c.id}">${c.svg}</figure>`).join('\n')}
<p class="meta">Generated by pushpull-lab compare from each directory's run.json. Self-contained: no network.</p>
${live.scripts}
`,
  );
}
