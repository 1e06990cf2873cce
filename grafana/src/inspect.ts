// Reading dashboards back: every PromQL expression a dashboard will send, and the interpolation of Grafana's
// built-in interval variables, so tests can evaluate exactly what Grafana would ask Prometheus.

export interface DashboardQuery {
  /** Dashboard file name (e.g. `market-open.json`). */
  file: string;
  uid: string;
  kind: 'panel' | 'annotation';
  panelId: number | null;
  /** Panel title or annotation name. */
  title: string;
  /** Target refId (panels) or `annotation`. */
  refId: string;
  expr: string;
  /** Grafana sends it as an instant query (/api/v1/query) rather than a range query. */
  instant: boolean;
  /** Annotations may be off by default (toggle in the dashboard); panels are always on. */
  enabled: boolean;
}

export type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** All panels, rows included, with the panels nested in collapsed rows flattened in. */
export function allPanels(dashboard: Json): Json[] {
  const out: Json[] = [];
  const walk = (list: unknown[]) => {
    for (const p of list) {
      if (!isObj(p)) continue;
      out.push(p);
      walk(arr(p.panels));
    }
  };
  walk(arr(dashboard.panels));
  return out;
}

export function annotationsOf(dashboard: Json): Json[] {
  const a = dashboard.annotations;
  return isObj(a) ? arr(a.list).filter(isObj) : [];
}

/** Every expression of every panel target and every (non built-in) annotation. */
export function extractQueries(file: string, dashboard: Json): DashboardQuery[] {
  const uid = String(dashboard.uid);
  const out: DashboardQuery[] = [];
  for (const p of allPanels(dashboard)) {
    for (const t of arr(p.targets).filter(isObj)) {
      out.push({
        file,
        uid,
        kind: 'panel',
        panelId: typeof p.id === 'number' ? p.id : null,
        title: String(p.title),
        refId: String(t.refId),
        expr: String(t.expr ?? ''),
        instant: t.instant === true && t.range !== true,
        enabled: true,
      });
    }
  }
  for (const a of annotationsOf(dashboard)) {
    if (a.builtIn === 1) continue;
    out.push({
      file,
      uid,
      kind: 'annotation',
      panelId: null,
      title: String(a.name),
      refId: 'annotation',
      expr: String(a.expr ?? ''),
      instant: false,
      enabled: a.enable !== false,
    });
  }
  return out;
}

export interface IntervalVars {
  /** The datasource's scrape interval ("Scrape interval" / jsonData.timeInterval), seconds. */
  scrapeIntervalS: number;
  /** `$__interval`: the query step, seconds. */
  intervalS: number;
  /** `$__range`: the dashboard time range, seconds. */
  rangeS: number;
}

/** Grafana's `$__rate_interval`: max($__interval + scrape interval, 4 × scrape interval). */
export function rateIntervalS(v: IntervalVars): number {
  return Math.max(v.intervalS + v.scrapeIntervalS, 4 * v.scrapeIntervalS);
}

const dur = (s: number) => (Number.isInteger(s) ? `${s}s` : `${Math.round(s * 1000)}ms`);

/** Replaces Grafana's built-in interval/range variables the way Grafana does before sending the query. */
export function interpolate(expr: string, v: IntervalVars): string {
  const values: Record<string, string> = {
    __rate_interval: dur(rateIntervalS(v)),
    __rate_interval_ms: String(Math.round(rateIntervalS(v) * 1000)),
    __interval: dur(v.intervalS),
    __interval_ms: String(Math.round(v.intervalS * 1000)),
    __range: dur(v.rangeS),
    __range_s: String(Math.round(v.rangeS)),
    __range_ms: String(Math.round(v.rangeS * 1000)),
  };
  return expr.replace(
    /\$\{(__\w+)\}|\$(__\w+)/g,
    (m, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      return values[name] ?? m;
    },
  );
}
