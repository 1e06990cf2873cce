import type { Transport } from '@pushpull/common';
import { transportOf } from '../../core/transports.ts';
import type { RelayCounts } from '../types.ts';
import { TcpRelay } from './relay-tcp.ts';
import { UdpRelay } from './relay-udp.ts';

// A partition on the process runtime. Every producer shares the host's loopback, so there is no network to
// disconnect; instead each producer of a partitionable stack (StackOptions.partitionable) reaches the rest
// of the stack, and is reached, only through its own relays in the lab's process:
//   - scrape: Prometheus → the relay → the producer's HTTP port (its sd file advertises the relay's address);
//   - push:   the producer → the relay → the collector, over the producer's transport (a UDP relay for StatsD
//             datagrams, a TCP relay for StatsD over TCP and for OTLP/HTTP).
// `cut()` cuts both, `heal()` restores both on the same addresses. The lab's own control-API reads (the
// ledgers) go to the producer's HTTP port directly: they are the ground truth, read outside the paths.

export class ProducerRelays {
  private constructor(
    readonly scrape: TcpRelay,
    readonly push: TcpRelay | UdpRelay,
  ) {}

  /**
   * Binds the relays: the push relay towards `collector` (HOST:PORT of the collector's listener for
   * `transport`), the scrape relay towards a producer address given later (`scrapeTarget`).
   */
  static async open(transport: Transport, collector: string): Promise<ProducerRelays> {
    const push = transportOf(transport).datagrams
      ? new UdpRelay(collector)
      : new TcpRelay(collector, `${transport} push relay`);
    const r = new ProducerRelays(new TcpRelay(null, 'scrape relay'), push);
    try {
      await r.scrape.listen();
      await r.push.listen();
    } catch (e) {
      await r.close();
      throw e;
    }
    return r;
  }

  /** Where Prometheus scrapes the producer's pods (its sd file advertises this). */
  get scrapeAddress(): string {
    return this.scrape.address();
  }

  /** Where the producer pushes. */
  get pushAddress(): string {
    return this.push.address();
  }

  /** The producer's HTTP HOST:PORT, once it listens. */
  scrapeTarget(http: string): void {
    this.scrape.setTarget(http);
  }

  async cut(): Promise<void> {
    await Promise.all([this.scrape.cut(), this.push.cut()]);
  }

  async heal(): Promise<void> {
    await Promise.all([this.scrape.heal(), this.push.heal()]);
  }

  async close(): Promise<void> {
    await Promise.all([this.scrape.close(), this.push.close()]);
  }

  counts(): RelayCounts {
    const tcp = (r: TcpRelay) => ({ connections: r.stats.connections, resetByCut: r.stats.resetByCut });
    const p = this.push;
    return {
      scrape: tcp(this.scrape),
      push:
        p instanceof TcpRelay
          ? { tcp: tcp(p) }
          : {
              udp: {
                received: p.stats.received,
                forwarded: p.stats.forwarded,
                droppedInCut: p.stats.droppedInCut,
                forwardErrors: p.stats.forwardErrors,
              },
            },
    };
  }
}
