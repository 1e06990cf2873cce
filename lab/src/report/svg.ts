// Hand-made inline SVG charts: the report's no-script fallback (report/interactive.ts draws the same data
// with uPlot when scripts run). Pure: data in, markup out.

export interface ChartSeries {
  name: string;
  points: readonly { x: number; y: number | null }[];
  color?: string;
  dashed?: boolean;
  /** An SVG dash pattern ("2 3"); wins over `dashed`. Overlapping lines stay apart by dash and marker. */
  dash?: string;
  marker?: 'circle' | 'square' | 'diamond';
}

export interface LineChartOptions {
  title: string;
  yLabel: string;
  xLabel?: string;
  series: readonly ChartSeries[];
  /** Vertical markers (e.g. the open at x = 0, phase changes). */
  markers?: readonly { x: number; label: string }[];
  /** Horizontal reference lines (e.g. half the scrape timeout). */
  refLines?: readonly { y: number; label: string }[];
  width?: number;
  height?: number;
  formatY?: (v: number) => string;
}

export const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
];

export function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** "Nice" tick step for a range (1, 2, 5 × 10^k). */
export function niceStep(range: number, targetTicks = 5): number {
  if (!(range > 0) || !Number.isFinite(range)) return 1;
  const raw = range / targetTicks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

export function ticks(lo: number, hi: number, targetTicks = 5): number[] {
  const step = niceStep(hi - lo, targetTicks);
  const out: number[] = [];
  const start = Math.ceil(lo / step - 1e-9) * step;
  for (let v = start, i = 0; v <= hi + step * 1e-9 && i < 50; v += step, i++)
    out.push(Number(v.toPrecision(12)));
  return out;
}

/** Compact number: 1234 → "1.2k", 3_400_000 → "3.4M", 0.0123 → "0.0123". */
export function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(a >= 1e10 ? 0 : 1)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(a >= 1e4 ? 0 : 1)}k`;
  if (a === 0) return '0';
  if (a < 0.01) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

const r1 = (n: number) => Math.round(n * 10) / 10;

interface Box {
  W: number;
  H: number;
  /** Margins around the plot area. */
  m: { l: number; r: number; t: number; b: number };
  /** Plot area width and height. */
  pw: number;
  ph: number;
  legendCols: number;
}

function layout(o: LineChartOptions): Box {
  const W = o.width ?? 760;
  // Legend columns: as many as the longest label allows (≈ 6.2 px per character at 11 px).
  const longest = Math.max(1, ...o.series.map((x) => x.name.length));
  const legendCols = Math.max(1, Math.min(4, Math.floor((W - 80) / (longest * 6.2 + 24))));
  const legendRows = Math.max(1, Math.ceil(o.series.length / legendCols));
  const H = (o.height ?? 250) + legendRows * 14;
  const m = { l: 64, r: 16, t: 30, b: 44 + legendRows * 14 };
  return { W, H, m, pw: W - m.l - m.r, ph: H - m.t - m.b, legendCols };
}

/** The axes' ranges: every finite point (and reference line), y from 0 with 5 % headroom; null = no data. */
function domain(
  o: LineChartOptions,
): { x0: number; x1: number; y0: number; y1: number; yt: number[] } | null {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of o.series)
    for (const p of s.points) {
      if (Number.isFinite(p.x)) xs.push(p.x);
      if (p.y !== null && Number.isFinite(p.y)) ys.push(p.y);
    }
  for (const r of o.refLines ?? []) ys.push(r.y);
  if (xs.length === 0 || ys.length === 0) return null;
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  if (x1 === x0) x1 = x0 + 1;
  let y0 = Math.min(0, ...ys);
  let y1 = Math.max(...ys);
  if (y1 === y0) y1 = y0 + 1;
  y1 += (y1 - y0) * 0.05;
  const yt = ticks(y0, y1);
  y0 = Math.min(y0, yt[0] ?? y0);
  x0 = Math.min(x0, x1);
  return { x0, x1, y0, y1, yt };
}

/** SVG path data per unbroken run of points (a null or non-finite point breaks the line). */
function segments(points: ChartSeries['points'], sx: (x: number) => number, sy: (y: number) => number) {
  const segs: string[] = [];
  let cur: string[] = [];
  for (const p of points) {
    if (p.y === null || !Number.isFinite(p.y) || !Number.isFinite(p.x)) {
      if (cur.length) segs.push(cur.join(' '));
      cur = [];
      continue;
    }
    cur.push(`${cur.length === 0 ? 'M' : 'L'}${sx(p.x)},${sy(p.y)}`);
  }
  if (cur.length) segs.push(cur.join(' '));
  return segs;
}

export const dashOf = (s: ChartSeries): string | null => s.dash ?? (s.dashed ? '5 3' : null);

function markerAt(kind: NonNullable<ChartSeries['marker']>, x: number, y: number, color: string): string {
  if (kind === 'square')
    return `<rect x="${r1(x - 2.5)}" y="${r1(y - 2.5)}" width="5" height="5" fill="${color}"/>`;
  if (kind === 'diamond')
    return `<path d="M${x},${r1(y - 3.5)} L${r1(x + 3.5)},${y} L${x},${r1(y + 3.5)} L${r1(x - 3.5)},${y} Z" fill="${color}"/>`;
  return `<circle cx="${x}" cy="${y}" r="2.5" fill="${color}"/>`;
}

function seriesMarkup(s: ChartSeries, color: string, sx: (x: number) => number, sy: (y: number) => number) {
  const dash = dashOf(s);
  const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
  const out = segments(s.points, sx, sy).map((d) => {
    // A single point draws as a dot.
    if (d.includes('L'))
      return `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"${dashAttr}/>`;
    const [cx, cy] = d.slice(1).split(',');
    return `<circle cx="${cx}" cy="${cy}" r="2" fill="${color}"/>`;
  });
  if (s.marker) {
    // About a dozen markers per line: enough to tell lines apart where they overlap, few enough to read.
    const finite = s.points.filter((p) => p.y !== null && Number.isFinite(p.y) && Number.isFinite(p.x));
    const every = Math.max(1, Math.round(finite.length / 12));
    finite.forEach((p, i) => {
      if (i % every === 0) out.push(markerAt(s.marker!, sx(p.x), sy(p.y!), color));
    });
  }
  return out;
}

/** True when a series has data and every value is 0: drawn on the axis, so the legend says so. */
export function allZero(s: ChartSeries): boolean {
  const ys = s.points.filter((p) => p.y !== null && Number.isFinite(p.y));
  return ys.length > 0 && ys.every((p) => p.y === 0);
}

/** Gaps: x ranges where a series has no value between two values it has (a probe that did not answer). */
export function gaps(series: readonly ChartSeries[]): { from: number; to: number }[] {
  const raw: { from: number; to: number }[] = [];
  for (const s of series) {
    let lastX: number | null = null;
    let inGap = false;
    for (const p of s.points) {
      const ok = p.y !== null && Number.isFinite(p.y) && Number.isFinite(p.x);
      if (ok && inGap && lastX !== null) raw.push({ from: lastX, to: p.x });
      if (ok) lastX = p.x;
      inGap = !ok && lastX !== null;
    }
  }
  raw.sort((a, b) => a.from - b.from);
  const merged: { from: number; to: number }[] = [];
  for (const g of raw) {
    const last = merged[merged.length - 1];
    if (last && g.from <= last.to) last.to = Math.max(last.to, g.to);
    else merged.push({ ...g });
  }
  return merged;
}

const svgRoot = (W: number, H: number, body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${body}</svg>`;

export function lineChart(o: LineChartOptions): string {
  const { W, H, m, pw, ph, legendCols } = layout(o);
  const fmtY = o.formatY ?? compact;
  const title = `<text x="${m.l}" y="18" class="t">${escapeXml(o.title)}</text>`;
  const d = domain(o);
  if (!d)
    return svgRoot(
      W,
      H,
      `${title}<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="n">no data</text>`,
    );
  const { x0, x1, y0, y1, yt } = d;
  const sx = (x: number) => r1(m.l + ((x - x0) / (x1 - x0)) * pw);
  const sy = (y: number) => r1(m.t + ph - ((y - y0) / (y1 - y0)) * ph);
  const parts: string[] = [title];
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" class="bg"/>`);
  for (const v of yt) {
    if (v < y0 || v > y1) continue;
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${sy(v)}" y2="${sy(v)}" class="g"/>`);
    parts.push(
      `<text x="${m.l - 6}" y="${sy(v) + 4}" text-anchor="end" class="a">${escapeXml(fmtY(v))}</text>`,
    );
  }
  for (const v of ticks(x0, x1, 8)) {
    parts.push(`<line x1="${sx(v)}" x2="${sx(v)}" y1="${m.t + ph}" y2="${m.t + ph + 4}" class="ax"/>`);
    parts.push(
      `<text x="${sx(v)}" y="${m.t + ph + 16}" text-anchor="middle" class="a">${escapeXml(compact(v))}</text>`,
    );
  }
  parts.push(
    `<text x="${m.l + pw / 2}" y="${m.t + ph + 32}" text-anchor="middle" class="a">${escapeXml(o.xLabel ?? 'seconds after the open')}</text>`,
  );
  parts.push(
    `<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" class="a">${escapeXml(o.yLabel)}</text>`,
  );
  for (const mk of o.markers ?? []) {
    if (mk.x < x0 || mk.x > x1) continue;
    parts.push(`<line x1="${sx(mk.x)}" x2="${sx(mk.x)}" y1="${m.t}" y2="${m.t + ph}" class="mk"/>`);
    parts.push(`<text x="${sx(mk.x) + 3}" y="${m.t + 10}" class="mkt">${escapeXml(mk.label)}</text>`);
  }
  for (const rl of o.refLines ?? []) {
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${sy(rl.y)}" y2="${sy(rl.y)}" class="ref"/>`);
    parts.push(
      `<text x="${m.l + pw - 4}" y="${sy(rl.y) - 4}" text-anchor="end" class="mkt">${escapeXml(rl.label)}</text>`,
    );
  }
  parts.push(...gapBands(o.series, m.t, ph, sx, x0, x1));
  o.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    parts.push(...seriesMarkup(s, color, sx, sy));
    const lx = m.l + (i % legendCols) * (pw / legendCols);
    const ly = m.t + ph + 50 + Math.floor(i / legendCols) * 14;
    parts.push(legendEntry(s, color, lx, ly));
  });
  return svgRoot(W, H, parts.join(''));
}

/** The legend's sample: the line's own dash and marker, then its name ("0 throughout" when it is). */
function legendEntry(s: ChartSeries, color: string, lx: number, ly: number): string {
  const dash = dashOf(s);
  const line = `<line x1="${lx}" x2="${lx + 16}" y1="${ly - 7}" y2="${ly - 7}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
  const mark = s.marker ? markerAt(s.marker, lx + 8, ly - 7, color) : '';
  const name = allZero(s) ? `${s.name} (0 throughout)` : s.name;
  return `${line}${mark}<text x="${lx + 20}" y="${ly - 4}" class="a">${escapeXml(name)}</text>`;
}

/** A hatched band over each gap in the data, labelled, so a missing probe is not read as a flat line. */
function gapBands(
  series: readonly ChartSeries[],
  top: number,
  ph: number,
  sx: (x: number) => number,
  x0: number,
  x1: number,
): string[] {
  return gaps(series)
    .filter((g) => g.to > x0 && g.from < x1)
    .map((g) => {
      const a = sx(Math.max(g.from, x0));
      const w = Math.max(1, r1(sx(Math.min(g.to, x1)) - a));
      return `<rect class="gap" x="${a}" y="${top}" width="${w}" height="${ph}"><title>no data ${g.from.toFixed(1)}..${g.to.toFixed(1)} s</title></rect><text x="${r1(a + w / 2)}" y="${top + ph - 4}" text-anchor="middle" class="mkt">no data</text>`;
    });
}

export interface TimelineRow {
  name: string;
  /** Intervals in x units (seconds after the open), with a state for colour. */
  spans: readonly { from: number; to: number; state: 'pending' | 'firing' }[];
}

export function timelineChart(
  title: string,
  rows: readonly TimelineRow[],
  xRange: [number, number],
  width = 760,
): string {
  const rowH = 22;
  const m = { l: 190, r: 16, t: 30, b: 40 };
  const H = m.t + m.b + Math.max(1, rows.length) * rowH;
  const pw = width - m.l - m.r;
  let [x0, x1] = xRange;
  if (!(x1 > x0)) x1 = x0 + 1;
  const sx = (x: number) => r1(m.l + ((Math.min(Math.max(x, x0), x1) - x0) / (x1 - x0)) * pw);
  const parts: string[] = [`<text x="${m.l}" y="18" class="t">${escapeXml(title)}</text>`];
  if (rows.length === 0)
    parts.push(
      `<text x="${m.l}" y="${m.t + 15}" class="n">no alert was pending or firing during the run</text>`,
    );
  rows.forEach((row, i) => {
    const y = m.t + i * rowH;
    parts.push(
      `<text x="${m.l - 8}" y="${y + 15}" text-anchor="end" class="a">${escapeXml(row.name)}</text>`,
    );
    parts.push(`<rect x="${m.l}" y="${y + 3}" width="${pw}" height="${rowH - 6}" class="bg"/>`);
    for (const s of row.spans) {
      const w = Math.max(2, sx(s.to) - sx(s.from));
      parts.push(
        `<rect x="${sx(s.from)}" y="${y + 3}" width="${r1(w)}" height="${rowH - 6}" fill="${s.state === 'firing' ? '#d62728' : '#ffbf00'}"><title>${escapeXml(`${row.name} ${s.state} ${s.from.toFixed(1)}..${s.to.toFixed(1)} s`)}</title></rect>`,
      );
    }
  });
  const yb = m.t + Math.max(1, rows.length) * rowH;
  for (const v of ticks(x0, x1, 8)) {
    parts.push(
      `<text x="${sx(v)}" y="${yb + 14}" text-anchor="middle" class="a">${escapeXml(compact(v))}</text>`,
    );
  }
  if (x0 <= 0 && x1 >= 0) parts.push(`<line x1="${sx(0)}" x2="${sx(0)}" y1="${m.t}" y2="${yb}" class="mk"/>`);
  parts.push(
    `<text x="${m.l + pw / 2}" y="${yb + 30}" text-anchor="middle" class="a">seconds after the open (amber = pending, red = firing)</text>`,
  );
  return svgRoot(width, H, parts.join(''));
}
