import {
  collectorDropCounter,
  type Getter,
  gaugeSeries,
  type Point,
  pullDeliveredRate,
  pushDeliveredCount,
  pushDeliveredRate,
  rateSeries,
  relSeconds,
  socketDropCounter,
  udpDropCounter,
} from '../analysis/series.ts';
import type { ProbeSample, RunRecord } from '../core/record.ts';
import {
  type ChartSeries,
  compact,
  type LineChartOptions,
  lineChart,
  type TimelineRow,
  timelineChart,
} from './svg.ts';

// The report's charts, built from the record's probe series (pure). Each line chart is a spec (data:
// title, unit, lines with how each is read from the samples); one function draws any spec.

export interface NamedChart {
  id: string;
  /** The static chart (the page's no-script fallback). */
  svg: string;
  /** A time-series chart's data, for the interactive layer (report/interactive.ts); absent = SVG only. */
  options?: LineChartOptions;
}

function markers(r: RunRecord): { x: number; label: string }[] {
  const out = [{ x: 0, label: 'open' }];
  for (const p of r.phases) {
    if (p.phase === 'quiesce' || p.phase === 'warmup')
      out.push({ x: (p.startMs - r.burstAtMs) / 1000, label: p.phase });
  }
  return out;
}

export function alertTimeline(samples: readonly ProbeSample[], burstAtMs: number): TimelineRow[] {
  // Alerts are probed every few ticks: a tick without an observation continues the previous one.
  const observed = samples.filter((s) => s.alerts !== null);
  const rows = new Map<
    string,
    TimelineRow & { spans: { from: number; to: number; state: 'pending' | 'firing' }[] }
  >();
  for (let i = 0; i < observed.length; i++) {
    const s = observed[i]!;
    const x = relSeconds(s, burstAtMs);
    const next = observed[i + 1];
    const xEnd = next ? relSeconds(next, burstAtMs) : x + 1;
    for (const a of s.alerts ?? []) {
      let row = rows.get(a.name);
      if (!row) {
        row = { name: a.name, spans: [] };
        rows.set(a.name, row);
      }
      const last = row.spans[row.spans.length - 1];
      if (last && last.state === a.state && Math.abs(last.to - x) < 1e-6) last.to = xEnd;
      else row.spans.push({ from: x, to: xEnd, state: a.state });
    }
  }
  return [...rows.values()].sort((a, b) => (a.spans[0]?.from ?? 0) - (b.spans[0]?.from ?? 0));
}

/** Moving average over `k` points (nulls skipped), to make noisy per-second rates readable. */
export function smooth(points: readonly Point[], k = 3): Point[] {
  return points.map((p, i) => {
    const win = points.slice(Math.max(0, i - k + 1), i + 1).filter((q) => q.y !== null);
    return {
      x: p.x,
      y: p.y === null || win.length === 0 ? null : win.reduce((a, q) => a + q.y!, 0) / win.length,
    };
  });
}

/** CPU cores used per component group: Δ cpu-seconds / Δ wall-seconds. */
export function cpuSeries(
  samples: readonly ProbeSample[],
  burstAtMs: number,
): { name: string; points: Point[] }[] {
  const names = new Set<string>();
  for (const s of samples) for (const k of Object.keys(s.cpu ?? {})) names.add(k);
  return [...names].sort().map((name) => ({
    name,
    points: smooth(rateSeries(samples, burstAtMs, (s) => s.cpu?.[name] ?? null)),
  }));
}

/** run@3: each CPU budget as a reference line; components with the same budget share one line. */
export function budgetLines(r: RunRecord): { y: number; label: string }[] {
  const by = new Map<number, string[]>();
  for (const [c, v] of Object.entries(r.config.resources ?? {}))
    if (v.cpus !== null) by.set(v.cpus, [...(by.get(v.cpus) ?? []), c]);
  return [...by].map(([y, cs]) => ({ y, label: `budget: ${cs.join(', ')} ${y}` }));
}

/** How one line's points come from the samples (x = seconds after the open). */
type PointsOf = (samples: readonly ProbeSample[], burstAtMs: number) => Point[];

/** Per second, from a cumulative counter. */
const rate =
  (get: Getter): PointsOf =>
  (s, t0) =>
    rateSeries(s, t0, get);
/** The value as sampled. */
const gauge =
  (get: Getter): PointsOf =>
  (s, t0) =>
    gaugeSeries(s, t0, get);

interface LineSpec extends Omit<ChartSeries, 'points'> {
  points: PointsOf;
}

/** Lines whose number depends on what the samples hold (one per component). */
type LinesOf = (samples: readonly ProbeSample[], burstAtMs: number) => ChartSeries[];

interface LineChartSpec {
  id: string;
  title: string | ((r: RunRecord) => string);
  /** The y axis unit. */
  yLabel: string;
  lines: readonly LineSpec[] | LinesOf;
  refLines?: (r: RunRecord) => { y: number; label: string }[];
  formatY?: (v: number) => string;
}

const GiB = 2 ** 30;

/** Resident memory per component group. */
function rssLines(s: readonly ProbeSample[], t0: number): ChartSeries[] {
  const memNames = [...new Set(s.flatMap((x) => Object.keys(x.rss ?? {})))].sort();
  return memNames.map((n) => ({
    name: n,
    points: gaugeSeries(s, t0, (x) => (x.rss?.[n] ?? Number.NaN) / GiB),
  }));
}

const LINE_CHARTS: readonly LineChartSpec[] = [
  {
    id: 'pull-rate',
    title: 'pull: orders emitted vs delivered to Prometheus (per second)',
    yLabel: 'orders/s',
    lines: [
      { name: 'emitted (ledger)', points: rate((x) => x.ledger?.orders) },
      // rate() ignores the first sample of a new series: new instruments at the open show up late here
      {
        name: 'stored (recording rule pushpull:pull_orders:rate30s)',
        points: pullDeliveredRate,
        dashed: true,
      },
    ],
  },
  {
    id: 'push-rate',
    title: (r) =>
      `push (${r.config.pushMode} ${r.config.transport}): orders emitted vs counted by the collector (per second)`,
    yLabel: 'orders/s',
    lines: [
      { name: 'emitted (ledger)', points: rate((x) => x.ledger?.ordersPushed), color: '#1f77b4' },
      {
        name: 'stored (recording rule pushpull:push_orders:rate30s)',
        points: pushDeliveredRate,
        color: '#d62728',
        dashed: true,
      },
    ],
  },
  {
    id: 'cumulative',
    title: 'cumulative orders: emitted vs delivered, both paths',
    yLabel: 'orders',
    // The emitted lines of the two paths often coincide: each gets its own dash and marker.
    lines: [
      { name: 'pull emitted', points: gauge((x) => x.ledger?.orders), color: '#1f77b4', marker: 'circle' },
      {
        name: 'pull stored',
        points: gauge((x) => x.pull?.storedOrders),
        color: '#17becf',
        dash: '6 3',
        marker: 'circle',
      },
      {
        name: 'push emitted',
        points: gauge((x) => x.ledger?.ordersPushed),
        color: '#d62728',
        dash: '2 3',
        marker: 'square',
      },
      {
        name: 'push stored',
        points: gauge(pushDeliveredCount),
        color: '#ff7f0e',
        dash: '8 3 2 3',
        marker: 'diamond',
      },
    ],
  },
  {
    id: 'scrape-duration',
    title: 'pod scrape duration (producers job)',
    yLabel: 'seconds',
    refLines: (r) => {
      const timeout = r.environment.prometheusScrapeTimeoutMs / 1000;
      return [{ y: timeout / 2, label: `half the ${timeout} s timeout` }];
    },
    lines: [
      { name: 'p50', points: gauge((x) => x.pull?.scrapeP50) },
      { name: 'p99', points: gauge((x) => x.pull?.scrapeP99) },
      { name: 'max', points: gauge((x) => x.pull?.scrapeMax), dashed: true },
    ],
  },
  {
    id: 'body-size',
    title: 'pod /metrics body size (scrape_body_size_bytes)',
    yLabel: 'bytes',
    lines: [
      { name: 'largest pod', points: gauge((x) => x.pull?.bodyBytesMax) },
      { name: 'average pod', points: gauge((x) => x.pull?.bodyBytesAvg) },
    ],
  },
  {
    id: 'targets',
    title: 'pod targets: discovered vs up',
    yLabel: 'targets',
    lines: [
      { name: 'discovered', points: gauge((x) => x.pull?.targets) },
      { name: 'up', points: gauge((x) => x.pull?.targetsUp), dashed: true },
    ],
  },
  {
    id: 'udp-drops',
    title: 'push-side drops per second',
    yLabel: 'per second',
    lines: [
      { name: "kernel drops, collector's socket", points: rate(socketDropCounter), color: '#d62728' },
      { name: 'kernel UDP drops, namespace', points: rate(udpDropCounter), color: '#e377c2', dashed: true },
      { name: 'collector drops', points: rate(collectorDropCounter), color: '#ff7f0e' },
      { name: 'producer send errors', points: rate((x) => x.ledger?.sendErrors), color: '#9467bd' },
      {
        name: 'collector packets (÷100)',
        points: rate((x) => (x.collector?.packets ?? Number.NaN) / 100),
        color: '#7f7f7f',
        dashed: true,
      },
    ],
  },
  {
    id: 'cpu',
    title: (r) =>
      r.config.resources ? 'CPU used per component against its budget (cores)' : 'CPU per component (cores)',
    yLabel: 'cores',
    lines: cpuSeries,
    refLines: budgetLines,
    formatY: (v) => (v >= 10 ? compact(v) : v.toFixed(2)),
  },
  {
    id: 'memory-host',
    title: 'the host’s available memory (MemAvailable)',
    yLabel: 'GiB',
    lines: [
      {
        name: 'host MemAvailable',
        points: gauge((x) => (x.hostMemAvailable ?? Number.NaN) / GiB),
        color: '#7f7f7f',
      },
    ],
    formatY: (v) => v.toFixed(v >= 10 ? 0 : 1),
  },
  {
    id: 'memory-rss',
    title: 'resident memory per component (RSS)',
    yLabel: 'GiB',
    lines: rssLines,
    formatY: (v) => v.toFixed(v >= 10 ? 0 : 2),
  },
];

/** Draws one spec over a record's samples, with the open and phase changes marked. */
function drawLineChart(spec: LineChartSpec, r: RunRecord): NamedChart {
  const s = r.series;
  const t0 = r.burstAtMs;
  const series =
    typeof spec.lines === 'function'
      ? spec.lines(s, t0)
      : spec.lines.map(({ points, ...line }) => ({ ...line, points: points(s, t0) }));
  const options: LineChartOptions = {
    title: typeof spec.title === 'function' ? spec.title(r) : spec.title,
    yLabel: spec.yLabel,
    markers: markers(r),
    series,
    ...(spec.refLines ? { refLines: spec.refLines(r) } : {}),
    ...(spec.formatY ? { formatY: spec.formatY } : {}),
  };
  return { id: spec.id, svg: lineChart(options), options };
}

/** Which alerts were pending or firing, over the whole run. */
function alertsChart(r: RunRecord): NamedChart {
  const xs = r.series.map((x) => relSeconds(x, r.burstAtMs));
  return {
    id: 'alerts',
    svg: timelineChart('alerts (Prometheus rules)', alertTimeline(r.series, r.burstAtMs), [
      Math.min(0, ...xs),
      Math.max(1, ...xs),
    ]),
  };
}

export function recordCharts(r: RunRecord): NamedChart[] {
  return [...LINE_CHARTS.map((spec) => drawLineChart(spec, r)), alertsChart(r)];
}
