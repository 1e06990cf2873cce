import type { LossCause } from '../core/record.ts';
import { causesShort } from './causes.ts';
import type { Column, Expectation, FailureMode, Scenario } from './scenario.ts';

// The drill's result grid: rows are failure modes, columns the collection paths. Pure data and pure
// functions (expectation checks, the terminal table), so the report and the tests need no stack.

/** One measured cell: how (and whether) a path noticed the failure, and what it lost. */
export interface Cell {
  column: Column;
  variant: string;
  /** Seconds from the fault (or the event) to detection; null = not detected in the window. */
  detectedAfterS: number | null;
  /** false where "detection" does not apply (a job that simply ends, a measurement-only cell). */
  detectable?: boolean;
  /** The signal that showed it (alert name, `up == 0`, send errors, ...), or why nothing did. */
  signal: string;
  lostCount: number | null;
  lostPct: number | null;
  detail: string;
  /**
   * Set when the fault did not reach this path on this runtime (why, in words): nothing was measured, so the
   * cell reads "not applied on this runtime" — never a detection time or a loss of 0.
   */
  notApplied?: string;
  /** #29 (and #27's push-agent column): the orders lost by cause (they sum to lostCount exactly), where the cell's mode attributes them. */
  causes?: LossCause[];
  /** #28: each view's account (the pair: merged, survivor, the faulted replica), its loss by cause summing exactly. */
  accounts?: ViewAccount[];
}

/** #28: one view of pull's stored orders against the ledgers: what it stored, what it lost and why. */
export interface ViewAccount {
  view: string;
  emitted: number;
  stored: number;
  lost: number;
  lostPct: number | null;
  causes: LossCause[];
}

export const NOT_APPLIED = 'not applied on this runtime';

/** The cell of a path the fault did not reach: no detection, no loss, the reason. */
export function notAppliedCell(column: Column, variant: string, why: string): Cell {
  return {
    column,
    variant,
    detectedAfterS: null,
    signal: `${NOT_APPLIED}: ${why}`,
    lostCount: null,
    lostPct: null,
    detail: `${NOT_APPLIED}: ${why}`,
    notApplied: why,
  };
}

export interface ScenarioResult {
  name: string;
  title: string;
  mode: FailureMode;
  runtime: string;
  startedAt: string;
  durationS: number;
  cells: Cell[];
  /** Mode-specific measured facts (peak ratios, spreads, latencies, ...). */
  metrics: Record<string, number>;
  /** Per-variant time series for the charts: name → [seconds, value][]. */
  series: Record<string, [number, number][]>;
  notes: string[];
  expectations: { text: string; ok: boolean }[];
  error: string | null;
  /** Node drills on swarm (#26): what swarm did (node down, tasks rescheduled or not, when) — its own column. */
  swarm?: string;
}

export interface DrillRecord {
  startedAt: string;
  runtime: string;
  scenarios: ScenarioResult[];
}

const fmtS = (s: number) => `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;

export function describeExpectation(e: Expectation): string {
  const who = `${e.column}${e.variant ? ` (${e.variant})` : ''}`;
  const parts: string[] = [];
  if (e.detectedWithinMs !== undefined) parts.push(`detected within ${fmtS(e.detectedWithinMs / 1000)}`);
  if (e.never) parts.push('never detected');
  if (e.lostPctAtMost !== undefined) parts.push(`loses at most ${e.lostPctAtMost}%`);
  if (e.lostPctAtLeast !== undefined) parts.push(`loses at least ${e.lostPctAtLeast}%`);
  if (e.metricAtLeast) parts.push(`${e.metricAtLeast.name} ≥ ${e.metricAtLeast.value}`);
  return `${who}: ${parts.join(', ')}`;
}

/** Checks every expectation of the scenario against its measured cells and metrics. */
export function checkExpectations(
  s: Scenario,
  cells: readonly Cell[],
  metrics: Readonly<Record<string, number>>,
): { text: string; ok: boolean }[] {
  return s.expect.map((e) => {
    const cell = cells.find(
      (c) => c.column === e.column && (e.variant === undefined || c.variant === e.variant),
    );
    const text = describeExpectation(e);
    if (!cell && !e.metricAtLeast) return { text: `${text} — no such cell measured`, ok: false };
    if (cell?.notApplied !== undefined)
      return { text: `${text} — ${NOT_APPLIED} (${cell.notApplied})`, ok: false };
    const fails: string[] = [];
    if (e.detectedWithinMs !== undefined) {
      if (cell?.detectedAfterS == null) fails.push('not detected');
      else if (cell.detectedAfterS * 1000 > e.detectedWithinMs)
        fails.push(`detected after ${fmtS(cell.detectedAfterS)}`);
    }
    if (e.never && cell?.detectedAfterS != null) fails.push(`detected after ${fmtS(cell.detectedAfterS)}`);
    if (e.lostPctAtMost !== undefined && !(cell?.lostPct != null && cell.lostPct <= e.lostPctAtMost))
      fails.push(`lost ${cell?.lostPct == null ? 'unknown' : `${cell.lostPct.toFixed(2)}%`}`);
    if (e.lostPctAtLeast !== undefined && !(cell?.lostPct != null && cell.lostPct >= e.lostPctAtLeast))
      fails.push(`lost ${cell?.lostPct == null ? 'unknown' : `${cell.lostPct.toFixed(2)}%`}`);
    if (e.metricAtLeast) {
      const v = metrics[e.metricAtLeast.name];
      if (v === undefined || !(v >= e.metricAtLeast.value))
        fails.push(`${e.metricAtLeast.name} = ${v === undefined ? 'unmeasured' : v.toFixed(2)}`);
    }
    return { text: fails.length ? `${text} — got: ${fails.join('; ')}` : text, ok: fails.length === 0 };
  });
}

/** The text of one grid cell: detection, loss and the signal, compact. */
export function cellText(c: Cell): string {
  if (c.notApplied !== undefined) return `${c.variant}: ${NOT_APPLIED} (${c.notApplied})`;
  const det =
    c.detectable === false
      ? 'detection n/a'
      : c.detectedAfterS === null
        ? 'never detected'
        : `detected ${fmtS(c.detectedAfterS)}`;
  const lost =
    c.lostCount === null
      ? 'loss n/a'
      : `lost ${c.lostCount.toLocaleString('en-US')}${c.lostPct === null ? '' : ` (${c.lostPct.toFixed(1)}%)`}`;
  const by = c.causes && causesShort(c.causes) ? ` (by cause: ${causesShort(c.causes)})` : ''; // #29
  return `${c.variant}: ${det}; ${lost}${by}; ${c.signal}`;
}

/** How a cell turned out, in one or two words, and its colour: what a reader of the grid looks at first. */
export interface CellOutcome {
  words: string;
  /** `none`: nothing was measured (the fault was not applied to this path). */
  tone: 'good' | 'warn' | 'bad' | 'none';
}

export function cellOutcome(c: Cell): CellOutcome {
  if (c.notApplied !== undefined) return { words: NOT_APPLIED, tone: 'none' };
  const lost = (c.lostCount ?? 0) > 0;
  if (c.detectable === false)
    return lost ? { words: 'lost data', tone: 'bad' } : { words: 'captured', tone: 'good' };
  if (c.detectedAfterS === null) return { words: 'silent', tone: 'bad' };
  return { words: `detected in ${fmtS(c.detectedAfterS)}`, tone: lost ? 'warn' : 'good' };
}

export const GRID_COLUMNS: readonly Column[] = [
  'pull',
  'push-udp',
  'push-tcp',
  'push-otlp',
  'push-agent', // #27
  'pull-pair', // #28
  'agents', // #29
];

/** rows × columns of cell texts (several variants in one cell are joined with " | "). */
export function gridRows(r: DrillRecord): { title: string; cells: string[] }[] {
  return r.scenarios.map((s) => ({
    title: s.title + (s.error ? ' (FAILED)' : ''),
    cells: GRID_COLUMNS.map((col) => {
      const cs = s.cells.filter((c) => c.column === col);
      return cs.length === 0 ? '—' : cs.map(cellText).join(' | ');
    }),
  }));
}

export function terminalGrid(r: DrillRecord): string {
  const lines: string[] = [];
  gridRows(r).forEach((row, k) => {
    lines.push(row.title);
    GRID_COLUMNS.forEach((col, i) => {
      lines.push(`  ${col.padEnd(9)} ${row.cells[i]}`);
    });
    const swarm = r.scenarios[k]?.swarm;
    if (swarm !== undefined) lines.push(`  ${'swarm'.padEnd(9)} ${swarm}`);
  });
  const checks = r.scenarios.flatMap((s) =>
    s.expectations.map((e) => `${e.ok ? 'ok  ' : 'FAIL'} ${s.name}: ${e.text}`),
  );
  if (checks.length) lines.push('', 'expectations:', ...checks.map((c) => `  ${c}`));
  return lines.join('\n');
}
