import type { RecordOpen, RecordOpenProducer } from '../core/record-nodes.ts';

// The open across clocks, pure: each producer's clock offset from NTP-style exchanges with its control API,
// the instant each producer is told (T0 shifted by its offset when compensating), and the spread of the
// instants at which they actually opened, with the warning above 50 ms.

export const OPEN_SPREAD_WARN_MS = 50;

/** One exchange: the lab's clock before and after, the producer's clock (`atMs`) read in between. */
export interface ClockExchange {
  sentMs: number;
  remoteMs: number;
  receivedMs: number;
}

export interface MeasuredOffset {
  /** Producer clock − lab clock, ms (positive: the producer is ahead). */
  offsetMs: number;
  /** Half the round trip of the exchange used: the bound on the offset's error. */
  errorMs: number;
}

/**
 * The offset from the exchange with the smallest round trip (the remote clock was read somewhere inside it,
 * so the error is at most half of it). Exchanges with a negative or non-finite round trip are skipped; null
 * when none is left.
 */
export function bestOffset(exchanges: readonly ClockExchange[]): MeasuredOffset | null {
  let best: MeasuredOffset | null = null;
  let bestRtt = Number.POSITIVE_INFINITY;
  for (const x of exchanges) {
    const rtt = x.receivedMs - x.sentMs;
    if (!(rtt >= 0) || !Number.isFinite(x.remoteMs) || rtt >= bestRtt) continue;
    bestRtt = rtt;
    best = { offsetMs: x.remoteMs - (x.sentMs + x.receivedMs) / 2, errorMs: rtt / 2 };
  }
  return best;
}

/**
 * The instant each producer is told, in its own clock: T0 + its offset (rounded to 1 ms) when compensating,
 * T0 otherwise or when its offset was not measured.
 */
export function startInstants(
  t0: number,
  offsets: ReadonlyMap<string, MeasuredOffset | null>,
  compensate: boolean,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, o] of offsets) out.set(name, compensate && o ? t0 + Math.round(o.offsetMs) : t0);
  return out;
}

export interface OpenObservation {
  name: string;
  node: string | null;
  before: MeasuredOffset | null;
  /** Offset measured again after the open (converts its open reading into the lab's clock). */
  after: MeasuredOffset | null;
  startAtMs: number;
  /** Its own clock at its first tick at or after the open (null: not reported). */
  openedOwnMs: number | null;
  testClockSkewMs?: number;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/** run.open from the observations: actual instants in the lab's clock, their spread, the warning. */
export function openRecord(t0: number, compensation: boolean, obs: readonly OpenObservation[]): RecordOpen {
  const producers: RecordOpenProducer[] = obs.map((o) => {
    const conv = o.after ?? o.before;
    return {
      name: o.name,
      node: o.node,
      clockOffsetMs: o.before ? r1(o.before.offsetMs) : null,
      errorMs: o.before ? r1(o.before.errorMs) : null,
      startAtMs: o.startAtMs,
      openedAtMs: o.openedOwnMs !== null && conv ? r1(o.openedOwnMs - conv.offsetMs) : null,
      dueAtMs: conv ? r1(o.startAtMs - conv.offsetMs) : null,
      errorAfterMs: conv ? r1(conv.errorMs) : null,
      ...(o.testClockSkewMs ? { testClockSkewMs: o.testClockSkewMs } : {}),
    };
  });
  const spreadMs = spreadOf(producers.map((p) => p.openedAtMs));
  const clockSpreadMs = spreadOf(producers.map((p) => p.dueAtMs));
  const late = obs.flatMap((o) => (o.openedOwnMs === null ? [] : [o.openedOwnMs - o.startAtMs]));
  const maxLateMs = late.length > 0 ? r1(Math.max(...late)) : null;
  return {
    scheduledAtMs: t0,
    compensation,
    spreadMs,
    clockSpreadMs,
    maxLateMs,
    warnAboveMs: OPEN_SPREAD_WARN_MS,
    warning: spreadWarning(producers, { spreadMs, clockSpreadMs, maxLateMs }, compensation),
    producers,
  };
}

function spreadOf(xs: readonly (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length >= 2 ? r1(Math.max(...v) - Math.min(...v)) : null;
}

/** The warning when the actual opens spread over more than 50 ms (or could not be measured). */
export function spreadWarning(
  producers: readonly RecordOpenProducer[],
  s: { spreadMs: number | null; clockSpreadMs: number | null; maxLateMs: number | null },
  compensation: boolean,
): string | null {
  const { spreadMs } = s;
  const missing = producers.filter((p) => p.openedAtMs === null).map((p) => p.name);
  const unmeasured = missing.length > 0 ? ` (open not measured on ${missing.join(', ')})` : '';
  if (spreadMs === null || spreadMs <= OPEN_SPREAD_WARN_MS)
    return unmeasured && producers.length > 1
      ? `the open's spread across producers is unknown${unmeasured}`
      : null;
  const opened = producers.filter((p) => p.openedAtMs !== null);
  const first = opened.reduce((a, p) => (p.openedAtMs! < a.openedAtMs! ? p : a));
  const last = opened.reduce((a, p) => (p.openedAtMs! > a.openedAtMs! ? p : a));
  const clockPart = s.clockSpreadMs ?? 0;
  const fix =
    clockPart <= OPEN_SPREAD_WARN_MS
      ? `the clocks agree (their part ${s.clockSpreadMs} ms): producers opened late, up to ${s.maxLateMs} ms after their instant (a busy node)`
      : compensation
        ? `the clocks' part is ${clockPart} ms: the offsets moved between measurement and open`
        : `the clocks' part is ${clockPart} ms and clock compensation is off (--clock-compensation off): turn it on, or sync the clocks (chrony/NTP)`;
  return (
    `the open spread over ${spreadMs} ms across producers (> ${OPEN_SPREAD_WARN_MS} ms): ` +
    `${first.name} opened first, ${last.name} last (clock offsets ${fmt(first.clockOffsetMs)} and ` +
    `${fmt(last.clockOffsetMs)} ms); ${fix}${unmeasured}`
  );
}

const fmt = (x: number | null) => (x === null ? 'unmeasured' : `${x > 0 ? '+' : ''}${x}`);
