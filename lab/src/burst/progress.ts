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
  const pushRule = s.pull?.storedPushOrdersRate;
  const pushD =
    pushRule !== null && pushRule !== undefined
      ? pushRule
      : windowRate(recent, (x) => x.collector?.orders, win);
  // OTLP has no datagrams to drop: its push trouble is exports failing after the exporter's retries.
  const otlp = recent.some((x) => (x.ledger?.otlpExports ?? 0) > 0);
  const drops = otlp
    ? windowRate(recent, (x) => x.ledger?.otlpExportsFailed, win)
    : windowRate(recent, (x) => socketDropCounter(x) ?? udpDropCounter(x), win);
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
    ` push ${r(pushE)}/s emitted ${r(pushD)}/s counted | ${otlp ? 'failed exports' : 'udp drops'} ${r(drops)}/s`
  );
}

function phaseLine(p: Phase, info: Parameters<ProgressSink['phase']>[1], eta: string | undefined): string {
  const fleet = p === 'warmup' ? ` (${info.pods} pods on ${info.producers} producers)` : '';
  return `[${(info.elapsedMs / 1000).toFixed(1).padStart(6)}s] ${p}${info.detail ? `: ${info.detail}` : ''}${fleet}${eta ? ` — ${eta}` : ''}`;
}

/** The live progress sink; tick() writes the periodic line when one is due (a timer calls it every second). */
class Progress implements ProgressSink {
  private readonly now: () => number;
  private readonly startMs: number;
  private readonly recent: ProbeSample[] = [];
  private producers = 0;
  private pods = 0;
  private current: Phase | null = null;
  private segmentStartMs: number;
  private burstAtMs: number | null = null;
  private scrapeIntervalMs: number;
  private lastLineMs: number;
  private drawn = false;
  private readonly timer: NodeJS.Timeout | null;

  constructor(
    private readonly out: ProgressOut,
    private readonly opts: ProgressOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.startMs = this.now();
    this.segmentStartMs = this.startMs;
    this.lastLineMs = this.startMs;
    this.scrapeIntervalMs = opts.plan?.scrapeIntervalMs ?? 15_000;
    this.timer = opts.timer === false ? null : setInterval(() => this.tick(), 1000);
    this.timer?.unref();
  }

  private eta(): string | undefined {
    if (!this.opts.plan || this.current === null) return undefined;
    const e = estimateRemaining(this.opts.plan, this.current, this.segmentStartMs, this.now());
    return e ? formatEta(e) : undefined;
  }

  private clearLine(): void {
    if (this.out.isTTY && this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }

  private permanent(line: string): void {
    this.clearLine();
    this.out.write(`${line}\n`);
    this.lastLineMs = this.now();
  }

  /** The status line: with probe numbers once there are samples, else phase, elapsed and ETA alone. */
  private status(): string {
    const elapsedMs = this.now() - this.startMs;
    const eta = this.eta();
    const line = statusLine(this.recent, {
      burstAtMs: this.burstAtMs,
      scrapeIntervalMs: this.scrapeIntervalMs,
      pods: this.pods,
      producers: this.producers,
      elapsedMs,
      ...(eta ? { eta } : {}),
    });
    return (
      line ||
      `[${(elapsedMs / 1000).toFixed(1).padStart(6)}s] ${this.current ?? 'start'}${eta ? ` ${eta}` : ''}`
    );
  }

  /** Not a TTY: the status line as a permanent line once ~10 s passed without any line. */
  tick(): void {
    if (this.out.isTTY || this.current === null || this.current === 'done') return;
    if (this.now() - this.lastLineMs >= (this.opts.everyMs ?? 10_000)) this.permanent(this.status());
  }

  phase(p: Phase, info: Parameters<ProgressSink['phase']>[1]): void {
    if (p === 'start' || newSegment(this.current, p)) this.segmentStartMs = this.now();
    if (p === 'start') this.recent.length = 0; // a fresh run (--repeat): its own samples
    this.current = p;
    this.producers = info.producers;
    this.pods = info.pods;
    this.permanent(phaseLine(p, info, this.eta()));
  }

  sample(s: ProbeSample, ctx: Parameters<ProgressSink['sample']>[1]): void {
    this.recent.push(s);
    if (this.recent.length > 40) this.recent.shift();
    this.burstAtMs = ctx.burstAtMs;
    this.scrapeIntervalMs = ctx.scrapeIntervalMs;
    this.pods = ctx.pods;
    if (!this.out.isTTY) {
      this.tick();
      return;
    }
    let line = this.status();
    const cols = this.out.columns ?? 160;
    if (line.length > cols - 1) line = `${line.slice(0, cols - 2)}…`;
    this.out.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }

  note(msg: string): void {
    this.permanent(`           ${msg}`);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.clearLine();
  }
}

export function createProgress(
  out: ProgressOut,
  opts: ProgressOptions = {},
): ProgressSink & { tick(): void } {
  return new Progress(out, opts);
}
