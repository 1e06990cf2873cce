import net from 'node:net';
import { formatHostPort, type HostPort, LabError } from '@pushpull/common';

// TCP edge: newline-delimited StatsD. A line may arrive split across reads; the framer keeps the partial
// tail (bounded by the max line size: a longer line is discarded up to its newline and counted once).

export class LineFramer {
  private pending: Buffer | null = null;
  private discarding = false;

  constructor(
    private readonly maxLineSize: number,
    /** Called with whole lines: buf[start, end) is one or more lines separated by '\n'. */
    private readonly onLines: (buf: Buffer, start: number, end: number) => void,
    /** Called once per line that exceeded the limit before its newline arrived. */
    private readonly onOverlong: () => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    if (this.pending !== null || this.discarding) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        if (this.discarding) return;
        const pending = this.pending!;
        if (pending.length + chunk.length > this.maxLineSize) {
          this.pending = null;
          this.discarding = true;
        } else this.pending = Buffer.concat([pending, chunk]);
        return;
      }
      if (this.discarding) {
        this.discarding = false;
        this.onOverlong();
      } else {
        const line = Buffer.concat([this.pending!, chunk.subarray(0, nl)]);
        this.pending = null;
        this.onLines(line, 0, line.length);
      }
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(10);
    if (last >= start) {
      if (last > start) this.onLines(chunk, start, last);
      start = last + 1;
    }
    if (start < chunk.length) {
      if (chunk.length - start > this.maxLineSize) this.discarding = true;
      else this.pending = Buffer.from(chunk.subarray(start));
    }
  }

  /** End of stream: a final line without newline still counts. */
  end(): void {
    if (this.discarding) this.onOverlong();
    else if (this.pending !== null && this.pending.length > 0)
      this.onLines(this.pending, 0, this.pending.length);
    this.pending = null;
    this.discarding = false;
  }

  /**
   * The connection was reset: a last line without newline is not known to be whole, so it is not applied;
   * returns 1 when such a line was pending (the caller counts it as `truncated_line`), else 0.
   */
  abort(): number {
    const cut = this.discarding || (this.pending !== null && this.pending.length > 0) ? 1 : 0;
    this.pending = null;
    this.discarding = false;
    return cut;
  }
}

export interface TcpListener {
  address: string;
  /** Connections accepted so far. */
  connections(): number;
  /** Connections open now. */
  open(): number;
  /** Connections refused because --max-tcp-connections were open (the kernel accepted, Node closed at once). */
  refused(): number;
  /** Connections closed by the collector after --tcp-idle-timeout without data. */
  idleClosed(): number;
  /** Stops accepting, flushes every connection's partial line, closes them. */
  close(): Promise<void>;
}

export interface TcpHandlers {
  onChunk(bytes: number): void;
  onLines(buf: Buffer, start: number, end: number): void;
  onOverlong(): void;
  /** A connection was reset with an unterminated last line (dropped, counted). */
  onTruncated(): void;
}

export interface TcpLimits {
  maxLineSize: number;
  maxConnections: number;
  /** Milliseconds without data after which a connection is closed (0 = never). */
  idleTimeoutMs: number;
}

export function startTcp(
  at: HostPort,
  flag: string,
  limits: TcpLimits,
  h: TcpHandlers,
): Promise<TcpListener> {
  return new Promise((resolve, reject) => {
    const open = new Map<net.Socket, LineFramer>();
    let accepted = 0;
    let refused = 0;
    let idleClosed = 0;
    const server = net.createServer((socket) => {
      accepted++;
      const framer = new LineFramer(limits.maxLineSize, h.onLines, h.onOverlong);
      open.set(socket, framer);
      // Idle connections hold a slot of --max-tcp-connections: without a timeout, 1,024 silent
      // connections lock every new sender out for good.
      if (limits.idleTimeoutMs > 0) {
        socket.setTimeout(limits.idleTimeoutMs, () => {
          idleClosed++;
          framer.end(); // the sender's last partial line still counts, as at end of stream
          open.delete(socket);
          socket.destroy();
        });
      }
      socket.on('data', (chunk: Buffer) => {
        h.onChunk(chunk.length);
        framer.push(chunk);
      });
      socket.on('end', () => {
        framer.end();
        socket.end();
      });
      socket.on('error', () => {
        // A reset: the complete lines are already counted; a pending last line is dropped and counted.
        if (framer.abort() > 0) h.onTruncated();
      });
      socket.on('close', () => open.delete(socket));
    });
    server.maxConnections = limits.maxConnections;
    // Emitted for every connection Node closes because maxConnections are open: counted, so a sender
    // locked out is visible (its lines are not: they were never read).
    server.on('drop', () => {
      refused++;
    });
    server.once('error', (err) => {
      reject(
        new LabError('LAB_ERR_ADDRESS', `--${flag}: cannot listen on ${formatHostPort(at)}: ${err.message}`, {
          flag,
          value: formatHostPort(at),
        }),
      );
    });
    server.listen(at.port, at.host, () => {
      server.on('error', () => {});
      const a = server.address() as net.AddressInfo;
      resolve({
        address: formatHostPort({ host: a.address, port: a.port }),
        connections: () => accepted,
        open: () => open.size,
        refused: () => refused,
        idleClosed: () => idleClosed,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            for (const [socket, framer] of open) {
              socket.pause();
              framer.end();
              socket.destroy();
            }
            open.clear();
          }),
      });
    });
  });
}
