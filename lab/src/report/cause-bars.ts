import { causeText } from '../analysis/causes.ts';
import type { LossCauseName, PathName, RunRecord } from '../core/record.ts';
import type { AgentLossCauseName } from '../core/record-agents.ts';
import { pathCauses, pathLabel } from './loss-tables.ts';
import { compact, escapeXml } from './svg.ts';

// "Where the loss went" as one stacked bar per path: the lost orders split by cause, every bar on the same
// scale (the larger loss fills the width) so the two paths compare at a glance, and every cause the same
// colour on every bar and in every report. Pure SVG; each segment carries a <title> as its tooltip.

const BASE_COLOURS: Record<LossCauseName | AgentLossCauseName, string> = {
  'kernel-rcvbuf': '#d62728',
  'send-error': '#9467bd',
  'collector-refused': '#ff7f0e',
  'in-flight': '#17becf',
  'target-died': '#8c564b',
  'scrape-failed': '#1f77b4',
  'scrape-over-limit': '#e377c2',
  'prometheus-overloaded': '#bcbd22',
  'not-stored': '#2ca02c',
  'exporter-dropped': '#c49c94',
  'export-queued': '#9edae5',
  'receiver-refused': '#ff7f0e',
  unverified: '#aec7e8',
  unexplained: '#7f7f7f',
  'agent-rcvbuf': '#ff9896',
  'agent-refused': '#ffbb78',
  'agent-queue-full': '#c5b0d5',
  'agent-forward-failed': '#f7b6d2',
  'agent-died': '#c7c7c7',
  // #29: the agent tier's causes, in the pull-side blues and greens.
  'remote-write-pending': '#6baed6',
  'remote-write-failed': '#08519c',
  'remote-write-dropped': '#3182bd',
  'wal-corrupt': '#74c476',
};
/** Refusal reasons get shades of the collector's orange, stable per reason name. */
const REFUSED_SHADES = ['#ff7f0e', '#ffbb78', '#e6550d', '#fdae6b', '#a63603'];

export function causeColour(cause: string): string {
  const [name, reason] = cause.split(':', 2) as [LossCauseName, string | undefined];
  if ((name === 'collector-refused' || name === 'receiver-refused') && reason) {
    let h = 0;
    for (const ch of reason) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return REFUSED_SHADES[h % REFUSED_SHADES.length]!;
  }
  return BASE_COLOURS[name] ?? '#333333';
}

const W = 760;
const LABEL_W = 190;
const BAR_H = 22;

/** The chart, or null when the record has no cause accounting (run@1). */
export function causeBarsSvg(r: RunRecord): string | null {
  const paths: PathName[] = ['pull', 'push'];
  const perPath = paths.map((p) => ({ p, causes: pathCauses(r, p) }));
  if (perPath.every((x) => x.causes === null)) return null;
  const max = Math.max(1, ...paths.map((p) => r.paths[p].lost));
  const pw = W - LABEL_W - 80;
  const parts = [
    `<text x="${LABEL_W}" y="18" class="t">lost orders by cause (both bars on one scale)</text>`,
  ];
  const seen = new Map<string, string>();
  perPath.forEach(({ p, causes }, i) => {
    const y = 32 + i * (BAR_H + 12);
    parts.push(
      `<text x="${LABEL_W - 8}" y="${y + 15}" text-anchor="end" class="a">${escapeXml(pathLabel(r, p))}</text>`,
    );
    if (!causes || causes.length === 0) {
      const why = causes === null ? 'no cause accounting in this record' : 'nothing lost';
      parts.push(`<text x="${LABEL_W}" y="${y + 15}" class="n">${why}</text>`);
      return;
    }
    let x = LABEL_W;
    for (const c of causes) {
      const w = (c.orders / max) * pw;
      const colour = causeColour(c.cause);
      seen.set(c.cause, colour);
      if (w <= 0) continue;
      const tip = `${causeText(c.cause)}: ${c.estimate ? '≈ ' : ''}${c.orders.toLocaleString('en-US')} orders (${(c.share * 100).toFixed(1)}%)`;
      parts.push(
        `<rect class="seg" x="${x.toFixed(1)}" y="${y}" width="${Math.max(0.5, w).toFixed(1)}" height="${BAR_H}" fill="${colour}"><title>${escapeXml(tip)}</title></rect>`,
      );
      x += w;
    }
    parts.push(
      `<text x="${(x + 6).toFixed(1)}" y="${y + 15}" class="a">${compact(r.paths[p].lost)} lost</text>`,
    );
  });
  const ly0 = 32 + paths.length * (BAR_H + 12) + 8;
  [...seen.entries()].forEach(([cause, colour], i) => {
    const lx = LABEL_W;
    const ly = ly0 + i * 16;
    parts.push(
      `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${colour}"/><text x="${lx + 14}" y="${ly}" class="a">${escapeXml(causeText(cause))}</text>`,
    );
  });
  const H = ly0 + seen.size * 16 + 8;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${parts.join('')}</svg>`;
}
