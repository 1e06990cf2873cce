import { setMaxListeners } from 'node:events';
import type { LabError } from '@pushpull/common';
import type { Phase, ProbeSample } from '../core/record.ts';
import { abortableSleep } from '../core/time.ts';
import { mergeInto, newSample } from './sample.ts';
import { probeSources } from './sources/index.ts';
import { type ProbeContext, type ProbeSource, type ProbeTargets, TICK_MS } from './sources/source.ts';

// The 1-second probe loop. It shares the 2 cores with the fleet, so:
// - ticks never overlap: a tick awaits all its probes (each bounded by a timeout) before the next starts;
// - every source has a cost budget: it runs again only after max(its period, duty × its last duration),
//   so a source that got slow (a multi-megabyte collector body, an overloaded Prometheus) backs off by
//   itself instead of adding to the overload it is measuring;
// - the Prometheus probe is one combined query per tick.
// What each source reads is in sources/; this file only schedules them and merges what they measured.

export { mergeInto } from './sample.ts';
export { groupComponents } from './sources/resources.ts';
export { type ProbeTargets, TICK_MS } from './sources/source.ts';

/** A source and its scheduling state in this loop. */
interface Scheduled {
  source: ProbeSource;
  inFlight: Promise<void> | null;
  lastStart: number;
  lastDuration: number;
}

/** Due when it never ran, or its period (stretched by its back-off on the last duration) has passed. */
function isDue(src: Scheduled, now: number): boolean {
  if (src.inFlight) return false;
  const { periodMs, duty } = src.source;
  return src.lastStart === 0 || now - src.lastStart >= Math.max(periodMs, duty * src.lastDuration) - 50;
}

export class ProbeLoop {
  readonly samples: ProbeSample[] = [];
  phase: Phase = 'start';
  /** Set when a component died: the orchestrator stops the run with this error. */
  fatal: LabError | null = null;
  onSample: ((s: ProbeSample) => void) | null = null;
  private readonly sources: Scheduled[];
  private ctl = ProbeLoop.controller();
  private running: Promise<void> | null = null;
  private readonly maxTicks: number;

  constructor(t: ProbeTargets, opts: { maxDurationMs: number }) {
    this.maxTicks = Math.ceil(opts.maxDurationMs / TICK_MS) + 10;
    this.sources = probeSources(t).map((source) => ({
      source,
      inFlight: null,
      lastStart: 0,
      lastDuration: 0,
    }));
  }

  /** Every in-flight probe request listens to the loop's signal: no listener-count warning. */
  private static controller(): AbortController {
    const c = new AbortController();
    setMaxListeners(0, c.signal);
    return c;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** What a source sees of the loop: the current signal, and the run's fatal error (read and set live). */
  private context(): ProbeContext {
    const loop = this;
    return {
      signal: this.ctl.signal,
      get fatal() {
        return loop.fatal;
      },
      stopRun(error) {
        loop.fatal = error;
      },
    };
  }

  /**
   * Runs one source into a scratch sample and merges what it measured into the sample that is current
   * when it completes (its values describe that moment, not the moment it started).
   */
  private runSource(src: Scheduled): Promise<void> {
    src.lastStart = Date.now();
    const scratch = newSample(this.phase);
    const done = (async () => {
      let error: string | null = null;
      try {
        await src.source.read(scratch, this.context());
      } catch (e) {
        if (!this.ctl.signal.aborted) error = `${src.source.name}: ${(e as Error).message}`;
      }
      src.lastDuration = Date.now() - src.lastStart;
      const target = this.samples[this.samples.length - 1];
      if (!target || this.ctl.signal.aborted) return;
      mergeInto(target, scratch);
      target.probeMs[src.source.name] = src.lastDuration;
      if (error) {
        target.errors.push(error);
        target.failedProbes = [...(target.failedProbes ?? []), src.source.name];
      }
    })();
    src.inFlight = done.finally(() => {
      src.inFlight = null;
    });
    return src.inFlight;
  }

  /**
   * Opens a new sample and starts every source that is due and not still running (a slow source never
   * overlaps itself and never holds the others back). Returns the previous, settled-as-far-as-possible sample.
   */
  private tick(): ProbeSample | undefined {
    const previous = this.samples[this.samples.length - 1];
    const now = Date.now();
    this.samples.push(newSample(this.phase));
    for (const src of this.sources) if (isDue(src, now)) void this.runSource(src);
    return previous;
  }

  private async loop(): Promise<void> {
    for (let i = 0; i < this.maxTicks && !this.ctl.signal.aborted; i++) {
      const started = Date.now();
      const previous = this.tick();
      if (previous) this.onSample?.(previous);
      try {
        await abortableSleep(Math.max(10, started + TICK_MS - Date.now()), this.ctl.signal);
      } catch {
        break;
      }
    }
  }

  /** One last complete sample right now (final values after the drain), awaiting every source; then stop. */
  async finalTick(): Promise<ProbeSample | null> {
    await this.stop();
    this.ctl = ProbeLoop.controller();
    this.samples.push(newSample(this.phase));
    await Promise.all(this.sources.map((src) => this.runSource(src)));
    this.ctl.abort();
    return this.samples[this.samples.length - 1] ?? null;
  }

  async stop(): Promise<void> {
    this.ctl.abort();
    await this.running?.catch(() => undefined);
    this.running = null;
    // In-flight requests were aborted with the controller; wait for them to settle (each has a timeout).
    await Promise.all(this.sources.map((src) => src.inFlight?.catch(() => undefined)));
    // Drop the trailing sample if no source wrote into it.
    const last = this.samples[this.samples.length - 1];
    if (last && Object.keys(last.probeMs).length === 0 && last.errors.length === 0) this.samples.pop();
  }
}
