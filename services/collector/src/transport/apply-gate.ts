// The OTLP receiver's second stage: request bodies that have arrived and are being decoded and applied in
// slices. Before slicing a request was decoded and applied in one go, so at most one body was ever in this
// stage; with slices, several may be (each yields to the event loop between its slices). The gate bounds
// their bytes: at most `capacity` at once, one request alone always enters, the rest wait in arrival order
// (FIFO). A body that waits here is still held by the in-flight budget (it is memory the sender gave us);
// a body that enters leaves the budget. So the collector holds at most --otlp-max-inflight-bytes of bodies
// arriving or waiting, plus `capacity` of bodies being applied.

export class ApplyGate {
  /** Bytes of the bodies inside (being decoded/applied) now. */
  bytes = 0;
  private readonly waiting: { n: number; go: () => void }[] = [];

  constructor(readonly capacity: number) {}

  /** Requests waiting to enter. */
  get queued(): number {
    return this.waiting.length;
  }

  private fits(n: number): boolean {
    return this.bytes === 0 || this.bytes + n <= this.capacity;
  }

  /** Enters at once when nobody waits and `n` bytes fit (or the gate is empty); true when entered. */
  tryEnter(n: number): boolean {
    if (this.waiting.length > 0 || !this.fits(n)) return false;
    this.bytes += n;
    return true;
  }

  /** Resolves once `n` bytes have entered, in arrival order. */
  enter(n: number): Promise<void> {
    if (this.tryEnter(n)) return Promise.resolve();
    return new Promise((go) => this.waiting.push({ n, go }));
  }

  /** Leaves with the `n` bytes that entered; lets the waiters that now fit in, in order. */
  leave(n: number): void {
    this.bytes -= n;
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.n)) {
      const w = this.waiting.shift()!;
      this.bytes += w.n;
      w.go();
    }
  }
}
