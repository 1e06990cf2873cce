import type { RunRecord } from '../core/record.ts';
import { formatBytes } from '../core/resources.ts';
import type { Table } from './table.ts';

// #27 in the report: each agent host's cost (CPU over the burst, peak RSS) and books — the seed's
// "operational complexity" of an agent per host, in numbers. Absent with the central topology.

const n = (v: number) => Math.round(v).toLocaleString('en-US');

export function pushAgentsTable(r: RunRecord): Table | null {
  const a = r.pushAgents;
  if (!a || a.readings.length === 0) return null;
  const cost = new Map(a.cost.map((c) => [c.name, c]));
  const rows = a.readings.map((x) => {
    const c = cost.get(x.name);
    const dropped = x.orders.droppedQueueFull + x.orders.droppedForwardFailed + x.orders.droppedTooLarge;
    return [
      `${x.name}${x.alive ? '' : ' (died)'}`,
      c?.cpuCores == null ? '–' : c.cpuCores.toFixed(3),
      c?.rssPeakBytes == null ? '–' : formatBytes(c.rssPeakBytes),
      n(x.orders.received),
      n(x.orders.forwarded),
      n(dropped),
      n(x.queuePeakPoints),
      String(x.retries),
    ];
  });
  const cores = a.cost.reduce((s, c) => s + (c.cpuCores ?? 0), 0);
  const rss = a.cost.reduce((s, c) => s + (c.rssPeakBytes ?? 0), 0);
  rows.push(['all agents', cores.toFixed(3), formatBytes(rss), '', '', '', '', '']);
  return {
    head: [
      `agent (flush ${a.flushIntervalMs / 1000} s)`,
      'cores over the burst',
      'RSS peak',
      'orders received',
      'forwarded',
      'dropped',
      'queue peak (points)',
      'retries',
    ],
    rows,
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  };
}
