import { escapeXml } from '../report/svg.ts';
import type { Cell } from './grid.ts';
import { pairCauseText } from './modes/pair-account.ts';

// #28: drill.html's table of a cell's views (the pair: merged, survivor, the faulted replica) — each view's
// orders against the ledgers and its loss by cause, the causes summing to its loss.

const n = (x: number) => Math.round(x).toLocaleString('en-US');

export function accountsHtml(cells: readonly Cell[]): string {
  const rows = cells.flatMap((c) =>
    (c.accounts ?? []).map((a) => {
      const shown = a.causes.filter((k) => k.orders > 0);
      const causes =
        shown.length === 0
          ? '—'
          : shown.map((k) => `${n(k.orders)} ${escapeXml(pairCauseText(k.cause))}`).join('<br>');
      const pct = a.lostPct === null ? '' : ` (${a.lostPct.toFixed(1)}%)`;
      return `<tr><td>${escapeXml(a.view)}</td><td class="r">${n(a.emitted)}</td><td class="r">${n(a.stored)}</td><td class="r">${n(a.lost)}${pct}</td><td>${causes}</td></tr>`;
    }),
  );
  if (rows.length === 0) return '';
  return `<table><tr><th>view</th><th>generated (ledgers)</th><th>stored</th><th>lost</th><th>lost, by cause</th></tr>${rows.join('')}</table>`;
}
