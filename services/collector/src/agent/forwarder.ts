import type { Clock } from '@pushpull/common';
import { decodeResponse } from '../parse/otlp.ts';
import type { Batch } from './batches.ts';
import type { AgentBooks } from './books.ts';

// Agent mode's forwarder: a bounded FIFO of request bodies sent one at a time to the central collector's
// OTLP/HTTP receiver. Retryable failures (a connection error, a timeout, 429/502/503/504) are retried with
// exponential back-off — or after the receiver's Retry-After when it sends one — until the batch has been
// tried for --forward-max-elapsed; then it is dropped (forward_failed), as is a batch the receiver refuses
// outright (another 4xx). A 2xx answer's partial_success is read: its rejected points are counted as refused.
// A flush that does not fit in --forward-queue-points is dropped whole (queue_full).

export interface ForwarderOptions {
  url: string;
  timeoutMs: number;
  maxElapsedMs: number;
  queuePoints: number;
  /** First back-off, doubled per retry up to maxBackoffMs (±20% jitter). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  clock: Clock;
  /** [0, 1): the jitter's randomness (a parameter, so tests are deterministic). */
  random?: () => number;
}

interface Queued extends Batch {
  firstTryMs: number | null;
  attempts: number;
}

/** What one attempt came to. */
export type Attempt =
  | { kind: 'ok'; rejected: number }
  | { kind: 'retry'; outcome: string; retryAfterMs: number | null }
  | { kind: 'fail'; outcome: string };

const RETRYABLE = new Set([429, 502, 503, 504]);

/** Retry-After as milliseconds: delay-seconds or an HTTP-date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | null {
  if (header === null || header.trim() === '') return null;
  const v = header.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - nowMs) : null;
}

/** One POST of a body; never throws. */
export async function postOnce(
  url: string,
  body: Buffer,
  timeoutMs: number,
  nowMs: number,
): Promise<Attempt> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const name = (e as Error).name;
    return { kind: 'retry', outcome: name === 'TimeoutError' ? 'timeout' : 'error', retryAfterMs: null };
  }
  const outcome = String(res.status);
  let buf: Buffer;
  try {
    buf = Buffer.from(await res.arrayBuffer());
  } catch {
    return { kind: 'retry', outcome: 'error', retryAfterMs: null };
  }
  if (res.status >= 200 && res.status < 300) {
    let rejected = 0;
    try {
      if (buf.length > 0) rejected = Number(decodeResponse(buf).partialSuccess?.rejectedDataPoints ?? 0) || 0;
    } catch {
      // An unreadable success body rejects nothing we can count.
    }
    return { kind: 'ok', rejected };
  }
  if (RETRYABLE.has(res.status))
    return { kind: 'retry', outcome, retryAfterMs: retryAfterMs(res.headers.get('retry-after'), nowMs) };
  return { kind: 'fail', outcome };
}

export class Forwarder {
  private readonly queue: Queued[] = [];
  private points = 0;
  private tally = 0;
  private pumping: Promise<void> | null = null;
  private closed = false;
  private wakeSleep: (() => void) | null = null;
  private readonly random: () => number;

  constructor(
    private readonly opts: ForwarderOptions,
    private readonly books: AgentBooks,
    private readonly post: (body: Buffer, nowMs: number) => Promise<Attempt> = (b, now) =>
      postOnce(opts.url, b, opts.timeoutMs, now),
  ) {
    this.random = opts.random ?? Math.random;
  }

  get queuePoints(): number {
    return this.points;
  }
  get queueBatches(): number {
    return this.queue.length;
  }
  get queueTally(): number {
    return this.tally;
  }

  /** Queues a flush's batches, or drops them whole (queue_full) when they do not fit. */
  enqueue(batches: readonly Batch[]): boolean {
    const pts = batches.reduce((a, b) => a + b.points, 0);
    if (this.closed || this.points + pts > this.opts.queuePoints) {
      for (const b of batches) this.books.drop('queue_full', b.points, b.tally);
      return false;
    }
    for (const b of batches) {
      this.queue.push({ ...b, firstTryMs: null, attempts: 0 });
      this.points += b.points;
      this.tally += b.tally;
    }
    this.pumping ??= this.pump().finally(() => {
      this.pumping = null;
    });
    return true;
  }

  /** Waits until the queue is empty or `ms` passed (a clean stop forwards what it holds). */
  async drain(ms: number): Promise<void> {
    const until = this.opts.clock.now() + ms;
    // Bounded: at most ms / 20 turns.
    while (this.queue.length > 0 && this.opts.clock.now() < until) await sleep(20);
  }

  /** Stops sending; what is still queued stays counted as queued. */
  close(): void {
    this.closed = true;
    this.wakeSleep?.();
  }

  private async pump(): Promise<void> {
    while (!this.closed && this.queue.length > 0) {
      const head = this.queue[0]!;
      const now = this.opts.clock.now();
      head.firstTryMs ??= now;
      if (head.attempts > 0) this.books.retries++;
      head.attempts++;
      const r = await this.post(head.body, now);
      if (r.kind === 'ok') {
        this.books.request('2xx');
        const rejected = Math.min(head.points, Math.max(0, r.rejected));
        this.books.pointsRefused += rejected;
        this.books.pointsForwarded += head.points - rejected;
        this.books.tallyForwarded += head.tally;
        this.shift();
        continue;
      }
      this.books.request(r.outcome);
      if (r.kind === 'fail') {
        this.books.drop('forward_failed', head.points, head.tally);
        this.shift();
        continue;
      }
      await this.retryOrDrop(head, r.retryAfterMs);
    }
  }

  /** Waits the back-off (or Retry-After) when the batch may still be retried; else drops it. */
  private async retryOrDrop(head: Queued, retryAfter: number | null): Promise<void> {
    const initial = this.opts.initialBackoffMs ?? 200;
    const max = this.opts.maxBackoffMs ?? 5000;
    const backoff = Math.min(max, initial * 2 ** (head.attempts - 1)) * (0.8 + 0.4 * this.random());
    const wait = retryAfter ?? backoff;
    const elapsed = this.opts.clock.now() - head.firstTryMs!;
    if (elapsed + wait > this.opts.maxElapsedMs) {
      this.books.drop('forward_failed', head.points, head.tally);
      this.shift();
      return;
    }
    if (retryAfter !== null) this.books.retryAfterHonoured++;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, wait);
      this.wakeSleep = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wakeSleep = null;
  }

  private shift(): void {
    const b = this.queue.shift()!;
    this.points -= b.points;
    this.tally -= b.tally;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
