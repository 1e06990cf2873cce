import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Transport } from '@pushpull/common';
import type { LedgerCounts } from '../ledger.ts';

// Sockets for the push path. One process hosts many virtual pods; giving each its own UDP socket costs a file
// descriptor, a libuv handle and a bind per pod and buys nothing on the wire (the collector identifies pods
// by the `pod` tag), so all pods of a process share ONE socket per transport. What must stay per pod is the
// hot-shots client (its buffer, its errorHandler) and the ledger: each pod's client writes into its own
// PodStream (hot-shots' documented `protocol: 'stream'` hook), which counts that pod's datagrams and bytes
// and forwards them to the shared socket.

/** The StatsD socket transports (the wire contract's Transport less `otlp`, which is HTTP: see otlp.ts). */
export type TransportKind = Exclude<Transport, 'otlp'>;

export type SendCallback = (err?: Error | null) => void;

export interface SharedTransport {
  readonly kind: TransportKind;
  readonly target: string;
  /**
   * Hands one datagram (udp) or one newline-terminated write (tcp) to the socket. Returns false when the
   * payload was refused before reaching the socket (not open, unresolvable, TCP queue full); `cb` then
   * gets the error synchronously.
   */
  send(payload: string, cb: SendCallback): boolean;
  /** Sends handed to the socket whose callback has not fired yet. */
  readonly inFlight: number;
  open(): Promise<void>;
  close(): Promise<void>;
}

/** Max bytes queued on a TCP socket (connecting or back-pressured) before writes are refused as errors. */
export const TCP_MAX_QUEUED_BYTES = 4 << 20;

function errorWithCode(message: string, code: string): Error {
  const e = new Error(message) as Error & { code: string };
  e.code = code;
  return e;
}

/**
 * The address the UDP send socket binds, from the target's address: loopback for a loopback target (nothing
 * leaves the host and the socket is not reachable from outside it), otherwise the any-address of the
 * target's family (the kernel picks the interface per route). An unresolved hostname binds 0.0.0.0, the
 * family its IPv4 lookup will give. A target that later resolves off loopback is not reachable from a
 * loopback-bound socket: its sends fail and are counted as send errors, never lost silently.
 */
export function bindAddressFor(target: string): string {
  const family = net.isIP(target);
  if (family === 6) return isLoopback6(target) ? '::1' : '::';
  if (family === 4 && target.startsWith('127.')) return '127.0.0.1';
  return '0.0.0.0';
}

function isLoopback6(ip: string): boolean {
  // ::1 however it is written (0:0:0:0:0:0:0:1); an IPv4-mapped 127.x is IPv6 traffic to an IPv4 socket,
  // which a socket bound to ::1 cannot send, so it takes the any-address.
  return new net.SocketAddress({ address: ip, family: 'ipv6' }).address === '::1';
}

export class SharedUdp implements SharedTransport {
  readonly kind = 'udp' as const;
  readonly target: string;
  private socket: dgram.Socket | null = null;
  private address: string | null;
  private lastLookupMs = 0;
  private looking = false;
  private inflight = 0;
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.target = `${host}:${port}`;
    this.address = net.isIP(host) ? host : null;
  }

  get inFlight(): number {
    return this.inflight;
  }

  async open(): Promise<void> {
    // Resolve first: the address decides the socket's family and the address it binds.
    if (this.address === null) await this.resolve();
    const bindTo = bindAddressFor(this.address ?? this.host);
    const v6 = net.isIP(bindTo) === 6;
    // We always pass an IP address (resolved once above). Without a lookup of our own, dgram would still run
    // dns.lookup on it, which answers on process.nextTick: the sendto() would happen after the caller
    // returned, outside the measured push cost, with a closure queued per datagram. hot-shots' own UDP
    // transport does the same: a synchronous lookup for IPs, so the syscall happens inside send().
    const family = v6 ? 6 : 4;
    const socket = dgram.createSocket({
      type: v6 ? 'udp6' : 'udp4',
      lookup: (
        address: string,
        _opts: unknown,
        cb: (err: Error | null, address: string, family: number) => void,
      ) => cb(null, address, family),
    } as dgram.SocketOptions);
    socket.on('error', () => {
      // send errors are reported through the send callbacks; nothing else can fail on an unconnected socket
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: 0, address: bindTo, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.unref();
    this.socket = socket;
  }

  /** Where the send socket is bound (null before open / after close). */
  localAddress(): { address: string; family: string; port: number } | null {
    return this.socket ? this.socket.address() : null;
  }

  private async resolve(): Promise<void> {
    if (this.looking) return;
    this.looking = true;
    this.lastLookupMs = Date.now();
    try {
      const r = await lookup(this.host, { family: 4 });
      this.address = r.address;
    } catch {
      // keep the previous address (or none: sends fail with ENOTFOUND and are counted as errors)
    } finally {
      this.looking = false;
    }
  }

  send(payload: string, cb: SendCallback): boolean {
    const socket = this.socket;
    if (socket === null || this.closed) {
      cb(errorWithCode('udp transport is not open', 'ERR_SOCKET_DGRAM_NOT_RUNNING'));
      return false;
    }
    const now = Date.now();
    if (!net.isIP(this.host) && now - this.lastLookupMs > (this.address === null ? 5000 : 60000))
      void this.resolve();
    if (this.address === null) {
      cb(errorWithCode(`cannot resolve ${this.host}`, 'ENOTFOUND'));
      return false;
    }
    this.inflight++;
    try {
      socket.send(payload, this.port, this.address, (err) => {
        this.inflight--;
        cb(err);
      });
      return true;
    } catch (err) {
      this.inflight--;
      cb(err as Error);
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

export class SharedTcp implements SharedTransport {
  readonly kind = 'tcp' as const;
  readonly target: string;
  private socket: net.Socket | null = null;
  private closed = false;
  private inflight = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private backoffMs = 250;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.target = `${host}:${port}`;
  }

  get inFlight(): number {
    return this.inflight;
  }

  /**
   * Starts connecting; resolves once connected, after the first failure, or after 2 s (a black-holed
   * collector must not hold up the producer's start). Until connected, writes queue up to
   * TCP_MAX_QUEUED_BYTES and then fail (counted as send errors).
   */
  open(): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      t.unref();
      this.connect(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private connect(done?: () => void): void {
    if (this.closed) {
      done?.();
      return;
    }
    const socket = net.connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    socket.unref();
    this.socket = socket;
    socket.once('connect', () => {
      this.backoffMs = 250;
      done?.();
      done = undefined;
    });
    socket.on('error', () => {
      // the 'close' that follows schedules the reconnect; pending write callbacks get the error
    });
    socket.once('close', () => {
      if (this.socket === socket) this.socket = null;
      done?.();
      done = undefined;
      if (!this.closed && this.reconnectTimer === null) {
        this.reconnectTimer = setTimeout(() => {
          this.reconnectTimer = null;
          this.connect();
        }, this.backoffMs);
        this.reconnectTimer.unref();
        this.backoffMs = Math.min(5000, this.backoffMs * 2);
      }
    });
  }

  send(payload: string, cb: SendCallback): boolean {
    const socket = this.socket;
    if (socket === null || socket.destroyed || this.closed) {
      cb(errorWithCode(`tcp ${this.target} is not connected`, 'ENOTCONN'));
      return false;
    }
    if (socket.writableLength > TCP_MAX_QUEUED_BYTES) {
      cb(errorWithCode(`tcp ${this.target}: ${socket.writableLength} bytes already queued`, 'ENOBUFS'));
      return false;
    }
    this.inflight++;
    socket.write(payload, (err) => {
      this.inflight--;
      cb(err);
    });
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const s = this.socket;
    this.socket = null;
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          s.destroy();
          resolve();
        }, 1000);
        s.end(() => {
          clearTimeout(t);
          s.destroy();
          resolve();
        });
      });
    }
  }
}

export function createTransport(kind: TransportKind, host: string, port: number): SharedTransport {
  return kind === 'udp' ? new SharedUdp(host, port) : new SharedTcp(host, port);
}

/**
 * The per-pod end of the socket: what a pod's hot-shots client sees as its `stream`. hot-shots' stream
 * transport appends '\n' to every payload; on UDP we strip it so the datagram is byte-for-byte what
 * hot-shots' own UDP transport would send, on TCP it is the line terminator hot-shots' TCP transport adds too.
 * Only the members hot-shots calls are implemented (write, destroy, destroyed, events).
 */
export class PodStream extends EventEmitter {
  destroyed = false;

  constructor(
    private readonly transport: SharedTransport,
    private readonly ledger: LedgerCounts,
  ) {
    super();
  }

  write(chunk: string | Buffer, cb?: SendCallback): boolean {
    let payload = typeof chunk === 'string' ? chunk : chunk.toString();
    if (this.transport.kind === 'udp' && payload.endsWith('\n')) payload = payload.slice(0, -1);
    if (this.transport.send(payload, cb ?? noop)) {
      this.ledger.datagrams++;
      this.ledger.bytes += Buffer.byteLength(payload);
    }
    return true;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    setImmediate(() => this.emit('close'));
  }
}

function noop(): void {}
