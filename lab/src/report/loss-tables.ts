import { causeText } from '../analysis/causes.ts';
import { pushLabel } from '../analysis/verdict.ts';
import type { LossCause, PathName, RunRecord } from '../core/record.ts';
import { pullLabel } from '../core/record-agents.ts';
import type { Table } from './table.ts';

// The run@2 tables: where the loss went, false pages, visibility, pull resolution, the limits in force and
// the interrupted banner. Every function takes a run@1 record too (the fields are absent there) and then
// says so or returns null, so one renderer reads both schemas. Pure.

const PATHS: readonly PathName[] = ['pull', 'push'];
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (share: number) => `${(share * 100).toFixed(share > 0 && share < 0.001 ? 2 : 1)}%`;

export function pathLabel(r: RunRecord, p: PathName): string {
  return p === 'pull' ? pullLabel(r.config) : pushLabel(r.config);
}

/**
 * The causes of one path's loss, `unexplained` always listed (last) when anything was lost — even at 0 —
 * so a reader sees that nothing was left unaccounted rather than guessing. null = no cause accounting.
 */
export function pathCauses(r: RunRecord, p: PathName): LossCause[] | null {
  const a = r.paths[p];
  if (a.causes === undefined) return null;
  if (!(a.lost > 0)) return [];
  const listed = a.causes.filter((c) => c.cause !== 'unexplained');
  const unexplained = a.causes.find((c) => c.cause === 'unexplained') ?? {
    cause: 'unexplained',
    orders: 0,
    share: 0,
    countedBy: 'the loss minus every cause above (≥ 0)',
    estimate: false,
  };
  return [...listed, unexplained];
}

/** "Where the loss went" for one path; null when the path lost nothing or the record predates run@2. */
export function causesTable(r: RunRecord, p: PathName): Table | null {
  const causes = pathCauses(r, p);
  if (causes === null || causes.length === 0) return null;
  return {
    head: [`${pathLabel(r, p)}: lost because`, 'orders', 'share of the loss', 'counted by'],
    rows: causes.map((c) => [
      causeText(c.cause),
      `${c.estimate ? '≈ ' : ''}${int(c.orders)}`,
      pct(c.share),
      c.estimate && !c.countedBy.startsWith('estimate') ? `estimate: ${c.countedBy}` : c.countedBy,
    ]),
    align: ['l', 'r', 'r', 'l'],
  };
}

/** One sentence per path that has no cause table: why not. */
export function causesNotes(r: RunRecord): string[] {
  return PATHS.flatMap((p) => {
    const a = r.paths[p];
    if (a.causes === undefined)
      return a.lost > 0
        ? [`${pathLabel(r, p)}: this record (${r.schema}) has no loss-by-cause accounting.`]
        : [];
    if (a.emitted === 0) return [`${pathLabel(r, p)}: nothing was emitted on this path.`];
    if (a.lost <= 0) return [`${pathLabel(r, p)}: nothing was lost.`];
    return [];
  });
}

/** Alerts that fired during the burst; null when the record does not list them (run@1). */
export function falsePagesTable(r: RunRecord): Table | null {
  if (!r.falsePages || r.falsePages.length === 0) return null;
  return {
    head: ['alert', 'path', 'first firing (s after the open)', 'most instances at once'],
    rows: r.falsePages.map((f) => [
      f.alert,
      f.path,
      `${f.firstFiringS >= 0 ? '+' : ''}${f.firstFiringS.toFixed(1)}`,
      int(f.maxFiring),
    ]),
    align: ['l', 'l', 'r', 'r'],
  };
}

export function falsePagesNote(r: RunRecord): string {
  if (r.falsePages === undefined) return `This record (${r.schema}) does not list the alerts that fired.`;
  return r.falsePages.length === 0
    ? 'No alert fired during the burst: the open cost no page.'
    : 'The burst injects no fault, so every alert that fired is a page the open alone cost the on-call.';
}

const delay = (s: number | null) => (s === null ? 'never caught up' : `${s.toFixed(1)} s`);

/** How late each path's data became visible; null when no path has a measurement. */
export function visibilityTable(r: RunRecord): Table | null {
  const rows = PATHS.flatMap((p) => {
    const v = r.paths[p].visibility;
    if (!v) return [];
    const never =
      v.neverCaughtUp > 0 ? `${v.neverCaughtUp} of ${v.seconds} s never caught up` : 'all caught up';
    return [[pathLabel(r, p), delay(v.p50Seconds), delay(v.p90Seconds), never, v.method]];
  });
  if (rows.length === 0) return null;
  return {
    head: ['path', 'delay p50', 'delay p90', 'seconds of the burst', 'measured by'],
    rows,
    align: ['l', 'r', 'r', 'l', 'l'],
  };
}

export function pullResolutionTable(r: RunRecord): Table | null {
  const q = r.pullResolution;
  if (!q) return null;
  const opt = (n: number | null) => (n === null ? '–' : String(n));
  return {
    head: ['pull resolution in the burst window', 'scrapes stored'],
    rows: [
      ['expected per pod (window ÷ scrape interval)', String(q.expectedPerPod)],
      ['median per pod', opt(q.medianPerPod)],
      ['fewest for one pod', opt(q.minPerPod)],
      ['pods with no successful scrape stored', opt(q.podsWithNone)],
    ],
    align: ['l', 'r'],
  };
}

/** Environment rows: per path, series stored and the limit in force (and who set it), then how each fails. */
export function budgetRows(r: RunRecord): string[][] {
  const b = r.budgets;
  if (!b) return [];
  const rows = PATHS.map((p) => {
    const x = b[p];
    const stored = x.seriesStored === null ? 'unknown' : int(x.seriesStored);
    const limit = x.seriesLimit === null ? 'no limit' : `limit ${int(x.seriesLimit)}`;
    return [`${p}: series stored / limit in force`, `${stored} / ${limit} (set by ${x.setBy})`];
  });
  rows.push([
    'how the two limits fail',
    `differently — push: ${b.push.failsBy}; pull: ${b.pull.failsBy}. A limit is configuration, not the path failing.`,
  ]);
  return rows;
}

/** The phase an interrupted run was in: the last phase mark (else the last probe's phase). */
export function interruptedAt(r: RunRecord): string {
  return r.phases[r.phases.length - 1]?.phase ?? r.series[r.series.length - 1]?.phase ?? 'start';
}

export function interruptedBanner(r: RunRecord): string | null {
  return r.interrupted ? `this run was interrupted at ${interruptedAt(r)}; the numbers are partial` : null;
}
