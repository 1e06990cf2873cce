import { formatLossPct } from '../analysis/accounting.ts';
import { signalImpact } from '../analysis/impact.ts';
import { pushLabel } from '../analysis/verdict.ts';
import type { RunRecord } from '../core/record.ts';
import { budgetRows } from './loss-tables.ts';
import { compact } from './svg.ts';

// The tables shared by the terminal summary, report.md and report.html (pure: record → rows).

export type { Table } from './table.ts';

import { pullLabel } from '../core/record-agents.ts';
import { transportOf } from '../core/transports.ts';
import type { Table } from './table.ts';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const opt = (n: number | null | undefined, f: (n: number) => string = compact) =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : f(n);
const secs = (n: number) => `${n.toFixed(n < 1 ? 3 : 2)} s`;
const bytes = (n: number) =>
  n >= 1024 * 1024
    ? `${(n / 1048576).toFixed(1)} MiB`
    : n >= 1024
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${n} B`;

export function lossTable(r: RunRecord): Table {
  const rows = (['pull', 'push'] as const).map((p) => {
    const a = r.paths[p];
    return [
      p === 'pull' ? pullLabel(r.config) : pushLabel(r.config),
      int(a.emitted),
      int(a.delivered),
      int(a.lost),
      formatLossPct(a.lossPct),
    ];
  });
  return { head: ['path', 'emitted', 'delivered', 'lost', 'loss'], rows, align: ['l', 'r', 'r', 'r', 'r'] };
}

export function lossSourcesTable(r: RunRecord): Table {
  return {
    head: ['path', 'emitted counted by', 'delivered counted by'],
    rows: (['pull', 'push'] as const).map((p) => [p, r.paths[p].emittedFrom, r.paths[p].deliveredFrom]),
  };
}

export function datagramsTable(r: RunRecord): Table | null {
  const d = r.datagrams;
  if (!d) return null;
  return {
    head: ['push datagrams (UDP)', 'count'],
    rows: [
      ['handed to the socket (ledgers)', int(d.sent)],
      ['received by the collector', int(d.received)],
      ['lost between them', int(d.lost)],
    ],
    align: ['l', 'r'],
  };
}

export function discountedTable(r: RunRecord): Table | null {
  if (!r.discounted || r.discounted.length === 0) return null;
  return { head: ['signal not counted', 'why'], rows: r.discounted.map((d) => [d.signal, d.reason]) };
}

export function failuresTable(r: RunRecord): Table {
  return {
    head: ['#', 'path', 'signal', 's after open', 'impact (orders lost to its cause)', 'detail'],
    rows: r.firstFailures.map((f, i) => [
      String(i + 1),
      f.path,
      f.signal,
      `${f.secondsAfterBurst >= 0 ? '+' : ''}${f.secondsAfterBurst.toFixed(1)}`,
      impactText(r, f.path, f.signal),
      f.detail,
    ]),
    align: ['r', 'l', 'l', 'r', 'r', 'l'],
  };
}

/** "1,234 (56.0% of the loss)", or "–" when the signal points at no loss cause (or run@1 has no causes). */
function impactText(r: RunRecord, path: 'pull' | 'push', signal: string): string {
  const a = r.paths[path];
  const n = signalImpact(signal, a.causes);
  if (n === null) return '–';
  return a.lost > 0 ? `${int(n)} (${((n / a.lost) * 100).toFixed(1)}% of the loss)` : int(n);
}

export function peaksTable(r: RunRecord): Table {
  const p = r.peaks;
  const rows: string[][] = [
    ['pull emitted (orders/s)', opt(p.pullEmittedPerSec)],
    ['pull delivered (orders/s, per scrape)', opt(p.pullDeliveredPerSec)],
    ['push emitted (orders/s)', opt(p.pushEmittedPerSec)],
    ['push delivered (orders/s)', opt(p.pushDeliveredPerSec)],
    ['collector packets/s', opt(p.collectorPacketsPerSec)],
    ['kernel UDP drops/s', opt(p.udpDropsPerSec)],
    ['scrape duration p99 (s)', opt(p.scrapeP99Seconds, secs)],
    ['slowest scrape (s)', opt(p.scrapeMaxSeconds, secs)],
    ['largest pod /metrics body', opt(p.bodyBytesMax, bytes)],
    ['most samples in one scrape', opt(p.samplesPerScrapeMax, int)],
  ];
  const rss = Object.entries(p.rssMax ?? {}).sort((a, b) => b[1] - a[1]);
  if (rss.length > 0)
    rows.push([
      'largest resident memory',
      rss
        .slice(0, 4)
        .map(([k, v]) => `${k} ${bytes(v)}`)
        .join(', '),
    ]);
  if (p.hostMemAvailableMin !== null && p.hostMemAvailableMin !== undefined)
    rows.push(['lowest host MemAvailable', bytes(p.hostMemAvailableMin)]);
  if (p.model) {
    rows.push([
      `model: ${p.model.name} (${p.model.unit})`,
      `${compact(p.model.value)} predicted vs ${opt(p.model.measured)} measured — ${p.model.note}`,
    ]);
  }
  return { head: ['peak', 'value'], rows, align: ['l', 'r'] };
}

export function phasesTable(r: RunRecord): Table {
  const t0 = r.burstAtMs;
  return {
    head: ['phase', 'started (s after open)', 'at'],
    rows: r.phases.map((p) => [
      p.phase,
      ((p.startMs - t0) / 1000).toFixed(1),
      new Date(p.startMs).toISOString(),
    ]),
    align: ['l', 'r', 'l'],
  };
}

export function environmentTable(r: RunRecord): Table {
  const e = r.environment;
  const c = r.config;
  return {
    head: ['setting', 'value'],
    rows: [
      ['runtime', e.runtime],
      ['cores', String(e.cores)],
      ['kernel', e.kernel],
      ['net.core.rmem_max', e.rmemMaxBytes === null ? 'unknown' : `${int(e.rmemMaxBytes)} B`],
      [
        'collector receive buffer granted',
        e.collectorRcvbufBytes === null ? 'unknown' : `${int(e.collectorRcvbufBytes)} B`,
      ],
      ['node', e.node],
      [
        'pods / producers',
        `${c.pods} / ${c.producers} (${c.podsPerProducer} per producer; per-pod load = incident fleet of ${c.fleetPods})`,
      ],
      [
        'push',
        transportOf(c.transport).sdk
          ? `${transportOf(c.transport).title} (OpenTelemetry SDK), ${c.otlpTemporality ?? 'cumulative'} temporality, export every ${c.flushIntervalMs / 1000} s, jitter ${c.jitter ? 'on' : 'off'}`
          : `${c.pushMode}, ${c.transport}, jitter ${c.jitter ? 'on' : 'off'}`,
      ],
      [
        'scrape interval / timeout',
        `${c.scrapeIntervalMs / 1000} s / ${e.prometheusScrapeTimeoutMs / 1000} s`,
      ],
      ['burst window', `${c.durationMs / 1000} s`],
      ['seed', String(c.seed)],
      ...budgetRows(r),
      ...nodeRows(e),
      ...openRows(r),
      ...e.notes.map((n, i) => [`note ${i + 1}`, n]),
    ],
  };
}

/** Swarm: one row per node — its size and how far its clock is from the manager's (the notes warn). */
function nodeRows(e: RunRecord['environment']): string[][] {
  return (e.nodes ?? []).map((n) => [
    `swarm node ${n.name}${n.id ? ` (${n.id.slice(0, 12)}${n.role ? `, ${n.role}` : ''})` : ''}`,
    `${n.producers !== undefined ? `${n.producers} producers / ${n.pods ?? 0} pods, ` : ''}${n.tasks ? `tasks ${n.tasks.join(' ')}, ` : ''}${n.cores} cores, ${(n.memoryBytes / 2 ** 30).toFixed(1)} GiB, clock ${
      n.clockOffsetMs === null
        ? 'not measured'
        : `${n.clockOffsetMs > 0 ? '+' : ''}${n.clockOffsetMs} ms off the manager's`
    }`,
  ]);
}

/** The open across producers (run.open): spread, the clocks' part, lateness, compensation. */
function openRows(r: RunRecord): string[][] {
  const o = r.open;
  if (!o) return [];
  const ms = (x: number | null) => (x === null ? 'not measured' : `${x} ms`);
  return [
    [
      'open spread',
      `${ms(o.spreadMs)} across ${o.producers.length} producers (clocks' part ${ms(o.clockSpreadMs)}, latest tick ${ms(o.maxLateMs)} late; compensation ${o.compensation ? 'on' : 'off'}; warned above ${o.warnAboveMs} ms)`,
    ],
  ];
}

/** Plain-text table for terminals (aligned columns). */
export function textTable(t: Table): string {
  const all = [t.head, ...t.rows];
  const widths = t.head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (t.align?.[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(t.head), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

export function markdownTable(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const sep = t.head.map((_, i) => (t.align?.[i] === 'r' ? '---:' : '---'));
  return [t.head, sep, ...t.rows].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
}
