// Datagram arrivals per fixed time bin (default 100 ms), kept for the last couple of minutes in a ring.
// It lets the lab measure burst peaks exactly (e.g. every pod flushing on the same boundary) without
// polling /metrics at high frequency. Cost per datagram: one Date.now() and one array increment.

export interface ArrivalsSnapshot {
  binMs: number;
  /** Epoch ms at which counts[0] starts. */
  startMs: number;
  counts: number[];
}

export class ArrivalBins {
  private readonly counts: Float64Array;
  /** Absolute bin index (floor(ms / binMs)) of the newest bin written, or -1. */
  private last = -1;

  constructor(
    readonly binMs = 100,
    readonly size = 1200,
  ) {
    this.counts = new Float64Array(size);
  }

  record(n: number, nowMs: number): void {
    const bin = Math.floor(nowMs / this.binMs);
    if (bin > this.last) {
      // Zero the slots skipped since the last arrival (at most the whole ring).
      const from = this.last < 0 ? bin : Math.max(this.last + 1, bin - this.size + 1);
      for (let b = from; b <= bin; b++) this.counts[b % this.size] = 0;
      this.last = bin;
    } else if (bin < this.last - this.size + 1) {
      return; // older than the ring (clock stepped back): dropped from the bins, not from the counters
    }
    this.counts[bin % this.size]! += n;
  }

  /** The ring from its oldest bin up to the bin containing `nowMs` (empty bins are zeros). */
  snapshot(nowMs: number): ArrivalsSnapshot {
    const now = Math.floor(nowMs / this.binMs);
    if (this.last < 0) return { binMs: this.binMs, startMs: now * this.binMs, counts: [0] };
    const first = Math.max(now - this.size + 1, 0);
    const counts: number[] = [];
    for (let b = first; b <= now; b++) {
      counts.push(b > this.last || b <= this.last - this.size ? 0 : this.counts[b % this.size]!);
    }
    return { binMs: this.binMs, startMs: first * this.binMs, counts };
  }
}
