import { escapeXml, lineChart, PALETTE } from '../report/svg.ts';
import { type DrillRecord, GRID_COLUMNS, gridRows } from './grid.ts';

// drill.html: the grid (rows: failure mode; columns: pull, push-UDP, push-TCP/aggregated) and each
// scenario's charts and facts. Self-contained: inline CSS and SVG, no script, no network.

const CSS = `body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.4rem .6rem;vertical-align:top;font-size:13px}
th{background:#f3f3f3;text-align:left}.fail{color:#b00020;font-weight:600}.ok{color:#1b7f3b}
.meta{color:#666;font-size:13px}figure{margin:1rem 0}svg{max-width:100%;height:auto}
svg .t{font-size:13px;font-weight:600;fill:#222}svg .a{font-size:11px;fill:#444}svg .n{font-size:12px;fill:#888}
svg .bg{fill:#fafafa;stroke:#ccc}svg .g{stroke:#e6e6e6}svg .ax{stroke:#888}
svg .mk{stroke:#999;stroke-dasharray:3 3}svg .mkt{font-size:10px;fill:#777}svg .ref{stroke:#d62728;stroke-dasharray:6 3}`;

export function renderDrillHtml(r: DrillRecord): string {
  const grid = gridRows(r)
    .map(
      (row) =>
        `<tr><th>${escapeXml(row.title)}</th>${row.cells.map((c) => `<td>${c.split(' | ').map(escapeXml).join('<br>')}</td>`).join('')}</tr>`,
    )
    .join('\n');
  const sections = r.scenarios
    .map((s) => {
      const charts = Object.entries(s.series)
        .filter(([, pts]) => pts.length > 1)
        .map(
          ([name, pts], i) =>
            `<figure>${lineChart({
              title: name,
              yLabel: name,
              xLabel: 'seconds',
              series: [
                { name, points: pts.map(([x, y]) => ({ x, y })), color: PALETTE[i % PALETTE.length]! },
              ],
            })}</figure>`,
        )
        .join('');
      const metrics = Object.entries(s.metrics)
        .map(
          ([k, v]) => `<tr><td>${escapeXml(k)}</td><td>${Number.isInteger(v) ? v : v.toFixed(3)}</td></tr>`,
        )
        .join('');
      const exp = s.expectations
        .map((e) => `<li class="${e.ok ? 'ok' : 'fail'}">${e.ok ? 'ok' : 'FAIL'}: ${escapeXml(e.text)}</li>`)
        .join('');
      const cells = s.cells
        .map(
          (c) => `<li><b>${escapeXml(c.column)} / ${escapeXml(c.variant)}</b>: ${escapeXml(c.detail)}</li>`,
        )
        .join('');
      return `<h2 id="${escapeXml(s.name)}">${escapeXml(s.title)}</h2>
<p class="meta">${escapeXml(s.runtime)} runtime · ${escapeXml(s.startedAt)} · ${s.durationS} s</p>
${s.error ? `<p class="fail">Failed: ${escapeXml(s.error)}</p>` : ''}
<ul>${cells}</ul>${s.notes.map((n) => `<p class="meta">${escapeXml(n)}</p>`).join('')}
<table><tr><th>measured</th><th>value</th></tr>${metrics}</table>
<ul>${exp}</ul>${charts}`;
    })
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pushpull-lab drill</title><style>${CSS}</style></head><body>
<h1>pushpull-lab drill: the push/pull failure grid, measured</h1>
<p class="meta">${escapeXml(r.startedAt)} · ${escapeXml(r.runtime)} runtime · each cell: detection time · data lost · the signal that showed it</p>
<table><tr><th>failure mode</th>${GRID_COLUMNS.map((c) => `<th>${c === 'push-tcp' ? 'push-TCP / aggregated' : c}</th>`).join('')}</tr>
${grid}</table>
${sections}
<p class="meta">Generated from drill.json (next to this file).</p></body></html>
`;
}
