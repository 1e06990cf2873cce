// Work whose size a sender chooses (an OTLP request's decode and apply) runs in slices on the one event
// loop: a generator does a small, whole unit per step, and runSliced hands the loop back between slices so
// that datagrams and HTTP requests are served meanwhile (README: Responsiveness).

/** CPU time this process has used, milliseconds (user + system, every thread). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const turn = () => new Promise<void>((done) => setImmediate(done));

/**
 * The UDP socket as runSliced sees it. libuv reads at most `batch` datagrams (32) each time the socket is
 * readable, once per turn of the loop; a turn that read a whole batch left more behind.
 */
export interface Backlog {
  /** A count that grows by one for every datagram read. */
  read(): number;
  batch: number;
  /** Turns given to the socket between two slices at most, so that a flood cannot stop the work. */
  maxTurns: number;
}

/**
 * Drives a generator of work, giving the event loop a turn (setImmediate: pending I/O such as UDP
 * datagrams and /metrics/self requests runs first) whenever sliceMs of CPU time has been spent since the
 * last turn. CPU time, not wall time: on a shared machine the scheduler stretches every step's wall time
 * (measured at load average 15: 64 points took 10–100 ms of wall time), so a wall-clock slice yielded after
 * nearly every step, and each turn put the request behind every other waiting one — a 180-point export
 * took 0.3–2.4 s to answer instead of a few ms. A small request now finishes in one go, as it did before
 * slicing; only the work a large one really does is cut into slices.
 *
 * With a backlog, the turn after a slice is repeated while the socket keeps yielding whole batches (up to
 * maxTurns): one batch per slice gave the socket 32 datagrams per 2 ms of export work, less than a StatsD
 * stream of 20k/s brings, so the receive buffer filled behind a large export (README: the bench).
 */
export async function runSliced<T>(
  it: Generator<void, T, undefined>,
  sliceMs: number,
  backlog?: Backlog,
): Promise<T> {
  let t0 = cpuMs();
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
    if (cpuMs() - t0 >= sliceMs) {
      let before = backlog?.read() ?? 0;
      await turn();
      for (let i = 1; backlog !== undefined && i < backlog.maxTurns; i++) {
        if (backlog.read() - before < backlog.batch) break;
        before = backlog.read();
        await turn();
      }
      t0 = cpuMs();
    }
  }
}
