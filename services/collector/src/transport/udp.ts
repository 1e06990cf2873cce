import dgram from 'node:dgram';
import { formatHostPort, type HostPort, LabError, type Logger } from '@pushpull/common';

// UDP edge: one socket, the receive buffer requested up front and read back (Linux caps SO_RCVBUF at
// net.core.rmem_max without an error, and getsockopt reports twice the granted size for bookkeeping).

export interface UdpListener {
  address: string;
  port: number;
  ipv6: boolean;
  rcvbufRequested: number;
  /** What the kernel granted, comparable with the request; the kernel default when none (null: unknown). */
  rcvbufGranted: number | null;
  /** Raw getsockopt(SO_RCVBUF) value (Linux: twice the granted size). */
  rcvbufKernel: number | null;
  close(): Promise<void>;
}

export function startUdp(
  at: HostPort,
  flag: string,
  rcvbuf: number,
  onDatagram: (msg: Buffer) => void,
  log: Logger,
): Promise<UdpListener> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({
      type: at.host.includes(':') ? 'udp6' : 'udp4',
      ...(rcvbuf > 0 ? { recvBufferSize: rcvbuf } : {}),
    });
    let bound = false;
    socket.on('error', (err) => {
      if (!bound) {
        socket.close();
        reject(
          new LabError('LAB_ERR_ADDRESS', `--${flag}: cannot bind ${formatHostPort(at)}: ${err.message}`, {
            flag,
            value: formatHostPort(at),
          }),
        );
        return;
      }
      log.warn('udp socket error', { error: err.message });
    });
    socket.on('message', onDatagram);
    socket.bind(at.port, at.host, () => {
      bound = true;
      const a = socket.address();
      let kernel: number | null = null;
      try {
        kernel = socket.getRecvBufferSize();
      } catch {
        kernel = null;
      }
      // Linux keeps (and getsockopt reports) twice what setsockopt asked for; without a request the
      // value is net.core.rmem_default as is.
      const granted =
        kernel === null ? null : rcvbuf > 0 && process.platform === 'linux' ? kernel / 2 : kernel;
      if (rcvbuf > 0 && granted !== null && granted < rcvbuf) {
        log.warn('udp receive buffer capped by the kernel', {
          rcvbufRequested: rcvbuf,
          rcvbufGranted: granted,
          hint: `raise net.core.rmem_max (sysctl -w net.core.rmem_max=${rcvbuf}) to get the full buffer`,
        });
      }
      let closed = false;
      resolve({
        address: formatHostPort({ host: a.address, port: a.port }),
        port: a.port,
        ipv6: a.family === 'IPv6',
        rcvbufRequested: rcvbuf,
        rcvbufGranted: granted,
        rcvbufKernel: kernel,
        close: () =>
          new Promise((done) => {
            if (closed) return done();
            closed = true;
            socket.close(() => done());
          }),
      });
    });
  });
}
