import net from 'node:net';
import { LabError } from '@pushpull/common';

// A partition for OTLP on the process runtime. Producers here share the host's loopback, so there is no
// network to cut; what a partition does to an OTLP exporter is make the receiver unreachable. Each OTLP
// producer of a (non-persistent) process stack therefore sends through its own loopback TCP proxy to the
// collector's OTLP port. `cut()` closes the proxy's listener (new connections get ECONNREFUSED) and destroys
// the connections it holds (an export in flight sees ECONNRESET); `heal()` listens on the same port again.
// Both errors are ones the OpenTelemetry exporter treats as retryable, so its retries really happen —
// against a receiver that is really not there — and the producer's ledger counts them.

export interface OtlpProxyStats {
  /** Connections accepted and piped to the receiver. */
  connections: number;
  /** Connections destroyed by a cut (an export or keep-alive socket open at that moment). */
  destroyedByCut: number;
  cuts: number;
}

export class OtlpProxy {
  private server: net.Server | null = null;
  private port = 0;
  /** Open client connections → their upstream connection to the receiver. */
  private readonly open = new Map<net.Socket, net.Socket>();
  readonly stats: OtlpProxyStats = { connections: 0, destroyedByCut: 0, cuts: 0 };

  /** `target` is the receiver's HOST:PORT. */
  constructor(private readonly target: string) {}

  /** Starts listening on 127.0.0.1 (a free port the first time, the same one after a cut); HOST:PORT. */
  async listen(): Promise<string> {
    if (this.server) return this.address();
    const server = net.createServer((c) => this.pipe(c));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) =>
        reject(
          new LabError('LAB_ERR_CONFIG', `OTLP proxy cannot listen on 127.0.0.1:${this.port}: ${e.message}`),
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

  /** The receiver becomes unreachable: refuse new connections, reset the open ones. */
  async cut(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    this.stats.cuts++;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.stats.destroyedByCut += this.open.size;
    for (const [c, u] of this.open) {
      c.destroy();
      u.destroy();
    }
    this.open.clear();
    await closed;
  }

  /** Reachable again, on the same port (the producer keeps its configured address). */
  async heal(): Promise<void> {
    await this.listen();
  }

  /** Stops for good (stack teardown). */
  async close(): Promise<void> {
    await this.cut();
    this.port = 0;
  }

  private pipe(client: net.Socket): void {
    this.stats.connections++;
    const sep = this.target.lastIndexOf(':');
    const upstream = net.connect(Number(this.target.slice(sep + 1)), this.target.slice(0, sep));
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
