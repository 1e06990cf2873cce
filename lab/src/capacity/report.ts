import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { htmlPage, htmlSections, markdownSections, type TableSection } from '../report/page.ts';
import { REPORT_CSS } from '../report/style.ts';
import { type ChartSeries, escapeXml, lineChart, PALETTE } from '../report/svg.ts';
import { type Table, textTable } from '../report/tables.ts';
import type { Extrapolation } from './extrapolate.ts';
import type { CapacityResult, PathReport } from './result.ts';

// capacity.md, capacity.html and the terminal table, from capacity.json alone. Pure apart from the write.

const fmt = (v: number | string | null | undefined, digits = 2) =>
  v === null || v === undefined
    ? '–'
    : typeof v === 'number'
      ? Number.isInteger(v) || Math.abs(v) >= 1000
        ? Math.round(v).toLocaleString('en-US')
        : v.toFixed(digits)
      : v;

export function summaryTable(r: CapacityResult): Table {
  return {
    head: ['path', 'largest held', 'smallest failed', 'failed on', 'limited by', 'trials'],
    align: ['l', 'r', 'r', 'l', 'l', 'r'],
    rows: Object.entries(r.paths).map(([path, p]) => [
      path,
      p.maxHeld === null ? '–' : `${fmt(p.maxHeld)} ${p.unit}`,
      p.minFailed === null ? '–' : `${fmt(p.minFailed)} ${p.unit}`,
      p.failedCriterion === null ? '–' : `${p.failedCriterion} = ${fmt(p.failedValue)}`,
      p.limitedBy,
      String(p.trials.length),
    ]),
  };
}

const TRIAL_COLUMNS: Record<string, [string, string][]> = {
  pull: [
    ['lossPct', 'loss %'],
    ['scrapeP99S', 'scrape p99 s'],
    ['visibilityP90S', 'visibility p90 s'],
    ['cores.prometheus', 'Prometheus cores'],
    ['rssGiB.prometheus', 'Prometheus GiB'],
  ],
  push: [
    ['lossPct', 'loss %'],
    ['datagramsPerSecPeak', 'datagrams/s peak'],
    ['cores.collector', 'collector cores'],
    ['cores.producers', 'producer cores'],
    ['unsentPct', 'unsent %'],
  ],
  pushgateway: [
    ['achievedPerSec', 'pushes/s done'],
    ['latencyP99S', 'push p99 s'],
    ['errors', 'errors'],
    ['scrapeMaxS', 'its scrape s'],
    ['cores.pushgateway', 'Pushgateway cores'],
    ['unsentPct', 'unsent %'],
  ],
};

export function trialsTable(path: string, p: PathReport): Table {
  const cols = TRIAL_COLUMNS[path] ?? [];
  return {
    head: ['#', p.unit, 'outcome', ...cols.map(([, h]) => h), 'record'],
    align: ['r', 'r', 'l', ...cols.map(() => 'r' as const), 'l'],
    rows: p.trials.map((t, i) => [
      String(i + 1),
      fmt(t.load),
      t.aborted
        ? 'aborted (budget)'
        : t.held
          ? 'held'
          : `failed: ${t.failedCriterion} = ${fmt(t.failedValue)}`,
      ...cols.map(([k]) => fmt(t.metrics[k], 3)),
      t.record ?? '–',
    ]),
  };
}

export function extrapolationTable(e: Extrapolation): Table {
  const err = (v: number | null | undefined) =>
    v === null || v === undefined ? '–' : `±${(v * 100).toFixed(0)}%`;
  return {
    head: [
      'component',
      'cores',
      'GiB',
      'per pod: cores',
      'per pod: MiB',
      'error one step out (cores / GiB)',
      'in-sample error (cores / GiB)',
      'per unit',
    ],
    align: ['l', 'r', 'r', 'r', 'r', 'l', 'l', 'l'],
    rows: [
      ...e.components.map((c) => [
        c.component,
        fmt(c.cores),
        fmt(c.memoryGiB),
        fmt(c.perPod.cores, 4),
        fmt(c.perPod.memoryMiB),
        `${err(c.coresFit?.holdoutRelError)} / ${err(c.memoryFit?.holdoutRelError)}`,
        `${err(c.coresFit?.maxRelError)} / ${err(c.memoryFit?.maxRelError)}`,
        c.perUnit ?? '–',
      ]),
      ['total', fmt(e.total.cores), fmt(e.total.memoryGiB), '', '', '', '', ''],
    ],
  };
}

function sections(r: CapacityResult): TableSection[] {
  const out: TableSection[] = [{ heading: 'Largest fleet each path held', table: summaryTable(r) }];
  for (const [path, p] of Object.entries(r.paths))
    out.push({ heading: `${path}: ${p.answer}`, table: trialsTable(path, p) });
  for (const [path, e] of Object.entries(r.extrapolation))
    out.push({
      heading: `${e.label}: what ${fmt(e.fleetPods)} pods would need on the ${path} path`,
      table: extrapolationTable(e),
    });
  return out;
}

function basisLines(r: CapacityResult): string[] {
  return Object.entries(r.extrapolation).map(
    ([path, e]) =>
      `${path}: ${e.basis}${e.factor ? `; ${e.factor}× beyond the largest trial (${e.largestTrialPods} pods)` : ''}. Errors: "one step out" = the line fitted without the largest trial, read at it (how well it extrapolates); "in-sample" = the largest gap to the trials it was fitted to. The error at ${fmt(e.fleetPods)} pods is larger and unknown.`,
  );
}

/** One chart per path: its per-trial measures against the load, the knee (largest held) marked. */
function pathChart(path: string, p: PathReport): string {
  const cols = (TRIAL_COLUMNS[path] ?? []).slice(0, path === 'pushgateway' ? 4 : 3);
  const done = p.trials.filter((t) => !t.aborted).sort((a, b) => a.load - b.load);
  const series: ChartSeries[] = cols.map(([k, name], i) => ({
    name,
    color: PALETTE[i % PALETTE.length]!,
    marker: 'circle',
    points: done.map((t) => ({
      x: t.load,
      y: typeof t.metrics[k] === 'number' ? (t.metrics[k] as number) : null,
    })),
  }));
  const markers = [
    ...(p.maxHeld !== null ? [{ x: p.maxHeld, label: `held ${fmt(p.maxHeld)}` }] : []),
    ...(p.minFailed !== null ? [{ x: p.minFailed, label: `failed ${fmt(p.minFailed)}` }] : []),
  ];
  return lineChart({
    title: `${path}: per trial against ${p.unit}`,
    yLabel: 'value (see legend)',
    xLabel: p.unit,
    series,
    markers,
  });
}

export function renderCapacityMarkdown(r: CapacityResult): string {
  return [
    '# Capacity: the largest fleet each collection path holds',
    '',
    `${r.startedAt} → ${r.finishedAt} · ${r.runtime} runtime · ${r.environment.cores} cores, ${fmt(r.environment.memoryGiB, 1)} GiB${r.budgetEnded ? ' · **the budget ended the search**' : ''}${r.interrupted ? ' · **interrupted**' : ''}`,
    '',
    ...Object.entries(r.paths).map(([path, p]) => `- **${path}**: ${p.answer}. Measured as ${p.measuredAs}.`),
    ...(r.pushgatewayClaim ? [`- **the ~10k pushes/s claim**: ${r.pushgatewayClaim}.`] : []),
    '',
    ...markdownSections(sections(r)),
    ...basisLines(r).map((l) => `- ${l}`),
    '',
    ...r.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}

export function renderCapacityHtml(r: CapacityResult): string {
  const p = (s: string) => `<p>${escapeXml(s)}</p>`;
  const body = [
    '<h1>Capacity: the largest fleet each collection path holds</h1>',
    p(`${r.startedAt} → ${r.finishedAt} · ${r.runtime} runtime · ${r.environment.cores} cores`),
    ...Object.entries(r.paths).map(([path, x]) => p(`${path}: ${x.answer}. Measured as ${x.measuredAs}.`)),
    ...(r.pushgatewayClaim ? [p(`The ~10k pushes/s claim: ${r.pushgatewayClaim}.`)] : []),
    ...Object.entries(r.paths).map(([path, x]) => `<figure>${pathChart(path, x)}</figure>`),
    htmlSections(sections(r)),
    ...basisLines(r).map(p),
    ...r.notes.map(p),
  ].join('\n');
  return htmlPage('pushpull-lab capacity', REPORT_CSS, body);
}

export function renderCapacityTerminal(r: CapacityResult): string {
  const lines = [textTable(summaryTable(r)), ''];
  for (const [path, x] of Object.entries(r.paths)) lines.push(`${path}: ${x.answer}`);
  if (r.pushgatewayClaim) lines.push(`~10k pushes/s claim: ${r.pushgatewayClaim}`);
  for (const [path, e] of Object.entries(r.extrapolation))
    lines.push(
      `${path} at ${fmt(e.fleetPods)} pods (${e.label}): ${e.components.map((c) => `${c.component} ${fmt(c.cores)} cores / ${fmt(c.memoryGiB)} GiB`).join(', ')}`,
    );
  return lines.join('\n');
}

export function writeCapacityReports(dir: string, r: CapacityResult): string[] {
  const files = [join(dir, 'capacity.md'), join(dir, 'capacity.html')];
  writeFileSync(files[0]!, renderCapacityMarkdown(r));
  writeFileSync(files[1]!, renderCapacityHtml(r));
  return files;
}
