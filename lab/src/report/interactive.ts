import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { NamedChart } from './charts.ts';
import { allZero, dashOf, gaps, type LineChartOptions, PALETTE } from './svg.ts';
import { UPLOT_BOOT } from './uplot-boot.ts';

// Tooltips and zoom on the time-series charts: uPlot (npm `uplot`, MIT) inlined into the page — its
// minified JS and CSS read from node_modules at render time — so report.html stays one self-contained file
// with no network. The static SVG of each chart stays in the page as the no-script fallback.

export interface UplotAssets {
  js: string;
  css: string;
}

let cached: UplotAssets | null | undefined;

/** uPlot's dist files, or null when the package is not installed (the page then stays static). */
export function uplotAssets(): UplotAssets | null {
  if (cached !== undefined) return cached;
  try {
    const req = createRequire(import.meta.url);
    cached = {
      js: readFileSync(req.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(req.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  } catch {
    cached = null;
  }
  return cached;
}

/** One chart's data as uPlot takes it: one shared x column (the union of every line's x), a column per line. */
export interface UplotChart {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  x: number[];
  values: (number | null)[][];
  series: { label: string; color: string; dash: number[] | null; marker: boolean }[];
  markers: { x: number; label: string }[];
  refLines: { y: number; label: string }[];
  gaps: { from: number; to: number }[];
}

const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);

export function toUplot(id: string, o: LineChartOptions): UplotChart {
  const xs = [...new Set(o.series.flatMap((s) => s.points.map((p) => p.x).filter(Number.isFinite)))].sort(
    (a, b) => a - b,
  );
  const index = new Map(xs.map((x, i) => [x, i]));
  const values = o.series.map((s) => {
    const col: (number | null)[] = xs.map(() => null);
    for (const p of s.points) {
      const i = index.get(p.x);
      if (i !== undefined && finite(p.y)) col[i] = Number(p.y.toPrecision(6));
    }
    return col;
  });
  return {
    id,
    title: o.title,
    xLabel: o.xLabel ?? 'seconds after the open',
    yLabel: o.yLabel,
    x: xs.map((x) => Number(x.toFixed(3))),
    values,
    series: o.series.map((s, i) => {
      const dash = dashOf(s);
      return {
        label: allZero(s) ? `${s.name} (0 throughout)` : s.name,
        color: s.color ?? PALETTE[i % PALETTE.length]!,
        dash: dash ? dash.split(/\s+/).map(Number) : null,
        marker: s.marker !== undefined,
      };
    }),
    markers: [...(o.markers ?? [])],
    refLines: [...(o.refLines ?? [])],
    gaps: gaps(o.series),
  };
}

export const INTERACTIVE_CSS = `.upbox{position:relative}figure.live>svg{display:none}
.uptip{position:absolute;z-index:10;pointer-events:none;background:rgba(255,255,255,.95);border:1px solid #bbb;border-radius:4px;padding:4px 6px;font-size:12px;line-height:1.35;white-space:nowrap;box-shadow:0 1px 4px rgba(0,0,0,.15)}
.u-title{font-size:13px!important;font-weight:600}`;

/** JSON inside a <script> element: `<` escaped so no data can close the element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

/**
 * The page's <style> additions and <script> elements for the given charts (only those with line data), or
 * empty strings when uPlot is not installed.
 */
export function interactiveParts(charts: readonly NamedChart[]): { css: string; scripts: string } {
  const assets = uplotAssets();
  const data = charts.flatMap((c) => (c.options ? [toUplot(c.id, c.options)] : []));
  if (!assets || data.length === 0) return { css: '', scripts: '' };
  return {
    css: `${assets.css}\n${INTERACTIVE_CSS}`,
    scripts: `<script>${assets.js}</script>\n<script type="application/json" id="chart-data">${scriptJson(data)}</script>\n<script>${UPLOT_BOOT}</script>`,
  };
}
