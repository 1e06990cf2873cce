// Small builders for Grafana 10.4 dashboard JSON (schemaVersion 39). The dashboards in ../dashboards/*.json
// are generated from ./dashboards.ts with `npx tsx grafana/generate.ts`; the unit test fails when they drift.
//
// Every panel, target and annotation uses the `${datasource}` template variable, never a fixed datasource
// uid, so the same JSON works against any Prometheus the viewer picks.

export const SCHEMA_VERSION = 39;

/** The datasource reference every panel, target and annotation carries. */
export const DATASOURCE = { type: 'prometheus', uid: `\${datasource}` } as const;

export interface Target {
  expr: string;
  legendFormat?: string;
  /** Instant query (stat panels): Grafana asks /api/v1/query instead of /api/v1/query_range. */
  instant?: boolean;
  format?: 'time_series' | 'heatmap' | 'table';
}

export interface Threshold {
  color: string;
  value: number | null;
}

export type PanelType = 'timeseries' | 'stat' | 'heatmap';

export interface PanelSpec {
  type: PanelType;
  title: string;
  description: string;
  /** Grid width (of 24) and height. */
  w: number;
  h: number;
  unit?: string;
  min?: number;
  max?: number;
  decimals?: number;
  targets: Target[];
  thresholds?: Threshold[];
  /** Draw the thresholds as dashed lines on a time series. */
  thresholdLines?: boolean;
  overrides?: unknown[];
  /** Extra `fieldConfig.defaults.custom` keys (time series). */
  custom?: Record<string, unknown>;
  /** Extra `options` keys, merged over the type's defaults. */
  options?: Record<string, unknown>;
  mappings?: unknown[];
}

export interface RowSpec {
  row: string;
}

export type Item = PanelSpec | RowSpec;

export interface AnnotationSpec {
  name: string;
  expr: string;
  iconColor: string;
  titleFormat: string;
  textFormat?: string;
  tagKeys: string;
  /** The sample value is the event time in ms (e.g. `..._timestamp_seconds * 1000`). */
  useValueForTime?: boolean;
  step?: string;
  enable?: boolean;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  items: Item[];
  annotations: AnnotationSpec[];
}

const GREEN_ONLY: Threshold[] = [{ color: 'green', value: null }];

const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function target(t: Target, i: number): Record<string, unknown> {
  const instant = t.instant === true;
  return {
    datasource: DATASOURCE,
    editorMode: 'code',
    expr: t.expr,
    format: t.format ?? 'time_series',
    instant,
    legendFormat: t.legendFormat ?? '__auto',
    range: !instant,
    refId: REF_IDS[i],
  };
}

function typeDefaults(p: PanelSpec): { custom?: Record<string, unknown>; options: Record<string, unknown> } {
  switch (p.type) {
    case 'timeseries':
      return {
        custom: {
          axisBorderShow: false,
          axisCenteredZero: false,
          axisColorMode: 'text',
          axisLabel: '',
          axisPlacement: 'auto',
          barAlignment: 0,
          drawStyle: 'line',
          fillOpacity: 10,
          gradientMode: 'none',
          hideFrom: { legend: false, tooltip: false, viz: false },
          insertNulls: false,
          lineInterpolation: 'linear',
          lineWidth: 1,
          pointSize: 4,
          scaleDistribution: { type: 'linear' },
          showPoints: 'never',
          spanNulls: false,
          stacking: { group: 'A', mode: 'none' },
          thresholdsStyle: { mode: p.thresholdLines === true ? 'dashed' : 'off' },
          ...p.custom,
        },
        options: {
          legend: {
            calcs: ['lastNotNull', 'max'],
            displayMode: 'table',
            placement: 'bottom',
            showLegend: true,
          },
          tooltip: { mode: 'multi', sort: 'desc' },
        },
      };
    case 'stat':
      return {
        options: {
          colorMode: 'background',
          graphMode: 'none',
          justifyMode: 'center',
          orientation: 'auto',
          reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
          showPercentChange: false,
          textMode: 'value',
          wideLayout: true,
        },
      };
    case 'heatmap':
      return {
        custom: {
          hideFrom: { legend: false, tooltip: false, viz: false },
          scaleDistribution: { type: 'linear' },
        },
        options: {
          calculate: true,
          calculation: { yBuckets: { mode: 'count', value: '24', scale: { type: 'log', log: 2 } } },
          cellGap: 1,
          color: {
            exponent: 0.5,
            fill: 'dark-orange',
            mode: 'scheme',
            reverse: false,
            scale: 'exponential',
            scheme: 'Oranges',
            steps: 64,
          },
          exemplars: { color: 'rgba(255,0,255,0.7)' },
          filterValues: { le: 1e-9 },
          legend: { show: true },
          rowsFrame: { layout: 'auto' },
          tooltip: { mode: 'single', showColorScale: false, yHistogram: true },
          yAxis: { axisPlacement: 'left', reverse: false, unit: p.unit ?? 'short' },
        },
      };
  }
}

function panel(p: PanelSpec, id: number, x: number, y: number): Record<string, unknown> {
  const d = typeDefaults(p);
  const defaults: Record<string, unknown> = {
    color: p.type === 'stat' ? { mode: 'thresholds' } : { mode: 'palette-classic' },
    mappings: p.mappings ?? [],
    thresholds: { mode: 'absolute', steps: p.thresholds ?? GREEN_ONLY },
    unit: p.unit ?? 'short',
  };
  if (d.custom) defaults.custom = d.custom;
  if (p.min !== undefined) defaults.min = p.min;
  if (p.max !== undefined) defaults.max = p.max;
  if (p.decimals !== undefined) defaults.decimals = p.decimals;
  return {
    datasource: DATASOURCE,
    description: p.description,
    fieldConfig: { defaults, overrides: p.overrides ?? [] },
    gridPos: { h: p.h, w: p.w, x, y },
    id,
    options: { ...d.options, ...p.options },
    targets: p.targets.map(target),
    title: p.title,
    type: p.type,
  };
}

function annotation(a: AnnotationSpec): Record<string, unknown> {
  return {
    datasource: DATASOURCE,
    enable: a.enable ?? true,
    expr: a.expr,
    hide: false,
    iconColor: a.iconColor,
    name: a.name,
    step: a.step ?? '5s',
    tagKeys: a.tagKeys,
    textFormat: a.textFormat ?? '',
    titleFormat: a.titleFormat,
    useValueForTime: a.useValueForTime ?? false,
  };
}

/** Packs items left to right in rows of 24 columns; a RowSpec starts a new full-width collapsible row. */
function layout(items: Item[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let id = 1;
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const item of items) {
    if ('row' in item) {
      if (x > 0) y += rowHeight;
      out.push({
        collapsed: false,
        gridPos: { h: 1, w: 24, x: 0, y },
        id: id++,
        panels: [],
        title: item.row,
        type: 'row',
      });
      y += 1;
      x = 0;
      rowHeight = 0;
      continue;
    }
    if (x + item.w > 24) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    out.push(panel(item, id++, x, y));
    x += item.w;
    rowHeight = Math.max(rowHeight, item.h);
  }
  return out;
}

export function dashboard(spec: DashboardSpec): Record<string, unknown> {
  return {
    annotations: { list: spec.annotations.map(annotation) },
    description: spec.description,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [
      {
        asDropdown: false,
        icon: 'external link',
        includeVars: true,
        keepTime: true,
        tags: ['pushpull'],
        targetBlank: false,
        title: 'pushpull-lab',
        type: 'dashboards',
      },
    ],
    liveNow: false,
    panels: layout(spec.items),
    refresh: '5s',
    schemaVersion: SCHEMA_VERSION,
    tags: spec.tags,
    templating: {
      list: [
        {
          current: { selected: false, text: 'Prometheus', value: 'prometheus' },
          hide: 0,
          includeAll: false,
          label: 'Data source',
          multi: false,
          name: 'datasource',
          options: [],
          query: 'prometheus',
          refresh: 1,
          regex: '',
          skipUrlSync: false,
          type: 'datasource',
        },
      ],
    },
    time: { from: 'now-15m', to: 'now' },
    timepicker: { refresh_intervals: ['5s', '10s', '30s', '1m', '5m'] },
    timezone: 'browser',
    title: spec.title,
    uid: spec.uid,
    version: 1,
    weekStart: '',
  };
}
