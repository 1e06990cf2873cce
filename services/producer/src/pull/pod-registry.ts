import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LabelSets } from '../model/labels.ts';
import { type Order, SIDES } from '../model/workload.ts';

// The pull side of one pod: its own prom-client Registry, served at GET /pods/<id>/metrics.
// Series are listed (initialised at 0) when an instrument starts trading, so the body size is a function
// of the instruments listed, not of which combinations happened to get an order yet.

export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class PodRegistry {
  readonly registry = new Registry();
  private readonly orders: Counter<'region' | 'side' | 'instrument'>;
  private readonly latency: Histogram<'region'>;
  private readonly rejects: Counter<'region' | 'reason'>;
  private readonly queueDepth: Gauge;
  private listedCount = 0;

  constructor(
    private readonly labels: LabelSets,
    initialInstruments: number,
  ) {
    const registers = [this.registry];
    this.orders = new Counter({
      name: 'orders_total',
      help: 'Orders routed by this pod.',
      labelNames: ['region', 'side', 'instrument'],
      registers,
    });
    this.latency = new Histogram({
      name: 'order_latency_seconds',
      help: 'Order routing latency.',
      labelNames: ['region'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.rejects = new Counter({
      name: 'order_rejects_total',
      help: 'Orders rejected by this pod.',
      labelNames: ['region', 'reason'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'order_queue_depth',
      help: 'Orders waiting in this pod.',
      registers,
    });
    for (const byReason of labels.rejectLabels) for (const l of byReason) this.rejects.inc(l, 0);
    for (const l of labels.regionLabels) this.latency.zero(l);
    this.queueDepth.set(0);
    this.listInstruments(initialInstruments);
  }

  /** Instruments listed in this registry (their series exist, at 0 or more). */
  get listed(): number {
    return this.listedCount;
  }

  /** Lists instruments up to `count`: their series appear at 0 (initialisation, not a workload event). */
  listInstruments(count: number): void {
    if (count <= this.listedCount) return;
    this.labels.ensure(count);
    for (let i = this.listedCount; i < count; i++)
      for (const l of this.labels.orderLabels[i]!) this.orders.inc(l, 0);
    this.listedCount = count;
  }

  /** Records one order: the pull record path. Returns the number of registry events. */
  record(o: Order): number {
    this.orders.inc(this.labels.orderLabels[o.instrument]![o.region * SIDES.length + o.side]!);
    this.latency.observe(this.labels.regionLabels[o.region]!, o.latencyMs / 1000);
    if (o.rejected) {
      this.rejects.inc(this.labels.rejectLabels[o.region]![o.rejectReason]!);
      return 3;
    }
    return 2;
  }

  setQueueDepth(depth: number): void {
    this.queueDepth.set(depth);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
