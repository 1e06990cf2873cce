import {
  type Clock,
  type ControlState,
  LabError,
  type Logger,
  type PushSettings,
  Rng,
} from '@pushpull/common';
import { podIds, type ResolvedConfig } from './config.ts';
import { CostHistogram, type Ledger, type LedgerCounts, sumCounts } from './ledger.ts';
import { LabelSets } from './model/labels.ts';
import type { Profile } from './model/profile.ts';
import { newOrder, WorkloadModel } from './model/workload.ts';
import { createPods, nextBoundary, type Pod, podPeriodic, reschedulePod } from './pod.ts';
import type { PodRegistry } from './pull/pod-registry.ts';
import { OtlpPod } from './push/otlp.ts';
import { PUSH_MODES } from './push/pusher.ts';
import { createTransport, type SharedTransport, type TransportKind } from './push/transport.ts';

// The producer without HTTP: P virtual pods driven by one tick loop over the pure workload model.
// Each tick, for every pod: list newly trading instruments, generate the orders due (exact count from the
// model), record each in the pod's registry (pull) and hand it to the pod's push client (push), then run
// the pod's periodic work: queue depth sample, flush boundary, heartbeat. The clock is injected.

/** The push settings and GET /control/state: wire contracts (@pushpull/common). */
export type { ControlState, PushSettings };
export { nextBoundary };

export interface TickStats {
  orders: number;
  backlog: number;
  durationNs: number;
}

export class ProducerCore {
  readonly name: string;
  readonly podIds: readonly string[];
  readonly model: WorkloadModel;
  readonly labels: LabelSets;
  readonly pullCost = new CostHistogram();
  readonly pushCost = new CostHistogram();
  /** By push mode, and `otlp` for the OpenTelemetry SDK path (whatever the mode). */
  readonly pushCostByMode = new Map<string, CostHistogram>(
    [...PUSH_MODES, 'otlp'].map((m) => [m, new CostHistogram()]),
  );
  private readonly pods: Pod[];
  private readonly byId = new Map<string, Pod>();
  private settings: PushSettings;
  private readonly transports = new Map<TransportKind, SharedTransport>();
  private readonly scratch = newOrder();
  private sampleCountdown: number;
  private rotate = 0;
  private backlog = 0;
  private quiescedFlag = false;
  private closed = false;
  private opened = false;
  private pushLock: Promise<unknown> = Promise.resolve();
  /** Own clock at the first tick at or after the scheduled open (null: not yet). */
  private openedAtMs: number | null = null;
  /** TEST ONLY: the clock skew this producer was started with (reported in its state), 0 = none. */
  testClockSkewMs = 0;
  lastTick: TickStats = { orders: 0, backlog: 0, durationNs: 0 };

  constructor(
    readonly config: ResolvedConfig,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.name = config.name;
    const now = clock.now();
    this.model = new WorkloadModel(config.profile, config.fleetPods, now);
    this.labels = new LabelSets(config.profile.instruments.steady);
    this.sampleCountdown = config.costSampleEvery;
    this.settings = {
      mode: config.pushMode,
      jitter: config.jitter,
      transport: config.statsd.transport,
      heartbeatMs: config.heartbeatMs,
      flushIntervalMs: config.flushIntervalMs,
      otlpTemporality: config.otlpTemporality,
    };
    this.podIds = Object.freeze(podIds(config));
    this.pods = createPods(this.podIds, new Rng(config.seed), this.labels, this.model.activeInstruments(now));
    for (const pod of this.pods) this.byId.set(pod.id, pod);
    this.reschedule(now);
  }

  /** Opens the push transport and attaches every pod's push client. */
  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    const s = this.settings;
    const t = s.mode !== 'off' && s.transport !== 'otlp' ? await this.transport(s.transport) : null;
    for (const pod of this.pods) void this.attach(pod, t);
  }

  /** Gives the pod the push client the settings ask for; resolves once its previous one is closed. */
  private attach(pod: Pod, transport: SharedTransport | null): Promise<void> {
    const s = this.settings;
    if (s.mode === 'off' || s.transport !== 'otlp') return pod.pusher.switchTo(s.mode, transport);
    // The SDK exports on its own timer: start it at the pod's flush boundary, on the wall clock (the
    // injected clock drives the workload, not the SDK's timers).
    const now = Date.now();
    const interval = s.flushIntervalMs;
    const startAt = nextBoundary(now, interval, s.jitter ? pod.flushFrac * interval : 0);
    const otlp = new OtlpPod(
      {
        podId: pod.id,
        producer: this.name,
        url: this.config.otlpUrl,
        temporality: s.otlpTemporality ?? 'cumulative',
        intervalMs: interval,
        startInMs: startAt - now,
      },
      pod.ledger,
      this.labels,
    );
    return pod.pusher.switchToOtlp(s.mode, otlp);
  }

  private async transport(kind: TransportKind): Promise<SharedTransport> {
    let t = this.transports.get(kind);
    if (!t) {
      const { host, port } = this.config.statsd;
      t = createTransport(kind, host, port);
      this.transports.set(kind, t);
      await t.open();
    }
    return t;
  }

  private reschedule(now: number): void {
    for (const pod of this.pods) reschedulePod(pod, now, this.settings, this.model.profile.queueDepthEveryMs);
  }

  get quiesced(): boolean {
    return this.quiescedFlag;
  }

  pod(id: string): PodRegistry | undefined {
    return this.byId.get(id)?.reg;
  }

  /**
   * Advances every pod to clock.now(). Synchronous and bounded twice: at most maxOrdersPerTick orders and
   * about maxTickMs of CPU (checked every 64 orders), so an overloaded process falls behind (backlog, a
   * measured overload signal) instead of blocking its event loop and with it the scrapes it serves. The
   * pod order is rotated every tick so the same pods do not always come last.
   */
  tick(): TickStats {
    const t0 = this.clock.hrtimeNs();
    const now = this.clock.now();
    if (this.quiescedFlag || this.closed) {
      this.lastTick = { orders: 0, backlog: 0, durationNs: 0 };
      return this.lastTick;
    }
    const model = this.model;
    const profile = model.profile;
    const sched = model.schedule;
    if (this.openedAtMs === null && sched && now >= sched.startAtMs) this.openedAtMs = now;
    const cum = model.podCumulative(now);
    const active = model.activeInstruments(now);
    const perPodCap = Math.max(1, Math.floor(this.config.maxOrdersPerTick / this.pods.length));
    const sampleEvery = this.config.costSampleEvery;
    const s = this.settings;
    const modeCost = this.pushCostByMode.get(s.transport === 'otlp' ? 'otlp' : s.mode)!;
    const pushing = s.mode !== 'off';
    const clock = this.clock;
    const order = this.scratch;
    const budgetNs = BigInt(this.config.maxTickMs * 1e6);
    let overBudget = false;
    let generated = 0;
    let backlog = 0;
    const pods = this.pods;
    const first = this.rotate;
    this.rotate = (this.rotate + 1) % pods.length;
    for (let k = 0; k < pods.length; k++) {
      const pod = pods[(first + k) % pods.length]!;
      const { gen, reg, pusher, ledger } = pod;
      if (reg.listed < active) reg.listInstruments(active);
      const due = gen.due(cum);
      let n = overBudget ? 0 : Math.min(due, perPodCap);
      for (let i = 0; i < n; i++) {
        if ((i & 63) === 63 && clock.hrtimeNs() - t0 > budgetNs) {
          overBudget = true;
          n = i;
          break;
        }
        gen.next(profile, active, order);
        if (--this.sampleCountdown === 0) {
          this.sampleCountdown = sampleEvery;
          const a = clock.hrtimeNs();
          ledger.registryEvents += reg.record(order);
          const b = clock.hrtimeNs();
          pusher.order(order);
          const c = clock.hrtimeNs();
          this.pullCost.record(Number(b - a));
          if (pushing) {
            const ns = Number(c - b);
            this.pushCost.record(ns);
            modeCost.record(ns);
          }
        } else {
          ledger.registryEvents += reg.record(order);
          pusher.order(order);
        }
        ledger.orders++;
        if (order.rejected) ledger.rejects++;
      }
      backlog += due - n;
      generated += n;
      podPeriodic(pod, now, model, s);
    }
    this.backlog = backlog;
    this.lastTick = { orders: generated, backlog, durationNs: Number(this.clock.hrtimeNs() - t0) };
    return this.lastTick;
  }

  state(): ControlState {
    const now = this.clock.now();
    const fleet = this.model.fleetRate(now);
    return {
      name: this.name,
      pods: [...this.podIds],
      phase: this.model.phase(now),
      push: { ...this.settings },
      schedule: this.model.schedule,
      fleetOrdersPerSecond: fleet,
      podOrdersPerSecond: fleet / this.model.fleetPods,
      atMs: now,
      profile: this.model.profile.name,
      backlogOrders: this.backlog,
      instruments: this.model.listedInstruments,
      openedAtMs: this.openedAtMs,
      ...(this.testClockSkewMs !== 0 ? { testClockSkewMs: this.testClockSkewMs } : {}),
    };
  }

  ledger(): Ledger {
    const pods: Record<string, Required<LedgerCounts>> = {};
    for (const p of this.pods) pods[p.id] = { ...p.ledger };
    const byMode: Record<string, ReturnType<CostHistogram['summary']>> = {};
    for (const [m, h] of this.pushCostByMode) if (h.count > 0) byMode[m] = h.summary();
    return {
      name: this.name,
      atMs: this.clock.now(),
      quiesced: this.quiescedFlag,
      total: sumCounts(this.pods.map((p) => p.ledger)),
      pods,
      cost: {
        pullRecordNs: this.pullCost.summary(),
        pushSendNs: this.pushCost.summary(),
        pushSendNsByMode: byMode,
        sampleEvery: this.config.costSampleEvery,
      },
    };
  }

  /** POST /control/schedule: every producer given the same startAtMs ramps at the same wall-clock instant. */
  schedule(startAtMs: number, profile?: Readonly<Profile>): void {
    if (this.quiescedFlag)
      throw new LabError('LAB_ERR_CONTROL', 'the producer is quiesced; restart it to schedule again', {
        field: null,
        status: 409,
      });
    const now = this.clock.now();
    // Orders due up to now belong to the old schedule.
    this.model.setSchedule(startAtMs, profile, now);
    this.openedAtMs = null;
    if (profile) this.reschedule(now);
  }

  /** POST /control/push: applies atomically; the workload keeps running while old clients drain. */
  setPush(change: Partial<PushSettings>): Promise<PushSettings> {
    const run = this.pushLock.then(() => this.applyPush(change));
    this.pushLock = run.catch(() => undefined);
    return run;
  }

  private async applyPush(change: Partial<PushSettings>): Promise<PushSettings> {
    if (this.closed)
      throw new LabError('LAB_ERR_CONTROL', 'the producer is stopping', { field: null, status: 409 });
    if (this.quiescedFlag)
      throw new LabError('LAB_ERR_CONTROL', 'the producer is quiesced; push settings are frozen', {
        field: null,
        status: 409,
      });
    const before = this.settings;
    const next: PushSettings = { ...before, ...change };
    // An SDK reader's interval and temporality are fixed at construction: OTLP pods are rebuilt on a change.
    const otlpChange =
      next.transport === 'otlp' &&
      (next.flushIntervalMs !== before.flushIntervalMs ||
        next.jitter !== before.jitter ||
        next.otlpTemporality !== before.otlpTemporality);
    // Between push modes other than off the OTLP pods stay as they are: the mode means nothing to the SDK.
    const stillOtlp =
      before.transport === 'otlp' &&
      next.transport === 'otlp' &&
      (before.mode === 'off') === (next.mode === 'off');
    const clientChange = stillOtlp
      ? otlpChange && next.mode !== 'off'
      : next.mode !== before.mode ||
        next.transport !== before.transport ||
        (otlpChange && next.mode !== 'off');
    let transport: SharedTransport | null = null;
    if (clientChange && next.mode !== 'off' && next.transport !== 'otlp')
      transport = await this.transport(next.transport);
    this.settings = next;
    this.reschedule(this.clock.now());
    if (clientChange && this.opened) {
      const closing = this.pods.map((p) => this.attach(p, transport));
      await Promise.all(closing);
      await this.closeUnusedTransports();
    }
    this.logger.info('push settings', { ...next });
    return { ...next };
  }

  private async closeUnusedTransports(): Promise<void> {
    for (const [kind, t] of this.transports) {
      if (this.settings.mode !== 'off' && kind === this.settings.transport) continue; // never 'otlp'
      this.transports.delete(kind);
      await t.close();
    }
  }

  /** Stops generating orders, flushes every push buffer, waits for the sends, returns the final ledger. */
  async quiesce(): Promise<Ledger> {
    await this.pushLock;
    if (!this.quiescedFlag) {
      this.quiescedFlag = true;
      this.model.quiesce(this.clock.now());
      await Promise.all(this.pods.map((p) => p.pusher.flushAndWait()));
      await this.drainTransports(2000);
    }
    return this.ledger();
  }

  private async drainTransports(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
      let inflight = 0;
      for (const t of this.transports.values()) inflight += t.inFlight;
      if (inflight === 0) return;
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Final flush, closes every push client and socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.pushLock;
    this.closed = true;
    await Promise.all(this.pods.map((p) => p.pusher.close()));
    await this.drainTransports(2000);
    for (const t of this.transports.values()) await t.close();
    this.transports.clear();
  }
}
