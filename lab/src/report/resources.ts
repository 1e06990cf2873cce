import type { RunRecord } from '../core/record.ts';
import { formatBytes, RESOURCE_COMPONENTS } from '../core/resources.ts';
import type { Table } from './table.ts';

// run@3 in the report: each component's budget, who enforced it and what it used against it, and the
// generator against the profile. Absent in older records (then nothing is shown).

const num = (x: number | null, d = 2) => (x === null ? '–' : x.toFixed(d));

export function resourcesTable(r: RunRecord): Table | null {
  const res = r.resources;
  if (!res) return null;
  // #24: push's own store runs only with --store per-path; a shared run (and older records) has none to show.
  const runs = (c: string) => c !== 'prometheus-push' || r.config.store === 'per-path';
  const rows = RESOURCE_COMPONENTS.filter((c) => res[c] && runs(c)).map((c) => {
    const x = res[c]!;
    const budget = `${x.cpus === null ? 'no quota' : `${x.cpus} cores`}${x.cpuset === null ? '' : ` on ${x.cpuset}`}, ${x.memory === null ? 'no memory limit' : formatBytes(x.memory)}`;
    return [
      c,
      budget,
      `${x.enforcedBy}${x.note ? ` (${x.note})` : ''}`,
      `${num(x.cpuUsedP50)} / ${num(x.cpuUsedP99)}`,
      x.throttledShare === null ? '–' : `${Math.round(x.throttledShare * 100)}%`,
      x.memPeakBytes === null ? '–' : formatBytes(x.memPeakBytes),
      x.oomKills === null ? '–' : String(x.oomKills),
    ];
  });
  return {
    head: [
      'component',
      'budget',
      'enforced by',
      'cores used p50 / p99',
      'throttled',
      'memory peak',
      'OOM kills',
    ],
    rows,
    align: ['l', 'l', 'l', 'r', 'r', 'r', 'r'],
  };
}

/** One sentence on the generator against the profile; null when not measured. */
export function shortfallNote(r: RunRecord): string | null {
  const sf = r.generator?.shortfall;
  if (!sf) return null;
  return `Generator: the producers generated ${sf.generated.toLocaleString('en-US')} of the ${sf.scheduled.toLocaleString('en-US')} orders the profile scheduled for this fleet over the burst (${(sf.share * 100).toFixed(1)}% behind${sf.share > 0.05 ? ': the answer is for a lighter burst than the profile' : ''}).`;
}
