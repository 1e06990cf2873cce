import { socketDropCounter, udpDropCounter } from '../analysis/series.ts';
import type { Phase, ProbeSample } from '../core/record.ts';
import { compact } from '../report/svg.ts';
import { estimateRemaining, formatEta, newSegment, type RunPlan } from './eta.ts';
import type { ProgressSink } from './run.ts';

// Live progress. On a TTY: one status line redrawn every second (phase, elapsed, ETA, fleet, events/s
// emitted vs delivered per path) plus a permanent line per phase. Not a TTY (CI, a pipe, a log file): a
// permanent line per phase and, between them, one status line every ~10 s, so a log never goes quiet for
// minutes while a run is alive.

export interface ProgressOut {
  write(s: string): void;
  isTTY: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** The run's planned phases, for the ETA (none: no ETA shown). */
  plan?: RunPlan;
  /** Epoch ms (tests pass a fake clock). */
  now?: () => number;
  /** Not a TTY: at most one status line per this many ms (default 10 s). */
  everyMs?: number;
  /** Call tick() every second from a timer (default true; tests drive tick() themselves). */
  timer?: boolean;
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
    eta?: string;
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
  const pushD = windowRate(recent, (x) => x.collector?.orders, win);
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
    `[${(ctx.elapsedMs / 1000).toFixed(0).padStart(4)}s${rel}] ${s.phase.padEnd(13)}${ctx.eta ? ` ${ctx.eta} |` : ''} ${ctx.pods} pods/${ctx.producers} producers |` +
    ` pull ${r(pullE)}/s emitted ${r(pullD)}/s stored${up}${p99 !== null && p99 !== undefined ? ` p99 ${p99.toFixed(2)}s` : ''} |` +
    ` push ${r(pushE)}/s emitted ${r(pushD)}/s counted | udp drops ${r(drops)}/s`
  );
}

/** The live progress sink; tick() writes the periodic line when one is due (a timer calls it every second). */
export function createProgress(
  out: ProgressOut,
  opts: ProgressOptions = {},
): ProgressSink & { tick(): void } {
  const now = opts.now ?? Date.now;
  const everyMs = opts.everyMs ?? 10_000;
  const startMs = now();
  const recent: ProbeSample[] = [];
  let producers = 0;
  let pods = 0;
  let phase: Phase | null = null;
  let segmentStartMs = startMs;
  let burstAtMs: number | null = null;
  let scrapeIntervalMs = opts.plan?.scrapeIntervalMs ?? 15_000;
  let lastLineMs = startMs;
  let drawn = false;
  const eta = (): string | undefined => {
    if (!opts.plan || phase === null) return undefined;
    const e = estimateRemaining(opts.plan, phase, segmentStartMs, now());
    return e ? formatEta(e) : undefined;
  };
  const clearLine = () => {
    if (out.isTTY && drawn) out.write('\r\x1b[2K');
    drawn = false;
  };
  const permanent = (line: string) => {
    clearLine();
    out.write(`${line}\n`);
    lastLineMs = now();
  };
  const elapsed = (t: number) => `[${((t - startMs) / 1000).toFixed(1).padStart(6)}s]`;
  /** The status line: with probe numbers once there are samples, else phase, elapsed and ETA alone. */
  const status = (): string => {
    const t = now();
    const e = eta();
    const line = statusLine(recent, {
      burstAtMs,
      scrapeIntervalMs,
      pods,
      producers,
      elapsedMs: t - startMs,
      ...(e ? { eta: e } : {}),
    });
    return line || `${elapsed(t)} ${phase ?? 'start'}${e ? ` ${e}` : ''}`;
  };
  const tick = () => {
    if (out.isTTY || phase === null || phase === 'done') return;
    if (now() - lastLineMs >= everyMs) permanent(status());
  };
  const timer = opts.timer === false ? null : setInterval(tick, 1000);
  timer?.unref();
  return {
    phase(p: Phase, info) {
      const t = now();
      if (p === 'start' || newSegment(phase, p)) segmentStartMs = t;
      if (p === 'start') recent.length = 0; // a fresh run (--repeat): its own samples and clock
      phase = p;
      producers = info.producers;
      pods = info.pods;
      const e = eta();
      permanent(
        `[${(info.elapsedMs / 1000).toFixed(1).padStart(6)}s] ${p}${info.detail ? `: ${info.detail}` : ''}${p === 'warmup' ? ` (${info.pods} pods on ${info.producers} producers)` : ''}${e ? ` — ${e}` : ''}`,
      );
    },
    sample(s, ctx) {
      recent.push(s);
      if (recent.length > 40) recent.shift();
      burstAtMs = ctx.burstAtMs;
      scrapeIntervalMs = ctx.scrapeIntervalMs;
      pods = ctx.pods;
      if (!out.isTTY) {
        tick();
        return;
      }
      let line = status();
      const cols = out.columns ?? 160;
      if (line.length > cols - 1) line = `${line.slice(0, cols - 2)}…`;
      out.write(`\r\x1b[2K${line}`);
      drawn = true;
    },
    note(msg: string) {
      permanent(`           ${msg}`);
    },
    close() {
      if (timer) clearInterval(timer);
      clearLine();
    },
    tick,
  };
}
