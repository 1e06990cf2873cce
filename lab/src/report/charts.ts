import {
  collectorDropCounter,
  gaugeSeries,
  type Point,
  pullDeliveredRate,
  rateSeries,
  relSeconds,
  socketDropCounter,
  udpDropCounter,
} from '../analysis/series.ts';
import type { ProbeSample, RunRecord } from '../core/record.ts';
import { compact, lineChart, type TimelineRow, timelineChart } from './svg.ts';

// The report's charts, built from the record's probe series (pure).

export interface NamedChart {
  id: string;
  svg: string;
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

export function recordCharts(r: RunRecord): NamedChart[] {
  const s = r.series;
  const t0 = r.burstAtMs;
  const mk = markers(r);
  const timeout = r.environment.prometheusScrapeTimeoutMs / 1000;
  const charts: NamedChart[] = [];
  charts.push({
    id: 'pull-rate',
    svg: lineChart({
      title: 'pull: orders emitted vs delivered to Prometheus (per second)',
      yLabel: 'orders/s',
      markers: mk,
      series: [
        { name: 'emitted (ledger)', points: rateSeries(s, t0, (x) => x.ledger?.orders) },
        {
          // rate() ignores the first sample of a new series: new instruments at the open show up late here
          name: 'stored (recording rule pushpull:pull_orders:rate30s)',
          points: pullDeliveredRate(s, t0),
          dashed: true,
        },
      ],
    }),
  });
  charts.push({
    id: 'push-rate',
    svg: lineChart({
      title: `push (${r.config.pushMode} ${r.config.transport}): orders emitted vs counted by the collector (per second)`,
      yLabel: 'orders/s',
      markers: mk,
      series: [
        {
          name: 'emitted (ledger)',
          points: rateSeries(s, t0, (x) => x.ledger?.ordersPushed),
          color: '#1f77b4',
        },
        {
          name: 'counted by collector',
          points: rateSeries(s, t0, (x) => x.collector?.orders),
          color: '#d62728',
          dashed: true,
        },
      ],
    }),
  });
  charts.push({
    id: 'cumulative',
    svg: lineChart({
      title: 'cumulative orders: emitted vs delivered, both paths',
      yLabel: 'orders',
      markers: mk,
      series: [
        { name: 'pull emitted', points: gaugeSeries(s, t0, (x) => x.ledger?.orders) },
        { name: 'pull stored', points: gaugeSeries(s, t0, (x) => x.pull?.storedOrders), dashed: true },
        { name: 'push emitted', points: gaugeSeries(s, t0, (x) => x.ledger?.ordersPushed) },
        { name: 'push counted', points: gaugeSeries(s, t0, (x) => x.collector?.orders), dashed: true },
      ],
    }),
  });
  charts.push({
    id: 'scrape-duration',
    svg: lineChart({
      title: 'pod scrape duration (producers job)',
      yLabel: 'seconds',
      markers: mk,
      refLines: [{ y: timeout / 2, label: `half the ${timeout} s timeout` }],
      series: [
        { name: 'p50', points: gaugeSeries(s, t0, (x) => x.pull?.scrapeP50) },
        { name: 'p99', points: gaugeSeries(s, t0, (x) => x.pull?.scrapeP99) },
        { name: 'max', points: gaugeSeries(s, t0, (x) => x.pull?.scrapeMax), dashed: true },
      ],
    }),
  });
  charts.push({
    id: 'body-size',
    svg: lineChart({
      title: 'pod /metrics body size (scrape_body_size_bytes)',
      yLabel: 'bytes',
      markers: mk,
      series: [
        { name: 'largest pod', points: gaugeSeries(s, t0, (x) => x.pull?.bodyBytesMax) },
        { name: 'average pod', points: gaugeSeries(s, t0, (x) => x.pull?.bodyBytesAvg) },
      ],
    }),
  });
  charts.push({
    id: 'targets',
    svg: lineChart({
      title: 'pod targets: discovered vs up',
      yLabel: 'targets',
      markers: mk,
      series: [
        { name: 'discovered', points: gaugeSeries(s, t0, (x) => x.pull?.targets) },
        { name: 'up', points: gaugeSeries(s, t0, (x) => x.pull?.targetsUp), dashed: true },
      ],
    }),
  });
  charts.push({
    id: 'udp-drops',
    svg: lineChart({
      title: 'push-side drops per second',
      yLabel: 'per second',
      markers: mk,
      series: [
        {
          name: "kernel drops, collector's socket",
          points: rateSeries(s, t0, socketDropCounter),
          color: '#d62728',
        },
        {
          name: 'kernel UDP drops, namespace',
          points: rateSeries(s, t0, udpDropCounter),
          color: '#e377c2',
          dashed: true,
        },
        { name: 'collector drops', points: rateSeries(s, t0, collectorDropCounter), color: '#ff7f0e' },
        {
          name: 'producer send errors',
          points: rateSeries(s, t0, (x) => x.ledger?.sendErrors),
          color: '#9467bd',
        },
        {
          name: 'collector packets (÷100)',
          points: rateSeries(s, t0, (x) => (x.collector?.packets ?? Number.NaN) / 100),
          color: '#7f7f7f',
          dashed: true,
        },
      ],
    }),
  });
  charts.push({
    id: 'cpu',
    svg: lineChart({
      title: 'CPU per component (cores)',
      yLabel: 'cores',
      markers: mk,
      series: cpuSeries(s, t0),
      formatY: (v) => (v >= 10 ? compact(v) : v.toFixed(2)),
    }),
  });
  const memNames = [...new Set(s.flatMap((x) => Object.keys(x.rss ?? {})))].sort();
  charts.push({
    id: 'memory',
    svg: lineChart({
      title: 'resident memory per component, and the host’s MemAvailable',
      yLabel: 'GiB',
      markers: mk,
      series: [
        ...memNames.map((n) => ({
          name: n,
          points: gaugeSeries(s, t0, (x) => (x.rss?.[n] ?? Number.NaN) / 2 ** 30),
        })),
        {
          name: 'host available',
          points: gaugeSeries(s, t0, (x) => (x.hostMemAvailable ?? Number.NaN) / 2 ** 30),
          dashed: true,
          color: '#7f7f7f',
        },
      ],
      formatY: (v) => v.toFixed(v >= 10 ? 0 : 1),
    }),
  });
  const xs = s.map((x) => relSeconds(x, t0));
  charts.push({
    id: 'alerts',
    svg: timelineChart('alerts (Prometheus rules)', alertTimeline(s, t0), [
      Math.min(0, ...xs),
      Math.max(1, ...xs),
    ]),
  });
  return charts;
}
