import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { causeText } from '../analysis/causes.ts';
import type { RunRecord } from '../core/record.ts';
import { agentsTable } from './agents.ts';
import { causeBarsSvg } from './cause-bars.ts';
import { recordCharts } from './charts.ts';
import { interactiveParts } from './interactive.ts';
import {
  causesNotes,
  causesTable,
  falsePagesNote,
  falsePagesTable,
  interruptedBanner,
  pathCauses,
  pullResolutionTable,
  visibilityTable,
} from './loss-tables.ts';
import { coverageTable, storesTable } from './observer.ts';
import { pushAgentsTable } from './push-agents.ts';
import { resourcesTable, shortfallNote } from './resources.ts';
import { REPORT_CSS } from './style.ts';
import { escapeXml } from './svg.ts';
import {
  datagramsTable,
  discountedTable,
  environmentTable,
  failuresTable,
  lossSourcesTable,
  lossTable,
  markdownTable,
  peaksTable,
  phasesTable,
  type Table,
  textTable,
} from './tables.ts';

// report.md, report.html (self-contained: inline CSS, SVG and the inlined chart library, no network) and
// the terminal summary, all from the record only — of either schema (run@1 lacks the loss-by-cause,
// visibility, budget and false-page fields; each section then says so).

const PATHS = ['pull', 'push'] as const;

/** The one-line summary of a path's loss by cause, for the terminal ("" when there is none). */
function causesLine(r: RunRecord, p: (typeof PATHS)[number]): string {
  const causes = pathCauses(r, p);
  if (!causes || causes.length === 0) return '';
  const parts = causes.map((c) => `${causeText(c.cause)} ${(c.share * 100).toFixed(1)}%`);
  return `  ${p} lost because: ${parts.join(' · ')}`;
}

/** The record's self-check, one line per mismatch: shown ABOVE the verdict (an error of the lab). */
export function selfCheckLines(r: RunRecord): string[] {
  const found = r.selfCheck ?? [];
  if (found.length === 0) return [];
  return [
    `SELF-CHECK FAILED (LAB_ERR_SELF_CHECK): the stack did not run what the lab asked for — ${found.length} mismatch(es); this is an error of the lab, not a finding about a path`,
    ...found.map((f) => `  ${f.what}: expected ${f.expected}, found ${f.found}`),
  ];
}

export function renderTerminalSummary(r: RunRecord): string {
  const check = selfCheckLines(r);
  const lines = [...(check.length > 0 ? [...check, ''] : []), `verdict: ${r.verdict}`, ''];
  const banner = interruptedBanner(r);
  if (banner) lines.push(banner.toUpperCase());
  if (r.error)
    lines.push('PARTIAL: the run failed before its accounting; delivered = last probe values, not final');
  lines.push(textTable(lossTable(r)));
  const why = PATHS.map((p) => causesLine(r, p)).filter(Boolean);
  if (why.length > 0) lines.push('', ...why);
  const dg = datagramsTable(r);
  if (dg) lines.push('', textTable(dg));
  if (r.firstFailures.length > 0) {
    lines.push('', 'first failures:');
    for (const f of r.firstFailures.slice(0, 8))
      lines.push(
        `  ${f.secondsAfterBurst >= 0 ? '+' : ''}${f.secondsAfterBurst.toFixed(1)} s  ${f.path.padEnd(4)}  ${f.signal}: ${f.detail}`,
      );
    if (r.firstFailures.length > 8) lines.push(`  ... ${r.firstFailures.length - 8} more in run.json`);
  }
  for (const d of r.discounted ?? []) lines.push(`  (not counted: ${d.signal} — ${d.reason})`);
  if (r.failOn) lines.push('', `--fail-on "${r.failOn.expr}": ${r.failOn.met ? 'MET (exit 3)' : 'not met'}`);
  return lines.join('\n');
}

/** The notices above the tables: interrupted, failed, --fail-on. */
function notices(r: RunRecord): string[] {
  const out: string[] = [];
  const banner = interruptedBanner(r);
  if (banner) out.push(`**${banner[0]!.toUpperCase()}${banner.slice(1)}.**`);
  if (r.error) out.push(`**The run failed before completing:** ${r.error}. The numbers below are PARTIAL.`);
  if (r.failOn) out.push(`\`--fail-on ${r.failOn.expr}\`: ${r.failOn.met ? '**met**' : 'not met'}`);
  return out;
}

const md = (t: Table | null): string[] => (t ? [markdownTable(t), ''] : []);
const mdSection = (title: string, body: string[]) => [`## ${title}`, '', ...body];

function whereTheLossWentMd(r: RunRecord): string[] {
  return [...PATHS.flatMap((p) => md(causesTable(r, p))), ...causesNotes(r).flatMap((n) => [n, ''])];
}

export function renderMarkdown(r: RunRecord): string {
  return [
    `# pushpull-lab burst run ${r.runId}`,
    '',
    ...selfCheckLines(r).map((l, i) => (i === 0 ? `**${l}**\n` : `- ${l.trim()}`)),
    ...(r.selfCheck?.length ? [''] : []),
    `**Verdict:** ${r.verdict}`,
    '',
    ...notices(r).flatMap((n) => [n, '']),
    `Run ${r.startedAt} → ${r.finishedAt} on the ${r.environment.runtime} runtime, ${r.config.pods} pods.`,
    '',
    ...mdSection('Loss per path', [
      ...md(lossTable(r)),
      ...md(lossSourcesTable(r)),
      ...md(datagramsTable(r)),
    ]),
    ...mdSection('Where the loss went', whereTheLossWentMd(r)),
    ...mdSection('What failed first', [
      r.firstFailures.length > 0
        ? markdownTable(failuresTable(r))
        : 'No failure signal was observed on either path.',
      '',
      ...md(discountedTable(r)),
    ]),
    ...mdSection('False pages', [falsePagesNote(r), '', ...md(falsePagesTable(r))]),
    ...mdSection(
      'Visibility',
      visibilityBody(r, md, (s) => [s, '']),
    ),
    ...mdSection(
      'Resources',
      resourcesBody(r, md, (x) => [x, '']),
    ),
    ...mdSection('Peaks', md(peaksTable(r))),
    ...mdSection('Phases', md(phasesTable(r))),
    ...mdSection('Environment and configuration', md(environmentTable(r))),
    'Charts: see `report.html` next to this file; every number is in `run.json`.',
    '',
  ].join('\n');
}

/** Visibility, pull resolution, and what the observer saw (#24) (absent in run@1 records: then one sentence says so). */
function visibilityBody<T>(r: RunRecord, table: (t: Table | null) => T[], text: (s: string) => T[]): T[] {
  const v = visibilityTable(r);
  const q = pullResolutionTable(r);
  if (!v && !q) return text(`This record (${r.schema}) has no visibility measurement.`);
  return [
    ...text(
      'How long after the fleet emitted an order each path had delivered it (loss is counted by cause above, not again as lateness).',
    ),
    ...table(v),
    ...table(q),
    ...table(storesTable(r)),
    ...table(coverageTable(r)),
  ];
}

/** The budgets and their use, and the generator's shortfall (run@3; older records: one sentence). */
function resourcesBody<T>(r: RunRecord, table: (t: Table | null) => T[], text: (s: string) => T[]): T[] {
  const t = resourcesTable(r);
  const sf = shortfallNote(r);
  const pushAgents = pushAgentsTable(r); // #27: each push agent host's CPU and RSS
  const agents = agentsTable(r); // #29: the pull agents beside the central store
  const agentPart = agents ? [...text(r.pullAgents!.budget), ...table(agents)] : [];
  if (!t && !sf && !pushAgents)
    return [...text(`This record (${r.schema}) has no resource budgets.`), ...agentPart];
  return [...table(t), ...table(pushAgents), ...(sf ? text(sf) : []), ...agentPart];
}

export function htmlTable(t: Table | null): string {
  if (!t) return '';
  const cell = (tag: string, c: string, i: number) =>
    `<${tag}${t.align?.[i] === 'r' ? ' class="r"' : ''}>${escapeXml(c)}</${tag}>`;
  return `<table><thead><tr>${t.head.map((h, i) => cell('th', h, i)).join('')}</tr></thead><tbody>${t.rows
    .map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const para = (s: string) => `<p>${escapeXml(s)}</p>`;

function noticesHtml(r: RunRecord): string {
  const banner = interruptedBanner(r);
  return [
    banner ? `<div class="banner" id="interrupted">${escapeXml(banner)}</div>` : '',
    r.error
      ? `<p><b>The run failed before completing:</b> ${escapeXml(r.error)}. The numbers below are PARTIAL.</p>`
      : '',
    r.failOn
      ? `<p><code>--fail-on ${escapeXml(r.failOn.expr)}</code>: <b>${r.failOn.met ? 'met' : 'not met'}</b></p>`
      : '',
  ].join('\n');
}

/** The table sections of report.html, each a fragment. */
function tableSections(r: RunRecord) {
  const bars = causeBarsSvg(r);
  return {
    loss: [lossTable(r), lossSourcesTable(r), datagramsTable(r)].map(htmlTable).join('\n'),
    where: [
      bars ? `<figure id="cause-bars">${bars}</figure>` : '',
      ...PATHS.map((x) => htmlTable(causesTable(r, x))),
      ...causesNotes(r).map(para),
    ].join('\n'),
    first: `${r.firstFailures.length > 0 ? htmlTable(failuresTable(r)) : para('No failure signal was observed on either path.')}\n${htmlTable(discountedTable(r))}`,
    pages: `${para(falsePagesNote(r))}${htmlTable(falsePagesTable(r))}`,
    vis: visibilityBody(
      r,
      (t) => [htmlTable(t)],
      (s) => [para(s)],
    ).join('\n'),
  };
}

export function renderHtml(r: RunRecord): string {
  const charts = recordCharts(r);
  const fig = (id: string) => {
    const c = charts.find((x) => x.id === id);
    return c ? `<figure id="${id}">${c.svg}</figure>` : '';
  };
  const live = interactiveParts(charts);
  const t = tableSections(r);
  const ok =
    !r.selfCheck?.length &&
    r.firstFailures.length === 0 &&
    r.paths.pull.lost === 0 &&
    r.paths.push.lost === 0;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pushpull-lab burst ${escapeXml(r.runId)}</title><style>${REPORT_CSS}\n${live.css}</style></head><body>
<h1>pushpull-lab: what failed first under the market-open burst</h1>
<div class="meta">run ${escapeXml(r.runId)} · ${escapeXml(r.startedAt)} → ${escapeXml(r.finishedAt)} · ${escapeXml(r.environment.runtime)} runtime · ${r.config.pods} pods · ${r.environment.cores} cores</div>
${selfCheckHtml(r)}<div class="verdict${ok ? ' ok' : ''}">${escapeXml(r.verdict)}</div>
${noticesHtml(r)}
<h2>Loss per path</h2>
${t.loss}
<h2>Where the loss went</h2>
${t.where}
<h2>What failed first</h2>
${t.first}
<h2>False pages</h2>
${t.pages}
<h2>Visibility</h2>
${t.vis}
<h2>Emitted vs delivered</h2>
${live.scripts ? '<p class="meta">Hover a chart for its values; drag across it to zoom, double-click to reset.</p>' : ''}
${fig('pull-rate')}${fig('push-rate')}${fig('cumulative')}
<h2>Scrapes</h2>
${fig('scrape-duration')}${fig('body-size')}${fig('targets')}
<h2>Push-side drops</h2>
${fig('udp-drops')}
<h2>CPU and memory</h2>
${resourcesBody(
  r,
  (x) => [htmlTable(x)],
  (x) => [para(x)],
).join('\n')}
${fig('cpu')}${fig('memory-host')}${fig('memory-rss')}
<h2>Alerts</h2>
${fig('alerts')}
<h2>Peaks</h2>
${htmlTable(peaksTable(r))}
<h2>Phases</h2>
${htmlTable(phasesTable(r))}
<h2>Environment and configuration</h2>
${htmlTable(environmentTable(r))}
<p class="meta">Generated by pushpull-lab from run.json (next to this file). Self-contained: no network; without scripts the charts are static SVG.</p>
${live.scripts}
</body></html>
`;
}

export interface WrittenReport {
  dir: string;
  files: string[];
}

/** The files writeReport writes into `dir`. */
export function reportFiles(dir: string): string[] {
  return [join(dir, 'run.json'), join(dir, 'report.md'), join(dir, 'report.html')];
}

/** Writes run.json, report.md and report.html into `dir` (created). */
export function writeReport(dir: string, r: RunRecord): WrittenReport {
  mkdirSync(dir, { recursive: true });
  const files = reportFiles(dir);
  writeFileSync(files[0]!, `${JSON.stringify(r, null, 1)}\n`);
  writeFileSync(files[1]!, renderMarkdown(r));
  writeFileSync(files[2]!, renderHtml(r));
  return { dir, files };
}

/** The self-check block of the HTML report, above the verdict ("" when the check passed). */
function selfCheckHtml(r: RunRecord): string {
  const [head, ...rest] = selfCheckLines(r);
  if (!head) return '';
  const items = rest.map((l) => `<li>${escapeXml(l.trim())}</li>`).join('');
  return `<div class="verdict self-check"><strong>${escapeXml(head)}</strong><ul>${items}</ul></div>\n`;
}
