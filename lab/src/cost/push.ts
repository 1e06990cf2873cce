// Push path: hot-shots clients in three modes, each counting the datagrams it hands to its UDP socket.

import {
  type HostPort,
  PUSH_MODES as SHARED_PUSH_MODES,
  type PushMode as SharedPushMode,
} from '@pushpull/common';
import { StatsD } from 'hot-shots';
import type { CheckoutEvent } from './events.ts';

/** The producer's push modes (@pushpull/common) that send something: `off` has no cost to measure. */
export type PushMode = Exclude<SharedPushMode, 'off'>;
export const PUSH_MODES: readonly PushMode[] = SHARED_PUSH_MODES.filter((m): m is PushMode => m !== 'off');

/** Largest StatsD payload that fits a 1,500-byte Ethernet MTU after IP and UDP headers (hot-shots' advice). */
export const MAX_BUFFER_SIZE = 1432;

export interface PushCounters {
  datagrams: number;
  bytes: number;
  sendErrors: number;
}

export interface PushClient {
  mode: PushMode;
  counters: PushCounters;
  record(e: CheckoutEvent): void;
  /** Sends whatever is buffered or aggregated (a no-op for per-event). */
  flush(): void;
  /** Flushes, waits for in-flight sends, closes the socket. */
  close(): Promise<void>;
}

interface Transport {
  send(buf: Buffer, cb?: (err?: Error | null, bytes?: number) => void): void;
}

/**
 * per-event: one datagram per event (hot-shots' default, maxBufferSize 0).
 * buffered: lines joined into datagrams of at most 1,432 bytes; sent when the next line would not fit, and
 *   at flush (the library's own 1 s flush timer is pushed out so the run decides when).
 * aggregated: hot-shots client-side aggregation sums each series' increments and sends them at flush,
 *   buffered as above — one send per flush for these 12 series.
 */
export function createPushClient(mode: PushMode, target: HostPort): PushClient {
  const counters: PushCounters = { datagrams: 0, bytes: 0, sendErrors: 0 };
  const client = new StatsD({
    host: target.host,
    port: target.port,
    protocol: 'udp',
    maxBufferSize: mode === 'per-event' ? 0 : MAX_BUFFER_SIZE,
    bufferFlushInterval: 3_600_000,
    ...(mode === 'aggregated' ? { aggregation: { flushInterval: 3_600_000 } } : {}),
    errorHandler: () => {
      counters.sendErrors++;
    },
  });
  // Count what actually goes to the socket: wrap the transport's send (hot-shots' UDP transport object).
  const transport = (client as unknown as { socket: Transport }).socket;
  const send = transport.send.bind(transport);
  transport.send = (buf, cb) => {
    counters.datagrams++;
    counters.bytes += buf.length;
    send(buf, cb);
  };
  return {
    mode,
    counters,
    record: (e) => client.increment('checkout', 1, e.labels as unknown as Record<string, string>),
    flush: () => client.flush(),
    close: () =>
      new Promise<void>((resolve) =>
        client.close((err) => {
          if (err) counters.sendErrors++;
          resolve();
        }),
      ),
  };
}
