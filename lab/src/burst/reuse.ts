import type { CollectorSnapshot, ProbeSample, StoredSeries } from '../core/record.ts';

// A run on a stack an earlier run left up (capacity trials, #25). Its measures must read only what this run
// produced, and three things would otherwise carry over:
// - the collector's counters are cumulative over the stack's life: its reading before this run's fleet
//   started is the baseline, subtracted from every reading of this run (the probe's, the final count);
// - Prometheus holds earlier runs' samples under the same series (the pods keep their ids; a new producer's
//   counters start at 0): every query window of this run starts at the floor — the instant this run began,
//   after the earlier fleet was stopped — never before it;
// - the recording rule pushpull:pull_orders:stored sums last_over_time(orders_total[1m]): a pod of an earlier,
//   larger fleet keeps its last value in that sum for up to a minute after its last scrape. Those series'
//   last samples before the floor are read once, and their contribution is taken off at every instant.
// Pure: the run applies it (run.ts) to what the phases measured, before the record is built.

export interface ReuseState {
  /** When this run began on the shared stack (epoch ms): every earlier sample is an earlier run's. */
  floorMs: number;
  /** The collector's counters before this run's fleet started; null when it could not be read. */
  collectorBaseline: CollectorSnapshot | null;
  /** orders_total series stored before the floor: pod, last sample time (ms) and value. */
  lingering: LingeringSeries[];
}

export interface LingeringSeries {
  pod: string;
  tMs: number;
  value: number;
}

/** The recording rule's lookback: pushpull:pull_orders:stored = sum(last_over_time(orders_total[1m])). */
export const STORED_RULE_LOOKBACK_MS = 60_000;

/**
 * A query window (whole seconds) from `fromMs` (plus `slackS` before it) to `nowMs`, never reaching back
 * before `floorMs` (null: a fresh stack, no floor).
 */
export function windowSeconds(nowMs: number, fromMs: number, slackS: number, floorMs: number | null): number {
  const w = Math.ceil((nowMs - fromMs) / 1000) + slackS;
  if (floorMs === null) return w;
  return Math.max(1, Math.min(w, Math.floor((nowMs - floorMs) / 1000)));
}

/** The collector's cumulative counters (summed over reasons where they have them). */
const COUNTERS = [
  'orders',
  'packets',
  'packetsUdp',
  'lines',
  'parseErrors',
  'seriesRejected',
  'otlpAccepted',
  'otlpThrottled',
  'otherDrops',
  'socketDrops',
  'kernelRcvbufErrors',
  'kernelInErrors',
  'kernelInDatagrams',
] as const satisfies readonly (keyof CollectorSnapshot)[];

const minus = (v: number | null | undefined, b: number | null | undefined) =>
  v === null || v === undefined ? (v ?? null) : Math.max(0, v - (b ?? 0));

function minusByReason(
  v: Record<string, number> | null | undefined,
  b: Record<string, number> | null | undefined,
): Record<string, number> | null {
  if (!v) return v ?? null;
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) out[k] = Math.max(0, x - (b?.[k] ?? 0));
  return out;
}

/** A collector reading less the baseline: counters as this run's increase; gauges as read. */
export function rebaseCollector(snap: CollectorSnapshot, base: CollectorSnapshot | null): CollectorSnapshot {
  if (!base) return snap;
  const out: CollectorSnapshot = { ...snap };
  for (const k of COUNTERS)
    if (snap[k] !== undefined) (out as unknown as Record<string, number | null>)[k] = minus(snap[k], base[k]);
  if (snap.refusedByReason !== undefined)
    out.refusedByReason = minusByReason(snap.refusedByReason, base.refusedByReason);
  if (snap.otlpRefusedByReason !== undefined)
    out.otlpRefusedByReason = minusByReason(snap.otlpRefusedByReason, base.otlpRefusedByReason);
  return out;
}

/**
 * What earlier runs' pods add to the pull store's rule at `uMs`: every lingering series whose pod is not in
 * this run and whose last sample is within the rule's lookback. A pod of this run replaces its old value
 * at its first scrape: from the open on (warm-up waits until every pod was scraped twice), never before it
 * — so before the open the stored total may still carry such a pod's earlier value.
 */
export function lingeringAt(
  lingering: readonly LingeringSeries[],
  currentPods: ReadonlySet<string>,
  uMs: number,
): number {
  let sum = 0;
  for (const s of lingering)
    if (!currentPods.has(s.pod) && s.tMs <= uMs && uMs - s.tMs <= STORED_RULE_LOOKBACK_MS) sum += s.value;
  return sum;
}

/** The last sample before the floor of each series of a range query's matrix (values as Prometheus sends them). */
export function lastSamples(
  matrix: readonly { metric: Record<string, string>; values: readonly [number, string][] }[],
  floorMs: number,
): LingeringSeries[] {
  const out: LingeringSeries[] = [];
  for (const s of matrix) {
    let last: [number, string] | null = null;
    for (const v of s.values) if (v[0] * 1000 < floorMs && (last === null || v[0] > last[0])) last = v;
    const value = last ? Number(last[1]) : Number.NaN;
    if (last && Number.isFinite(value)) out.push({ pod: s.metric.pod ?? '', tMs: last[0] * 1000, value });
  }
  return out;
}

/** What a run measured that carries over on a shared stack (the parts of the context reuse rewrites). */
export interface Rebasable {
  samples: ProbeSample[];
  pushDelivered: number | null;
  collectorUdpPackets: number | null;
  collectorRefused: Record<string, number> | null;
  otlpRefused: Record<string, number> | null;
  stored: Partial<Record<'pull' | 'push', StoredSeries>>;
}

/**
 * Rewrites what a run on a shared stack measured into what this run produced (in place): the collector's
 * readings less its baseline, push's stored total less the baseline's orders (the collector keeps exposing
 * earlier runs' series, unchanged), pull's stored total less what earlier pods still add to the rule.
 */
export function rebase(m: Rebasable, r: ReuseState, currentPods: ReadonlySet<string>): void {
  const base = r.collectorBaseline;
  const baseOrders = base?.orders ?? 0;
  const pullExtra = (tMs: number) => lingeringAt(r.lingering, currentPods, tMs);
  for (const s of m.samples) {
    if (s.collector) s.collector = rebaseCollector(s.collector, base);
    if (s.pull) {
      const p = { ...s.pull };
      if (p.storedOrders !== null) p.storedOrders = Math.max(0, p.storedOrders - pullExtra(s.tMs));
      if (p.storedPushOrders !== null && p.storedPushOrders !== undefined)
        p.storedPushOrders = Math.max(0, p.storedPushOrders - baseOrders);
      s.pull = p;
    }
  }
  if (base) {
    m.pushDelivered = minus(m.pushDelivered, base.orders);
    m.collectorUdpPackets = minus(m.collectorUdpPackets, base.packetsUdp);
    m.collectorRefused = minusByReason(m.collectorRefused, base.refusedByReason);
    m.otlpRefused = minusByReason(m.otlpRefused, base.otlpRefusedByReason);
  }
  const shift = (st: StoredSeries | undefined, by: (t: number) => number) =>
    st ? { ...st, points: st.points.map(([t, v]) => [t, Math.max(0, v - by(t))] as [number, number]) } : st;
  if (m.stored.push && baseOrders > 0) m.stored.push = shift(m.stored.push, () => baseOrders);
  if (m.stored.pull && r.lingering.length > 0) m.stored.pull = shift(m.stored.pull, pullExtra);
}
