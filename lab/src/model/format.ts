// Terminal rendering of a model run. Pure: returns strings.

import {
  type BurstModelResult,
  type PathComparison,
  PUBLISHED_SCRIPT_RUN,
  quotedTableNote,
} from './burst.ts';

export const int = (n: number): string => Math.round(n).toLocaleString('en-US');
export const dec = (n: number, digits = 1): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function duration(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

export function ratio(r: number): string {
  return Number.isFinite(r) ? `${dec(r, 1)}×` : '∞';
}

/** Left-aligns the first column, right-aligns the others. */
export function alignRows(rows: readonly (readonly string[])[], indent = ''): string[] {
  const widths: number[] = [];
  for (const r of rows)
    for (const [i, cell] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  return rows.map(
    (r) =>
      indent +
      r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('   ')
        .trimEnd(),
  );
}

function pathRows(
  p: PathComparison,
  noJitterLabel: string,
  jitterLabel: string,
  unit: (n: number) => string,
) {
  return [
    ['', 'peak', 'mean', 'p99'],
    [noJitterLabel, unit(p.noJitter.peak), unit(p.noJitter.mean), unit(p.noJitter.p99)],
    [jitterLabel, unit(p.jitter.peak), unit(p.jitter.mean), unit(p.jitter.p99)],
    ['peak reduction from jitter', ratio(p.reduction), '', ''],
  ];
}

export function formatModelTable(r: BurstModelResult, path: 'push' | 'pull' | 'both'): string {
  const c = r.config;
  const [lo, hi] = c.packetsPerFlush;
  const bin = `${c.binMs} ms`;
  const lines: string[] = [];
  lines.push(
    `Burst model (seed ${c.seed}): ${int(c.producers)} producers, window ${duration(c.windowMs)} in ${bin} bins ` +
      `(${int(r.bins)} bins)`,
  );
  if (path !== 'pull') {
    lines.push('');
    lines.push(
      `push: packets per ${bin} bin — flush every ${duration(c.intervalMs)}, ${lo}–${hi - 1} packets per flush ` +
        `(uniform integer in [${lo}, ${hi}))`,
    );
    const half = (n: number) => (Number.isInteger(n) ? int(n) : dec(n, 1));
    lines.push(
      ...alignRows(
        pathRows(
          r.push,
          'no jitter (all at offset 0)',
          `jitter (offset uniform in [0, ${duration(c.intervalMs)}))`,
          half,
        ),
        '  ',
      ),
    );
    const p = PUBLISHED_SCRIPT_RUN;
    const s = p.seeds1to8;
    lines.push(
      `  published script (numpy, seed ${p.seed}): no jitter peak ${int(p.noJitter.peak)}, mean ${p.noJitter.mean}; ` +
        `jitter peak ${int(p.jitter.peak)}, mean ${p.jitter.mean}; ${p.reduction}×; seeds 1–8: no-jitter peak ` +
        `${int(s.noJitterPeak[0]!)}–${int(s.noJitterPeak[1]!)}, jitter peak ${int(s.jitterPeak[0]!)}–` +
        `${int(s.jitterPeak[1]!)} (${s.reduction[0]}–${s.reduction[1]}×)`,
    );
  }
  if (path !== 'push') {
    lines.push('');
    lines.push(
      `pull: scrape bytes per ${bin} bin — ${int(c.producers)} targets × ${int(c.bodyBytes)} B every ` +
        `${duration(c.scrapeIntervalMs)}`,
    );
    lines.push(
      ...alignRows(
        pathRows(
          r.pull,
          'synchronised scrape (all at offset 0)',
          `jitter (offset uniform in [0, ${duration(c.scrapeIntervalMs)}))`,
          (n) => int(n),
        ),
        '  ',
      ),
    );
  }
  lines.push('');
  lines.push(quotedTableNote());
  return lines.join('\n');
}
