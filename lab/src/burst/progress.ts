import { socketDropCounter, udpDropCounter } from '../analysis/series.ts';
import type { Phase, ProbeSample } from '../core/record.ts';
import { compact } from '../report/svg.ts';
import type { ProgressSink } from './run.ts';

// Live progress. On a TTY: one status line redrawn every second (phase, elapsed, fleet, events/s emitted vs
// delivered per path) plus a permanent line per phase. Not a TTY: one quiet line per phase, nothing else.

export interface ProgressOut {
  write(s: string): void;
  isTTY: boolean;
  columns?: number;
}

/** Rate of a counter over the newest samples spanning at least `windowMs` (null when unknown). */
export function windowRate(
  samples: readonly ProbeSample[],
  get: (s: ProbeSample) => number | null | undefined,
  windowMs: number,
): number | null {
  let newest: { t: number; v: number } | null = null;
  for (let i = samples.length - 1; i >= 0; i--) {
    const s = samples[i]!;
    const v = get(s);
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (!newest) {
      newest = { t: s.tMs, v };
      continue;
    }
    if (newest.t - s.tMs >= windowMs)
      return newest.v >= v ? ((newest.v - v) * 1000) / (newest.t - s.tMs) : null;
  }
  return null;
}

const r = (n: number | null) => (n === null ? '–' : compact(n));

export function statusLine(
  recent: readonly ProbeSample[],
  ctx: {
    burstAtMs: number | null;
    scrapeIntervalMs: number;
    pods: number;
    producers: number;
    elapsedMs: number;
  },
): string {
  const s = recent[recent.length - 1];
  if (!s) return '';
  const win = 2000;
  const storedWin = Math.max(2000, ctx.scrapeIntervalMs);
  const pullE = windowRate(recent, (x) => x.ledger?.orders, win);
  const rule = s.pull?.storedOrdersRate;
  const pullD =
    rule !== null && rule !== undefined ? rule : windowRate(recent, (x) => x.pull?.storedOrders, storedWin);
  const pushE = windowRate(recent, (x) => x.ledger?.ordersPushed, win);
  const pushRule = s.pull?.storedPushOrdersRate;
  const pushD =
    pushRule !== null && pushRule !== undefined
      ? pushRule
      : windowRate(recent, (x) => x.collector?.orders, win);
  const drops = windowRate(recent, (x) => socketDropCounter(x) ?? udpDropCounter(x), win);
  const rel =
    ctx.burstAtMs === null
      ? ''
      : ` T${s.tMs >= ctx.burstAtMs ? '+' : '-'}${(Math.abs(s.tMs - ctx.burstAtMs) / 1000).toFixed(0)}s`;
  const p99 = s.pull?.scrapeP99;
  const up =
    s.pull?.targets !== null && s.pull?.targets !== undefined
      ? ` up ${s.pull.targetsUp ?? 0}/${s.pull.targets}`
      : '';
  return (
    `[${(ctx.elapsedMs / 1000).toFixed(0).padStart(4)}s${rel}] ${s.phase.padEnd(13)} ${ctx.pods} pods/${ctx.producers} producers |` +
    ` pull ${r(pullE)}/s emitted ${r(pullD)}/s stored${up}${p99 !== null && p99 !== undefined ? ` p99 ${p99.toFixed(2)}s` : ''} |` +
    ` push ${r(pushE)}/s emitted ${r(pushD)}/s counted | udp drops ${r(drops)}/s`
  );
}

export function createProgress(out: ProgressOut, startMs = Date.now()): ProgressSink {
  const recent: ProbeSample[] = [];
  let producers = 0;
  let drawn = false;
  const clearLine = () => {
    if (out.isTTY && drawn) out.write('\r\x1b[2K');
    drawn = false;
  };
  const permanent = (line: string) => {
    clearLine();
    out.write(`${line}\n`);
  };
  return {
    phase(p: Phase, info) {
      producers = info.producers;
      permanent(
        `[${(info.elapsedMs / 1000).toFixed(1).padStart(6)}s] ${p}${info.detail ? `: ${info.detail}` : ''}${p === 'warmup' ? ` (${info.pods} pods on ${info.producers} producers)` : ''}`,
      );
    },
    sample(s, ctx) {
      recent.push(s);
      if (recent.length > 40) recent.shift();
      if (!out.isTTY) return;
      let line = statusLine(recent, { ...ctx, producers, elapsedMs: Date.now() - startMs });
      const cols = out.columns ?? 160;
      if (line.length > cols - 1) line = `${line.slice(0, cols - 2)}…`;
      out.write(`\r\x1b[2K${line}`);
      drawn = true;
    },
    note(msg: string) {
      permanent(`           ${msg}`);
    },
    close() {
      clearLine();
    },
  };
}
