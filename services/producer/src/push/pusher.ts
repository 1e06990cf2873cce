import type { Writable } from 'node:stream';
import { PUSH_MODES, type PushMode } from '@pushpull/common';
import { StatsD } from 'hot-shots';
import type { LedgerCounts } from '../ledger.ts';
import type { LabelSets } from '../model/labels.ts';
import { type Order, SIDES } from '../model/workload.ts';
import { formatLine, PodAggregator } from './aggregator.ts';
import type { OtlpPod } from './otlp.ts';
import { PodStream, type SharedTransport } from './transport.ts';

// The push side of one pod: its own hot-shots client (tagged pod:<id>) writing into its own PodStream.
//   per-event   hot-shots unbuffered: one datagram per metric line, as naive clients do
//   buffered    hot-shots maxBufferSize 1432: lines packed into datagrams; a datagram leaves when the next
//               line would not fit, and whatever is left at each flush boundary
//   aggregated  PodAggregator per flush interval (counters summed, latencies summarised, see aggregator.ts),
//               the lines packed by a buffered hot-shots client at the flush boundary
//   off         no client at all (no orders, no heartbeats pushed)
// With transport `otlp` the pod's OtlpPod (an OpenTelemetry MeterProvider, see otlp.ts) takes the place of
// the hot-shots client, whatever the mode other than off: the SDK aggregates and exports on its own timer.

export { PUSH_MODES, type PushMode };
/** A 1500-byte Ethernet MTU minus IP/UDP headers and slack, the value hot-shots' docs suggest. */
export const PUSH_BUFFER_BYTES = 1432;

/** hot-shots' raw line sender: typed privately because it is not in its .d.ts (it is what every metric call uses). */
interface RawSend {
  send(message: string, tags?: readonly string[]): void;
}

export class PodPusher {
  private client: StatsD | null = null;
  private otlp: OtlpPod | null = null;
  private readonly agg = new PodAggregator();
  private modeV: PushMode = 'off';

  constructor(
    readonly podId: string,
    private readonly ledger: LedgerCounts,
    private readonly labels: LabelSets,
  ) {}

  get mode(): PushMode {
    return this.modeV;
  }

  /**
   * Switches this pod to `mode` on `transport`. The new client takes over synchronously (no event is lost
   * or double counted); the returned promise resolves once the old client's remaining lines were handed to
   * the socket and it is closed.
   */
  switchTo(mode: PushMode, transport: SharedTransport | null): Promise<void> {
    const closing = this.detach();
    this.modeV = transport === null ? 'off' : mode;
    this.client =
      this.modeV === 'off' || transport === null ? null : this.createClient(this.modeV, transport);
    return closing;
  }

  /** Switches this pod to its OpenTelemetry SDK pod; the previous client (or OtlpPod) drains as above. */
  switchToOtlp(mode: PushMode, pod: OtlpPod): Promise<void> {
    const closing = this.detach();
    this.modeV = mode;
    this.otlp = pod;
    return closing;
  }

  /** Takes the current client (or OtlpPod) out of the send path at once; resolves when it is closed. */
  private detach(): Promise<void> {
    const old = this.client;
    const oldOtlp = this.otlp;
    if (this.modeV === 'aggregated' && old) this.sendAggregated(old);
    this.client = null;
    this.otlp = null;
    return Promise.all([old ? this.closeClient(old) : undefined, oldOtlp?.shutdown()]).then(() => {});
  }

  private createClient(mode: PushMode, transport: SharedTransport): StatsD {
    const ledger = this.ledger;
    return new StatsD({
      protocol: 'stream',
      stream: new PodStream(transport, ledger) as unknown as Writable,
      globalTags: { pod: this.podId },
      maxBufferSize: mode === 'per-event' ? 0 : PUSH_BUFFER_BYTES,
      // Partial buffers are flushed by the producer on the pod's flush boundary (jitter on/off), not by a
      // hot-shots timer of its own.
      bufferFlushInterval: 2147483647,
      errorHandler: () => {
        ledger.sendErrors++;
      },
      datadog: false,
      includeDataDogTags: false,
      closingFlushInterval: 10,
    });
  }

  private closeClient(client: StatsD): Promise<void> {
    return new Promise<void>((resolve) => {
      client.close((err) => {
        if (err) this.ledger.sendErrors++;
        resolve();
      });
    });
  }

  /** The push send path for one order. */
  order(o: Order): void {
    const client = this.client;
    if (client === null) {
      if (this.otlp !== null) this.otlp.order(o);
      return;
    }
    const l = this.labels;
    const orderTags = l.orderTags[o.instrument]![o.region * SIDES.length + o.side]!;
    const regionTags = l.regionTags[o.region]!;
    const led = this.ledger;
    if (this.modeV === 'aggregated') {
      this.agg.order(orderTags);
      this.agg.timing(regionTags, o.latencyMs);
      if (o.rejected) this.agg.reject(l.rejectTags[o.region]![o.rejectReason]!);
      return;
    }
    client.increment('orders', 1, 1, orderTags as string[]);
    client.timing('order.latency_ms', o.latencyMs, 1, regionTags as string[]);
    led.ordersPushed++;
    led.pushEvents += 2;
    if (o.rejected) {
      client.increment('order.rejects', 1, 1, l.rejectTags[o.region]![o.rejectReason]! as string[]);
      led.pushEvents++;
    }
  }

  queueDepth(depth: number): void {
    const client = this.client;
    if (client === null) {
      this.otlp?.queueDepth(depth);
      return;
    }
    if (this.modeV === 'aggregated') {
      this.agg.gauge(depth);
      return;
    }
    client.gauge('order.queue_depth', depth);
    this.ledger.pushEvents++;
  }

  heartbeat(): void {
    const client = this.client;
    if (client === null) {
      this.otlp?.heartbeat();
      return;
    }
    if (this.modeV === 'aggregated') {
      this.agg.heartbeat();
      return;
    }
    client.increment('heartbeat', 1);
    this.ledger.heartbeats++;
    this.ledger.pushEvents++;
  }

  private sendAggregated(client: StatsD): void {
    const drained = this.agg.drain();
    const raw = client as unknown as RawSend;
    for (const line of drained.lines) raw.send(formatLine(line), line.tags);
    this.ledger.pushEvents += drained.lines.length;
    this.ledger.ordersPushed += drained.orders;
    this.ledger.heartbeats += drained.heartbeats;
  }

  /** The pod's flush boundary: aggregated lines are sent, partial buffers leave as a datagram. */
  flush(): void {
    const client = this.client;
    if (client === null || this.modeV === 'per-event') return;
    if (this.modeV === 'aggregated') this.sendAggregated(client);
    client.flush();
  }

  /**
   * Flushes and waits until every datagram of this pod was handed to the socket and acknowledged. OTLP: the
   * SDK's shutdown, i.e. a final forceFlush export, after which the pod exports nothing more (quiesce).
   */
  flushAndWait(): Promise<void> {
    const client = this.client;
    if (client === null) return this.otlp ? this.otlp.shutdown() : Promise.resolve();
    if (this.modeV === 'aggregated') this.sendAggregated(client);
    return new Promise<void>((resolve) => {
      client.flush((err) => {
        if (err) this.ledger.sendErrors++;
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return this.switchTo('off', null);
  }
}
