import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { causeText } from '../analysis/causes.ts';
import type { PathSummary, RepeatRecord, Spread } from '../analysis/repeat.ts';
import { htmlPage, htmlSections, markdownSections } from './page.ts';
import { htmlTable } from './render.ts';
import { REPORT_CSS as CSS } from './style.ts';
import { escapeXml } from './svg.ts';
import { markdownTable, type Table, textTable } from './tables.ts';

// The --repeat summary: repeat.json, repeat.md, repeat.html (self-contained) and the terminal table.

const num = (v: number | null, digits = 1) => (v === null ? '–' : v.toFixed(digits));
const orders = (v: number | null) => (v === null ? '–' : Math.round(v).toLocaleString('en-US'));
const range = (s: Spread, f: (v: number | null) => string) =>
  s.runs === 0 ? '–' : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;

function pathRows(path: string, p: PathSummary): string[][] {
  const rows = [
    [path, 'loss %', range(p.lossPct, (v) => num(v, 2))],
    [path, 'first signal, s after the open', range(p.firstSignalSeconds, (v) => num(v))],
    [path, 'visibility p50, s', range(p.visibilityP50Seconds, (v) => num(v))],
    [path, 'visibility p90, s', range(p.visibilityP90Seconds, (v) => num(v))],
  ];
  for (const [cause, s] of Object.entries(p.causes))
    rows.push([path, `orders lost: ${causeText(cause)}`, range(s, orders)]);
  return rows;
}

export function repeatTable(r: RepeatRecord): Table {
  return {
    head: ['path', 'measure', 'median (min–max) over runs'],
    rows: [...pathRows('pull', r.paths.pull), ...pathRows('push', r.paths.push)],
  };
}

export function runsTable(r: RepeatRecord): Table {
  return {
    head: ['run', 'failed first', 'verdict'],
    rows: r.runs.map((x, i) => [`${i + 1} (${x.runId})`, x.failedFirst, x.verdict]),
  };
}

export function renderRepeatTerminal(r: RepeatRecord): string {
  return [`summary: ${r.summary}`, '', textTable(repeatTable(r)), '', textTable(runsTable(r))].join('\n');
}

export function writeRepeatReport(dir: string, r: RepeatRecord): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'repeat.json'), join(dir, 'repeat.md'), join(dir, 'repeat.html')];
  writeFileSync(files[0]!, `${JSON.stringify(r, null, 1)}\n`);
  const notes = r.notes.map((n) => `- ${n}`);
  writeFileSync(
    files[1]!,
    [
      '# pushpull-lab: repeated market-open bursts',
      '',
      `**${r.summary}**`,
      '',
      markdownTable(repeatTable(r)),
      '',
      ...markdownSections([
        { heading: 'Runs (each record and report in its own directory)', table: runsTable(r) },
      ]),
      ...notes,
      '',
    ].join('\n'),
  );
  writeFileSync(
    files[2]!,
    htmlPage(
      'pushpull-lab repeated bursts',
      CSS,
      `<h1>pushpull-lab: repeated market-open bursts</h1>
<div class="verdict">${escapeXml(r.summary)}</div>
${htmlTable(repeatTable(r))}
${htmlSections([{ heading: 'Runs', table: runsTable(r) }])}
${r.notes.map((n) => `<p>${escapeXml(n)}</p>`).join('\n')}
`,
    ),
  );
  return files;
}
