import type { RunRecord } from '../core/record.ts';
import { formatBytes } from '../core/resources.ts';
import type { Table } from './table.ts';

// #29 in the report: every pull agent beside the central store — its remote-write counters at the cut-off and
// its cost over the burst. Absent unless the run had agents.

const int = (x: number | null | undefined) =>
  x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US');
const cores = (x: number | null) => (x === null ? '–' : x.toFixed(3));
const mem = (x: number | null) => (x === null ? '–' : formatBytes(x));

export function agentsTable(r: RunRecord): Table | null {
  const pa = r.pullAgents;
  if (!pa) return null;
  const rows = pa.agents.map((a) => {
    const f = a.final;
    const lag =
      f && f.highestTs !== null && f.highestSentTs !== null
        ? `${(f.highestTs - f.highestSentTs).toFixed(1)} s`
        : '–';
    return [
      `${a.name} (${a.host}, ${a.pods} pods)`,
      int(f?.samplesIn),
      int(f?.samplesSent),
      `${int(f?.samplesPending)} / ${lag}`,
      `${int(f?.samplesRetried)} / ${int(f?.samplesFailed)} / ${int(f?.samplesDropped)}`,
      cores(a.cpuCores),
      mem(a.rssMaxBytes),
    ];
  });
  const rc = pa.central.receiver;
  rows.push([
    `${pa.central.name} (central store)`,
    '',
    rc ? `${int(rc.ok)} writes ok` : '–',
    '',
    rc ? `429: ${int(rc.throttled)}, 5xx: ${int(rc.errors)}, 4xx: ${int(rc.refused)}` : '–',
    cores(pa.central.cpuCores),
    mem(pa.central.rssMaxBytes),
  ]);
  return {
    head: [
      'pull agent',
      'samples in (WAL)',
      'sent',
      'pending / behind at the end',
      'retried / failed / dropped',
      'cores (burst)',
      'RSS peak',
    ],
    rows,
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
  };
}
