import dgram from 'node:dgram';
import { type HostPort, LabError, parseHostPort } from '@pushpull/common';

// The StatsD-over-UDP path of a partitionable producer on the process runtime (relays.ts). The producer sends
// its datagrams to the relay's loopback port; the relay forwards each one to the collector. During a cut the
// relay keeps its port and drops every datagram it receives: the producer's sends still succeed, nothing
// tells it, and the collector never sees them — what a real partition does to UDP. The relay counts what it
// received from the producer and what it forwarded, so "sent but not received" is a number, not a guess.

export interface UdpRelayStats {
  /** Datagrams received from the producer. */
  received: number;
  /** Datagrams handed on to the collector. */
  forwarded: number;
  /** Datagrams received while cut and dropped: sent by the producer, never received by the collector. */
  droppedInCut: number;
  /** Forwarding sends that failed (the collector's socket gone, a full send buffer). */
  forwardErrors: number;
  cuts: number;
}

/** Receive buffer asked for: the relay shares the lab's event loop, so give bursts room (read back). */
const RELAY_RCVBUF = 4 * 1024 * 1024;

export class UdpRelay {
  private socket: dgram.Socket | null = null;
  private port = 0;
  private readonly target: HostPort;
  private cutNow = false;
  readonly stats: UdpRelayStats = { received: 0, forwarded: 0, droppedInCut: 0, forwardErrors: 0, cuts: 0 };

  /** `target` is the collector's StatsD UDP HOST:PORT. */
  constructor(target: string) {
    this.target = parseHostPort(target, 'UDP relay target');
  }

  /** Binds 127.0.0.1 on a free port; HOST:PORT. */
  async listen(): Promise<string> {
    if (this.socket) return this.address();
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: RELAY_RCVBUF });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (e) =>
        reject(new LabError('LAB_ERR_CONFIG', `UDP relay cannot bind 127.0.0.1:0: ${e.message}`)),
      );
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    socket.on('error', () => {}); // after binding: forwarding errors are counted in the send callback
    socket.on('message', (msg) => this.relay(socket, msg));
    this.socket = socket;
    this.port = socket.address().port;
    return this.address();
  }

  address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get isCut(): boolean {
    return this.cutNow;
  }

  /** From now on every datagram is dropped (and counted). The port stays bound: sends never fail. */
  cut(): void {
    if (this.cutNow) return;
    this.cutNow = true;
    this.stats.cuts++;
  }

  heal(): void {
    this.cutNow = false;
  }

  /** Stops for good (stack teardown). */
  async close(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private relay(socket: dgram.Socket, msg: Buffer): void {
    this.stats.received++;
    if (this.cutNow) {
      this.stats.droppedInCut++;
      return;
    }
    socket.send(msg, this.target.port, this.target.host, (err) => {
      if (err) this.stats.forwardErrors++;
      else this.stats.forwarded++;
    });
  }
}
