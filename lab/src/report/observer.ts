import type { RunRecord } from '../core/record.ts';
import type { Table } from './table.ts';

// #24: what the observer saw, as tables shared by report.md and report.html (pure: record → rows).

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** Coverage per probe source over the burst, the sparse ones marked; null for records without it. */
export function coverageTable(r: RunRecord): Table | null {
  const o = r.observer;
  if (!o) return null;
  const rows = Object.entries(o.coverage).map(([source, c]) => [
    source,
    pct(c),
    o.sparse.includes(source) ? 'SPARSE: claims drawn from it are marked' : '',
  ]);
  return {
    head: [`probe source (${o.periodMs / 1000} s period, ${o.seconds} burst seconds)`, 'seconds read', ''],
    rows,
    align: ['l', 'r', 'l'],
  };
}

/** Each path's store, the visibility resolution it kept, and its missed rule evaluations. */
export function storesTable(r: RunRecord): Table | null {
  const v = r.observer?.visibility;
  if (!v) return null;
  const rows = (['pull', 'push'] as const).map((p) => [
    p,
    v[p].store,
    v[p].resolutionSeconds === null ? '–' : `${v[p].resolutionSeconds} s`,
    String(v[p].ruleEvaluationsMissed),
    v[p].behind ?? 'kept ≤ 5 s',
  ]);
  return {
    head: [
      `path (--store ${r.config.store ?? 'shared'})`,
      'store',
      'visibility resolution',
      'rule evaluations missed',
      '',
    ],
    rows,
    align: ['l', 'l', 'r', 'r', 'l'],
  };
}
