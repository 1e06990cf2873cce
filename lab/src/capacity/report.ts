import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { htmlPage, htmlSections, markdownSections, type TableSection } from '../report/page.ts';
import { REPORT_CSS } from '../report/style.ts';
import { escapeXml, lineChart, PALETTE } from '../report/svg.ts';
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
    head: [
      'path',
      'largest held',
      'smallest failed',
      'failed / held',
      'pass ½ at',
      'failed on',
      'limited by',
      'trials',
    ],
    align: ['l', 'r', 'r', 'r', 'r', 'l', 'l', 'r'],
    rows: Object.entries(r.paths).map(([path, p]) => [
      path,
      p.maxHeld === null ? '–' : `${fmt(p.maxHeld)} ${p.unit}`,
      p.minFailed === null ? '–' : `${fmt(p.minFailed)} ${p.unit}`,
      p.bracketRatio === null || p.bracketRatio === undefined ? '–' : `×${p.bracketRatio.toFixed(2)}`,
      p.halfPassLoad === null || p.halfPassLoad === undefined ? '–' : fmt(p.halfPassLoad, 1),
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
    ['overheadS', 'overhead s'],
    ['stackReused', 'reused stack'],
  ],
  push: [
    ['lossPct', 'loss %'],
    ['datagramsPerSecPeak', 'datagrams/s peak'],
    ['cores.collector', 'collector cores'],
    ['cores.producers', 'producer cores'],
    ['unsentPct', 'unsent %'],
    ['overheadS', 'overhead s'],
    ['stackReused', 'reused stack'],
  ],
  pushgateway: [
    ['achievedPerSec', 'pushes/s done'],
    ['latencyP99S', 'push p99 s'],
    ['errors', 'errors'],
    ['scrapeMaxS', 'its scrape s'],
    ['cores.pushgateway', 'Pushgateway cores'],
    ['cpuUsPerPush', 'CPU µs per push'],
    ['cpuNsPerPushPerStoredSeries', 'CPU ns per push per stored series'],
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
        ? 'aborted at the deadline (evidence, not counted)'
        : t.held
          ? 'held'
          : `failed: ${t.failedCriterion} = ${fmt(t.failedValue)}`,
      ...cols.map(([k]) => fmt(t.metrics[k], 3)),
      t.record ?? '–',
    ]),
  };
}

/** Per load level: the replicates that counted, the pass fraction, and the criterion's median and spread. */
export function levelsTable(p: PathReport): Table {
  return {
    head: [
      p.unit,
      'trials',
      'held',
      'pass fraction',
      'level',
      'criterion',
      'median',
      'spread (min–max)',
      'aborted',
    ],
    align: ['r', 'r', 'r', 'r', 'l', 'l', 'r', 'l', 'r'],
    rows: (p.levels ?? []).map((l) => [
      fmt(l.load),
      String(l.trials),
      String(l.passes),
      l.trials > 0 ? l.passFraction.toFixed(2) : '–',
      l.trials === 0 ? 'aborted only (not counted)' : l.status,
      l.criterion?.name ?? '–',
      fmt(l.criterion?.median, 3),
      l.criterion
        ? `${fmt(l.criterion.spread, 3)} (${fmt(l.criterion.min, 3)}–${fmt(l.criterion.max, 3)})`
        : '–',
      String(l.aborted),
    ]),
  };
}

/** --scaling: per burst path and receiver budget, the bracket and pods per budgeted core; the linearity. */
export function podsPerCoreTable(r: CapacityResult): Table | null {
  const rows: string[][] = [];
  for (const [path, p] of Object.entries(r.paths)) {
    const ppc = p.podsPerCore;
    if (!ppc) continue;
    for (const pt of ppc.points)
      rows.push([
        path,
        `${ppc.receiver} ${pt.cores} core`,
        `${fmt(pt.maxHeld)}–${fmt(pt.minFailed)}`,
        pt.limitedBy,
        pt.podsPerCore
          ? `${fmt(pt.podsPerCore.value, 1)} (${fmt(pt.podsPerCore.lo, 1)}–${fmt(pt.podsPerCore.hi, 1)})`
          : '–',
        ppc.linearity
          ? `${ppc.linearity.ratio} (${ppc.linearity.lo}–${ppc.linearity.hi}) ${ppc.linearity.linear ? 'linear' : 'not linear'}`
          : ppc.text,
      ]);
  }
  if (rows.length === 0) return null;
  return {
    head: [
      'path',
      'receiver budget',
      'held–failed (pods)',
      'limited by',
      'pods per core',
      'larger / smaller budget',
    ],
    align: ['l', 'l', 'r', 'l', 'r', 'l'],
    rows,
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
  for (const [path, p] of Object.entries(r.paths)) {
    out.push({ heading: `${path}: ${p.answer}`, table: trialsTable(path, p) });
    if ((p.levels ?? []).length > 0)
      out.push({
        heading: `${path}: per level (a level holds when ${Math.ceil((p.replicates ?? 1) / 2)} of ${p.replicates ?? 1} replicates hold)`,
        table: levelsTable(p),
      });
  }
  const ppc = podsPerCoreTable(r);
  if (ppc) out.push({ heading: 'Pods per budgeted receiver core (--scaling)', table: ppc });
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

/** The threshold a measure is judged against, where one number is (drawn as a reference line). */
function thresholdOf(r: CapacityResult, key: string): { y: number; label: string } | null {
  const c = r.criteria;
  if (key === 'lossPct' && r.paths.push)
    return { y: c.maxPushLossPct, label: `push holds ≤ ${c.maxPushLossPct}%` };
  if (key === 'latencyP99S') return { y: c.maxPushLatencyP99S, label: `holds ≤ ${c.maxPushLatencyP99S} s` };
  if (key === 'scrapeP99S') {
    const y = c.maxScrapeP99Fraction * Math.min(10, r.config.scrapeIntervalMs / 1000);
    return { y, label: `holds ≤ ${fmt(y)} s` };
  }
  return null;
}

/**
 * Per path one small chart per measure, each on its own y-axis (loss % would be flat beside datagrams/s):
 * the counted trials, the aborted ones as evidence in a series of their own, the bracket marked.
 */
function pathCharts(r: CapacityResult, path: string, p: PathReport): string[] {
  const cols = (TRIAL_COLUMNS[path] ?? []).slice(0, path === 'pushgateway' ? 4 : 3);
  const sorted = [...p.trials].sort((a, b) => a.load - b.load);
  const pts = (aborted: boolean, k: string) =>
    sorted
      .filter((t) => t.aborted === aborted)
      .map((t) => ({ x: t.load, y: typeof t.metrics[k] === 'number' ? (t.metrics[k] as number) : null }));
  const markers = [
    ...(p.maxHeld !== null ? [{ x: p.maxHeld, label: `held ${fmt(p.maxHeld)}` }] : []),
    ...(p.minFailed !== null ? [{ x: p.minFailed, label: `failed ${fmt(p.minFailed)}` }] : []),
  ];
  return cols.map(([k, name], i) => {
    const aborted = pts(true, k);
    const ref = thresholdOf(r, k);
    return lineChart({
      title: `${path}: ${name} per trial against ${p.unit}`,
      yLabel: name,
      xLabel: p.unit,
      series: [
        {
          name: `${name} (counted)`,
          color: PALETTE[i % PALETTE.length]!,
          marker: 'circle',
          points: pts(false, k),
        },
        ...(aborted.length > 0
          ? [
              {
                name: 'aborted at the deadline (not counted)',
                color: '#7f7f7f',
                marker: 'diamond' as const,
                dash: '2 3',
                points: aborted,
              },
            ]
          : []),
      ],
      markers,
      ...(ref ? { refLines: [ref] } : {}),
      height: 220,
    });
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
    ...Object.entries(r.paths).flatMap(([path, x]) =>
      pathCharts(r, path, x).map((svg) => `<figure>${svg}</figure>`),
    ),
    htmlSections(sections(r)),
    ...basisLines(r).map(p),
    ...r.notes.map(p),
  ].join('\n');
  return htmlPage('pushpull-lab capacity', REPORT_CSS, body);
}

export function renderCapacityTerminal(r: CapacityResult): string {
  const lines = [textTable(summaryTable(r)), ''];
  for (const [path, x] of Object.entries(r.paths)) lines.push(`${path}: ${x.answer}`);
  for (const [path, x] of Object.entries(r.paths))
    if (x.podsPerCore) lines.push(`${path} pods per core: ${x.podsPerCore.text}`);
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
