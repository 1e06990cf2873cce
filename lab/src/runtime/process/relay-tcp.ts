import net from 'node:net';
import { type HostPort, LabError, parseHostPort } from '@pushpull/common';

// One TCP path of a partitionable producer on the process runtime (relays.ts): Prometheus' scrapes of its
// pods, its StatsD-over-TCP stream, or its OTLP/HTTP exports. Producers here share the host's loopback, so
// there is no network to cut; what a partition does to a TCP client is make the other end unreachable. The
// relay listens on its own loopback port and pipes every connection to the target. `cut()` closes the
// listener (new connections get ECONNREFUSED) and resets the connections it holds (a request or stream in
// flight sees ECONNRESET); `heal()` listens on the same port again, so the client keeps its address.
// Both errors are ones the clients retry (the OpenTelemetry exporter, the producer's StatsD reconnect,
// Prometheus' next scrape) — against a peer that is really not there.

export interface TcpRelayStats {
  /** Connections accepted and piped to the target. */
  connections: number;
  /** Connections reset by a cut (an export, a scrape or a StatsD stream open at that moment). */
  resetByCut: number;
  /** Connections that arrived before the target was known (reset at once). */
  beforeTarget: number;
  cuts: number;
}

export class TcpRelay {
  private server: net.Server | null = null;
  private port = 0;
  private target: HostPort | null = null;
  /** Open client connections → their upstream connection to the target. */
  private readonly open = new Map<net.Socket, net.Socket>();
  readonly stats: TcpRelayStats = { connections: 0, resetByCut: 0, beforeTarget: 0, cuts: 0 };

  /**
   * `target` is HOST:PORT, or null when it is only known later (a producer's HTTP port, bound after the
   * relay's address was handed to it): `setTarget` then.
   */
  constructor(
    target: string | null,
    private readonly what = 'relay',
  ) {
    if (target !== null) this.setTarget(target);
  }

  setTarget(target: string): void {
    this.target = parseHostPort(target, `${this.what} target`);
  }

  /** Starts listening on 127.0.0.1 (a free port the first time, the same one after a cut); HOST:PORT. */
  async listen(): Promise<string> {
    if (this.server) return this.address();
    const server = net.createServer((c) => this.pipe(c));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) =>
        reject(
          new LabError(
            'LAB_ERR_CONFIG',
            `${this.what} cannot listen on 127.0.0.1:${this.port}: ${e.message}`,
          ),
        ),
      );
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    server.on('error', () => {}); // after listening: nothing to report (connections have their own handlers)
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this.address();
  }

  address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get isCut(): boolean {
    return this.server === null && this.port !== 0;
  }

  /** The target becomes unreachable: refuse new connections, reset the open ones. */
  async cut(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    this.stats.cuts++;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.stats.resetByCut += this.open.size;
    for (const [c, u] of this.open) {
      reset(c);
      u.destroy();
    }
    this.open.clear();
    await closed;
  }

  /** Reachable again, on the same port (the client keeps its configured address). */
  async heal(): Promise<void> {
    await this.listen();
  }

  /** Stops for good (stack teardown). */
  async close(): Promise<void> {
    await this.cut();
    this.port = 0;
  }

  private pipe(client: net.Socket): void {
    const target = this.target;
    if (target === null) {
      this.stats.beforeTarget++;
      client.on('error', () => {});
      reset(client);
      return;
    }
    this.stats.connections++;
    const upstream = net.connect(target.port, target.host);
    this.open.set(client, upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.open.delete(client);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** An RST to the client where the connection is still open both ways (else a plain close is all there is). */
function reset(c: net.Socket): void {
  if (c.readyState === 'open' && !c.destroyed) c.resetAndDestroy();
  else c.destroy();
}
