// Terminal rendering of a cost report. Pure.

import { alignRows, dec, int, ratio } from '../model/format.ts';
import { type CostReport, type CostRow, PUBLISHED_COST_RUN, type PushRow } from './run.ts';

export function us(ns: number): string {
  const u = ns / 1000;
  return `${u < 10 ? dec(u, 2) : u < 100 ? dec(u, 1) : int(u)} µs`;
}

function ofSent(a: number, b: number): string {
  return `${int(a)} of ${int(b)}`;
}

function ms(ns: number): string {
  return `${dec(ns / 1e6, 2)} ms`;
}

function costCells(label: string, r: CostRow): string[] {
  return [label, us(r.cost.p50Ns), us(r.cost.p99Ns), us(r.cost.meanNs), us(r.cold.p99Ns)];
}

function pushCells(label: string, r: PushRow): string[] {
  return [
    ...costCells(label, r),
    r.mode === 'per-event' ? '—' : us(r.flushNs),
    ofSent(r.datagrams.received, r.datagrams.sent) + (r.settleTimedOut ? ' (settle timed out)' : ''),
    ofSent(r.eventsDelivered.delivered, r.eventsDelivered.recorded),
  ];
}

/** What one OTLP export per run cost and what the receiver counted of every export. */
function otlpLines(r: CostReport): string[] {
  const o = r.otlp;
  const e = o.export;
  const t = o.totals;
  const w = r.otlpWarmup;
  return [
    `  OTLP export: one per run, ${int(e.points)} cumulative points (protobuf POST /v1/metrics): ${ms(e.wallNs)} ` +
      `wall, ${ms(e.cpuNs)} process CPU warm (collect ${us(e.collectNs)}, serialise ${us(e.serializeNs)}); ` +
      `cold ${ms(e.wallNsCold)} wall, ${ms(e.cpuNsCold)} CPU` +
      (r.collector.kind === 'inproc' ? ' (CPU and wall include the in-process receiver)' : ''),
    `  OTLP at the receiver: ${ofSent(t.pointsAccepted, t.pointsExported)} points accepted ` +
      `(${int(t.pointsRefused)} refused), ${int(t.requestsOk)} of ${int(t.requests)} requests answered 200 for ` +
      `${int(t.exports)} exports (${int(t.exportsFailed)} failed), ${int(t.bytes)} bytes; orders: ` +
      `${int(t.ordersRecorded)} recorded, ${int(t.ordersExported)} exported, ${int(t.ordersDelivered)} delivered` +
      (o.errors.length > 0 ? `; export errors: ${o.errors.join('; ')}` : ''),
    ...(r.warmup > 0
      ? [
          `  (OTLP warm-up: ${ofSent(w.pointsAccepted, w.pointsExported)} points accepted in ${int(w.exports)} exports)`,
        ]
      : []),
  ];
}

export function formatCostTable(r: CostReport): string {
  const p = PUBLISHED_COST_RUN;
  const lines: string[] = [];
  lines.push(
    `Per-event cost of ${int(r.events)} checkout events (12 series) per path. "warm": median over ${r.repeats} ` +
      `run${r.repeats === 1 ? '' : 's'} after ${int(r.warmup)} untimed warm-up events; "cold": the first run in ` +
      'this process. Cores are shared: single runs are noisy.',
  );
  lines.push(
    `Collector: ${r.collector.kind === 'inproc' ? 'in-process createCollector' : 'child process'} on udp ` +
      `${r.collector.udp}` +
      (r.collector.rcvbufGranted === null ? '' : ` (SO_RCVBUF granted ${int(r.collector.rcvbufGranted)} B)`) +
      `, ${r.collector.http}; pull registry ${r.defaultMetrics ? 'with' : 'without'} ` +
      `prom-client default metrics. Datagram and event counts: totals over all ${r.timedRuns} timed runs.`,
  );
  lines.push('');
  lines.push(
    ...alignRows(
      [
        [
          '',
          'warm p50',
          'warm p99',
          'warm mean',
          'cold p99',
          'final flush',
          'datagrams received',
          'events delivered',
        ],
        [...costCells('pull   prom-client counter.inc', r.pull), '—', '—', '—'],
        pushCells('push   hot-shots, one datagram per event', r.push),
        pushCells(`push   hot-shots buffered (maxBufferSize ${r.maxBufferSize})`, r.pushBuffered),
        pushCells('push   hot-shots aggregated (client-side sum)', r.pushAggregated),
        [
          ...costCells('push   OTel SDK counter.add, OTLP/HTTP export', r.otlp),
          us(r.otlp.export.wallNs),
          '—',
          ofSent(r.otlp.totals.ordersDelivered, r.otlp.totals.ordersRecorded),
        ],
        [
          'timer floor (empty call, same timing)',
          us(r.timerFloor.p50Ns),
          us(r.timerFloor.p99Ns),
          us(r.timerFloor.meanNs),
          '',
          '',
          '',
          '',
        ],
      ],
      '  ',
    ),
  );
  if (r.warmup > 0)
    lines.push(
      `  (warm-up traffic, not in the rows: ${ofSent(r.warmupTraffic.received, r.warmupTraffic.sent)} datagrams ` +
        'received by the collector)',
    );
  lines.push(...otlpLines(r));
  lines.push('');
  lines.push(
    `  push/pull p99 ratio: ${ratio(r.ratio)} warm, ${ratio(r.ratioCold)} cold; ` +
      `OTLP/pull: ${ratio(r.ratioOtlp)} warm`,
  );
  lines.push(
    `  scrape: one GET of the pull registry's /metrics over HTTP on 127.0.0.1: ${int(r.scrape.bytes)} bytes in ` +
      `${dec(r.scrape.ms, 2)} ms warm, ${dec(r.scrape.msCold, 2)} ms cold`,
  );
  lines.push(
    `  published (${p.machine}): pull ${p.pullP99Us} µs p99, push ${p.pushP99Us} µs p99 (${p.ratio}×), ` +
      `${int(p.scrapeBytes)}-byte scrape in ${p.scrapeMs} ms, ${int(p.received)} of ${int(p.sent)} packets received`,
  );
  return lines.join('\n');
}
