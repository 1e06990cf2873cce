import { setMaxListeners } from 'node:events';
import { LabError } from '@pushpull/common';
import { ledgerTotals } from '../analysis/accounting.ts';
import { hostMemory } from '../core/host.ts';
import { httpText } from '../core/http.ts';
import type { Phase, ProbeSample } from '../core/record.ts';
import { abortableSleep, mapLimit } from '../core/time.ts';
import type { ProducerMember } from '../runtime/types.ts';
import { ControlClient } from './control.ts';
import { collectorSnapshot, nodeUdpSnapshot } from './exposition.ts';
import { type PromClient, PULL_EXPRESSIONS, pullProbeFrom, storedOrdersExpression } from './prom.ts';

// The 1-second probe loop. It shares the 2 cores with the fleet, so:
// - ticks never overlap: a tick awaits all its probes (each bounded by a timeout) before the next starts;
// - every source has a cost budget: it runs again only after max(its period, DUTY × its last duration),
//   so a source that got slow (a multi-megabyte collector body, an overloaded Prometheus) backs off by
//   itself instead of adding to the overload it is measuring;
// - the Prometheus probe is one combined query per tick.

export const TICK_MS = 1000;
const DUTY = 8;
const PROBE_TIMEOUT_MS = 3000;

export interface ProbeTargets {
  prom: PromClient;
  /** Same Prometheus, longer timeout, for the costly stored-orders query. */
  promSlow: PromClient;
  collectorUrl: string;
  nodeExporterUrl: string | null;
  members: () => ProducerMember[];
  /** Cumulative CPU seconds per component (runtime.cpuSeconds()). */
  cpuSeconds: () => Promise<Record<string, number>>;
  /** Resident memory per component (runtime.rssBytes()), when the runtime reports it. */
  rssBytes?: () => Promise<Record<string, number>>;
  /** Stop the run when the host's MemAvailable falls below this (bytes): before the kernel OOM-kills something. */
  minHostMemAvailable?: number;
  /** Base-stack components or producers no longer running (runtime.dead()). */
  dead: () => Promise<string[]>;
  /** Last output of a component (runtime.logs), for the error naming a dead one. */
  logs?: (name: string) => Promise<string>;
  scrapeIntervalMs: number;
  ordersFamily?: string;
}

interface Source {
  name: string;
  periodMs: number;
  /** Back-off factor on the last duration: high for sources that cost their target work (renders). */
  duty: number;
  inFlight: Promise<void> | null;
  lastStart: number;
  lastDuration: number;
  run: (s: ProbeSample, signal: AbortSignal) => Promise<void>;
}

/** Groups per-component CPU seconds: producer members → "producers"; adds the lab itself. */
export function groupComponents(
  raw: Record<string, number>,
  memberNames: ReadonlySet<string>,
  labSeconds: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, secs] of Object.entries(raw)) {
    const key = memberNames.has(name) ? 'producers' : name;
    out[key] = (out[key] ?? 0) + secs;
  }
  out.lab = labSeconds;
  return out;
}

export class ProbeLoop {
  readonly samples: ProbeSample[] = [];
  phase: Phase = 'start';
  /** Set when a component died: the orchestrator stops the run with this error. */
  fatal: LabError | null = null;
  onSample: ((s: ProbeSample) => void) | null = null;
  private readonly sources: Source[];
  private ctl = ProbeLoop.controller();
  private running: Promise<void> | null = null;
  private readonly maxTicks: number;

  constructor(t: ProbeTargets, opts: { maxDurationMs: number }) {
    this.maxTicks = Math.ceil(opts.maxDurationMs / TICK_MS) + 10;
    const src = (name: string, periodMs: number, run: Source['run'], duty = DUTY): Source => ({
      name,
      periodMs,
      duty,
      inFlight: null,
      lastStart: 0,
      lastDuration: 0,
      run,
    });
    const pullKeys = PULL_EXPRESSIONS;
    this.sources = [
      src(
        'prometheus',
        TICK_MS,
        async (s, signal) => {
          const v = await t.prom.combined(pullKeys, signal);
          s.pull = { ...pullProbeFrom(v), storedOrders: s.pull?.storedOrders ?? null };
        },
        3,
      ),
      // Stored orders change once per scrape, and summing every order series is the costly query: once
      // per interval (at least every 5 s), backing off when Prometheus is slow. The exact total is taken
      // at the end anyway; the per-second rate comes from the recording rule in the combined query.
      src(
        'prometheus-orders',
        Math.max(5 * TICK_MS, t.scrapeIntervalMs),
        async (s, signal) => {
          const v = await t.promSlow.scalar(storedOrdersExpression(t.scrapeIntervalMs), undefined, signal);
          s.pull = s.pull ?? emptyPull();
          s.pull.storedOrders = v;
        },
        3,
      ),
      src(
        'alerts',
        2 * TICK_MS,
        async (s, signal) => {
          s.alerts = await t.prom.alerts(signal);
        },
        4,
      ),
      // The collector's body grows with every series it holds (megabytes at the open); every 2 s is plenty
      // and keeps the lab from adding much render work to the component it is measuring.
      src('collector', Math.max(2 * TICK_MS, t.scrapeIntervalMs / 4), async (s, signal) => {
        const text = await httpText(`${t.collectorUrl}/metrics`, { timeoutMs: PROBE_TIMEOUT_MS, signal });
        s.collector = collectorSnapshot(text, t.ordersFamily ?? 'orders');
      }),
      src(
        'node-exporter',
        TICK_MS,
        async (s, signal) => {
          if (!t.nodeExporterUrl) return;
          const text = await httpText(`${t.nodeExporterUrl}/metrics`, {
            timeoutMs: PROBE_TIMEOUT_MS,
            signal,
          });
          s.node = nodeUdpSnapshot(text);
        },
        2,
      ),
      // A ledger costs a producer almost nothing; its latency is the producer's busy event loop, so back off
      // little (the ground truth is needed every second for the charts and the datagram attribution).
      src(
        'ledgers',
        TICK_MS,
        async (s, signal) => {
          const members = t.members();
          const ledgers = await mapLimit(members, 8, (m) =>
            new ControlClient(m.baseUrl, PROBE_TIMEOUT_MS).ledger(signal).then(
              (l) => l,
              () => null,
            ),
          );
          const ok = ledgers.filter((l) => l !== null);
          s.ledgerProducers = ok.length;
          // A partial sum would look like a drop in the rate charts: keep only complete ticks.
          if (ok.length === members.length && ok.length > 0) s.ledger = ledgerTotals(ok);
          else if (members.length > 0)
            s.errors.push(
              `ledgers: ${members.length - ok.length} of ${members.length} producers did not answer`,
            );
        },
        2,
      ),
      src(
        'cpu',
        TICK_MS,
        async (s) => {
          const raw = await t.cpuSeconds();
          const names = new Set(t.members().map((m) => m.name));
          const u = process.cpuUsage();
          s.cpu = groupComponents(raw, names, (u.user + u.system) / 1e6);
          if (t.rssBytes) {
            const rss = groupComponents(await t.rssBytes(), names, process.memoryUsage.rss());
            s.rss = rss;
          }
          const mem = hostMemory();
          s.hostMemAvailable = mem?.availableBytes ?? null;
          if (
            mem &&
            t.minHostMemAvailable !== undefined &&
            mem.availableBytes < t.minHostMemAvailable &&
            !this.fatal
          ) {
            const top = Object.entries(s.rss ?? {})
              .sort((a, b) => b[1] - a[1])
              .slice(0, 3)
              .map(([k, v]) => `${k} ${(v / 2 ** 30).toFixed(1)} GiB`)
              .join(', ');
            this.fatal = new LabError(
              'LAB_ERR_CONFIG',
              `host memory nearly exhausted (MemAvailable ${(mem.availableBytes / 2 ** 30).toFixed(1)} of ${(mem.totalBytes / 2 ** 30).toFixed(1)} GiB${top ? `; largest: ${top}` : ''}): stopping the run before the kernel OOM-kills something — this fleet is too large for this machine`,
              { availableBytes: mem.availableBytes },
            );
          }
        },
        1,
      ),
      src(
        'health',
        2 * TICK_MS,
        async (s) => {
          const dead = await t.dead();
          s.dead = dead;
          if (dead.length > 0 && !this.fatal) {
            const tails: string[] = [];
            for (const name of dead.slice(0, 3)) {
              const out = t.logs ? await t.logs(name).catch(() => '') : '';
              if (out) tails.push(`--- last output of ${name}:\n${out}`);
            }
            this.fatal = new LabError(
              'LAB_ERR_CHILD_EXIT',
              `component(s) stopped running during the run: ${dead.join(', ')}${tails.length ? `\n${tails.join('\n')}` : ''}`,
              { components: dead },
            );
          }
        },
        1,
      ),
    ];
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

  private newSample(): ProbeSample {
    return {
      tMs: Date.now(),
      phase: this.phase,
      pull: null,
      collector: null,
      node: null,
      ledger: null,
      ledgerProducers: 0,
      alerts: null,
      cpu: null,
      probeMs: {},
      errors: [],
    };
  }

  /**
   * Runs one source into a scratch sample and merges what it measured into the sample that is current
   * when it completes (its values describe that moment, not the moment it started).
   */
  private runSource(src: Source): Promise<void> {
    src.lastStart = Date.now();
    const scratch = this.newSample();
    const done = (async () => {
      let error: string | null = null;
      try {
        await src.run(scratch, this.ctl.signal);
      } catch (e) {
        if (!this.ctl.signal.aborted) error = `${src.name}: ${(e as Error).message}`;
      }
      src.lastDuration = Date.now() - src.lastStart;
      const target = this.samples[this.samples.length - 1];
      if (!target || this.ctl.signal.aborted) return;
      mergeInto(target, scratch);
      target.probeMs[src.name] = src.lastDuration;
      if (error) {
        target.errors.push(error);
        target.failedProbes = [...(target.failedProbes ?? []), src.name];
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
    this.samples.push(this.newSample());
    for (const src of this.sources) {
      if (src.inFlight) continue;
      if (
        src.lastStart !== 0 &&
        now - src.lastStart < Math.max(src.periodMs, src.duty * src.lastDuration) - 50
      )
        continue;
      void this.runSource(src);
    }
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
    this.samples.push(this.newSample());
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

/** Copies what a source measured (non-null fields) into a sample. */
export function mergeInto(target: ProbeSample, from: ProbeSample): void {
  if (from.pull) {
    const merged = { ...(target.pull ?? emptyPull()) };
    for (const [k, v] of Object.entries(from.pull))
      if (v !== null) (merged as Record<string, unknown>)[k] = v;
    target.pull = merged;
  }
  if (from.collector) target.collector = from.collector;
  if (from.node) target.node = from.node;
  if (from.ledger) target.ledger = from.ledger;
  if (from.ledgerProducers) target.ledgerProducers = from.ledgerProducers;
  if (from.alerts) target.alerts = from.alerts;
  if (from.cpu) target.cpu = from.cpu;
  if (from.rss) target.rss = from.rss;
  if (from.hostMemAvailable !== undefined && from.hostMemAvailable !== null)
    target.hostMemAvailable = from.hostMemAvailable;
  if (from.dead) target.dead = from.dead;
  if (from.errors.length > 0) target.errors.push(...from.errors);
}

function emptyPull() {
  return {
    targets: null,
    targetsUp: null,
    scrapeP50: null,
    scrapeP99: null,
    scrapeMax: null,
    scrapeTimeout: null,
    slowTargets: null,
    samplesSum: null,
    samplesMax: null,
    bodyBytesMax: null,
    bodyBytesAvg: null,
    sampleLimitExceeded: null,
    intervalP99: null,
    storedOrders: null,
    storedOrdersRate: null,
    collectorUp: null,
  };
}
