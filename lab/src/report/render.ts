import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../core/record.ts';
import { recordCharts } from './charts.ts';
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

// report.md, report.html (self-contained: inline SVG and CSS, no script, no network) and the terminal
// summary, all from the record only.

export function renderTerminalSummary(r: RunRecord): string {
  const lines = [`verdict: ${r.verdict}`, ''];
  if (r.error)
    lines.push('PARTIAL: the run failed before its accounting; delivered = last probe values, not final');
  lines.push(textTable(lossTable(r)));
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

export function renderMarkdown(r: RunRecord): string {
  const sections = [
    `# pushpull-lab burst run ${r.runId}`,
    '',
    `**Verdict:** ${r.verdict}`,
    '',
    `Run ${r.startedAt} → ${r.finishedAt} on the ${r.environment.runtime} runtime, ${r.config.pods} pods.`,
    '',
    '## Loss per path',
    '',
    markdownTable(lossTable(r)),
    '',
    markdownTable(lossSourcesTable(r)),
    '',
    ...optionalMd(datagramsTable(r)),
    '## What failed first',
    '',
    r.firstFailures.length > 0
      ? markdownTable(failuresTable(r))
      : 'No failure signal was observed on either path.',
    '',
    ...optionalMd(discountedTable(r)),
    '## Peaks',
    '',
    markdownTable(peaksTable(r)),
    '',
    '## Phases',
    '',
    markdownTable(phasesTable(r)),
    '',
    '## Environment and configuration',
    '',
    markdownTable(environmentTable(r)),
    '',
    'Charts: see `report.html` next to this file; every number is in `run.json`.',
    '',
  ];
  if (r.failOn)
    sections.splice(4, 0, `\`--fail-on ${r.failOn.expr}\`: ${r.failOn.met ? '**met**' : 'not met'}`, '');
  if (r.error)
    sections.splice(
      4,
      0,
      `**The run failed before completing:** ${r.error}. The numbers below are PARTIAL.`,
      '',
    );
  return sections.join('\n');
}

function optionalMd(t: Table | null): string[] {
  return t ? [markdownTable(t), ''] : [];
}

export function htmlTable(t: Table | null): string {
  if (!t) return '';
  const cell = (tag: string, c: string, i: number) =>
    `<${tag}${t.align?.[i] === 'r' ? ' class="r"' : ''}>${escapeXml(c)}</${tag}>`;
  return `<table><thead><tr>${t.head.map((h, i) => cell('th', h, i)).join('')}</tr></thead><tbody>${t.rows
    .map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1000px;color:#222;padding:0 12px}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.verdict{font-size:17px;background:#fff6e0;border-left:5px solid #e0a000;padding:10px 14px;margin:14px 0}
.ok{background:#eaf7ea;border-color:#2ca02c}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#666;font-size:12px}figure{margin:10px 0 18px}
svg{max-width:100%;height:auto;font-family:system-ui,sans-serif}
svg .t{font-size:13px;font-weight:600;fill:#222}svg .a{font-size:11px;fill:#444}svg .n{font-size:12px;fill:#888}
svg .bg{fill:#fafafa;stroke:#ccc}svg .g{stroke:#e6e6e6}svg .ax{stroke:#888}
svg .mk{stroke:#999;stroke-dasharray:3 3}svg .mkt{font-size:10px;fill:#777}svg .ref{stroke:#d62728;stroke-dasharray:6 3;stroke-width:1}
`;

export function renderHtml(r: RunRecord): string {
  const charts = recordCharts(r);
  const fig = (id: string) => {
    const c = charts.find((x) => x.id === id);
    return c ? `<figure id="${id}">${c.svg}</figure>` : '';
  };
  const ok = r.firstFailures.length === 0 && r.paths.pull.lost === 0 && r.paths.push.lost === 0;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pushpull-lab burst ${escapeXml(r.runId)}</title><style>${CSS}</style></head><body>
<h1>pushpull-lab: what failed first under the market-open burst</h1>
<div class="meta">run ${escapeXml(r.runId)} · ${escapeXml(r.startedAt)} → ${escapeXml(r.finishedAt)} · ${escapeXml(r.environment.runtime)} runtime · ${r.config.pods} pods · ${r.environment.cores} cores</div>
<div class="verdict${ok ? ' ok' : ''}">${escapeXml(r.verdict)}</div>
${r.error ? `<p><b>The run failed before completing:</b> ${escapeXml(r.error)}. The numbers below are PARTIAL.</p>` : ''}
${r.failOn ? `<p><code>--fail-on ${escapeXml(r.failOn.expr)}</code>: <b>${r.failOn.met ? 'met' : 'not met'}</b></p>` : ''}
<h2>Loss per path</h2>
${htmlTable(lossTable(r))}
${htmlTable(lossSourcesTable(r))}
${htmlTable(datagramsTable(r))}
<h2>What failed first</h2>
${r.firstFailures.length > 0 ? htmlTable(failuresTable(r)) : '<p>No failure signal was observed on either path.</p>'}
${htmlTable(discountedTable(r))}
<h2>Emitted vs delivered</h2>
${fig('pull-rate')}${fig('push-rate')}${fig('cumulative')}
<h2>Scrapes</h2>
${fig('scrape-duration')}${fig('body-size')}${fig('targets')}
<h2>Push-side drops</h2>
${fig('udp-drops')}
<h2>CPU and memory</h2>
${fig('cpu')}${fig('memory')}
<h2>Alerts</h2>
${fig('alerts')}
<h2>Peaks</h2>
${htmlTable(peaksTable(r))}
<h2>Phases</h2>
${htmlTable(phasesTable(r))}
<h2>Environment and configuration</h2>
${htmlTable(environmentTable(r))}
<p class="meta">Generated by pushpull-lab from run.json (next to this file). Self-contained: no script, no network.</p>
</body></html>
`;
}

export interface WrittenReport {
  dir: string;
  files: string[];
}

/** Writes run.json, report.md and report.html into `dir` (created). */
/** The files writeReport writes into `dir`. */
export function reportFiles(dir: string): string[] {
  return [join(dir, 'run.json'), join(dir, 'report.md'), join(dir, 'report.html')];
}

export function writeReport(dir: string, r: RunRecord): WrittenReport {
  mkdirSync(dir, { recursive: true });
  const files = reportFiles(dir);
  writeFileSync(files[0]!, `${JSON.stringify(r, null, 1)}\n`);
  writeFileSync(files[1]!, renderMarkdown(r));
  writeFileSync(files[2]!, renderHtml(r));
  return { dir, files };
}
