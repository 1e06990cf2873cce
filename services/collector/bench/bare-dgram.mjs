#!/usr/bin/env node
// The benchmark's baseline receiver: a bare Node dgram socket that parses lines the obvious way
// (toString, split, indexOf, Number) and keeps nothing but counts. Same receive buffer as the others.
//   node bare-dgram.mjs --rcvbuf BYTES [--workers N]
// Prints {"udp":PORT,"count":HTTPPORT,"rcvbufKernel":N,"pids":[...]};
// GET http://127.0.0.1:HTTPPORT/ -> {"packets","lines","bad"}.
//
// --workers N (N > 1) is the "scale across cores" experiment: node:cluster workers bind one port, so the
// primary owns one socket and hands its handle to every worker; all of them read the same socket (the
// kernel wakes one reader per datagram). Counts are asked of every worker at each GET, so a count is never
// stale. Node 20's dgram has no SO_REUSEPORT, so this shared socket is the only way to put several cores on
// one UDP port from JavaScript.
import cluster from 'node:cluster';
import dgram from 'node:dgram';
import http from 'node:http';

const flag = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const rcvbuf = flag('--rcvbuf', 8 << 20);
const workers = flag('--workers', 1);

/** Binds the counting socket; resolves with it once bound. */
function receive(port, counts) {
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: rcvbuf });
  sock.on('message', (msg) => {
    counts.packets++;
    for (const line of msg.toString('utf8').split('\n')) {
      if (line.length === 0) continue;
      const colon = line.indexOf(':');
      const pipe = line.indexOf('|', colon);
      if (colon <= 0 || pipe < 0) {
        counts.bad++;
        continue;
      }
      const v = Number(line.slice(colon + 1, pipe));
      if (Number.isNaN(v)) counts.bad++;
      else {
        counts.lines++;
        counts.sum += v;
      }
    }
  });
  return new Promise((resolve) => sock.bind(port, '127.0.0.1', () => resolve(sock)));
}

function serveCounts(read, udpPort, rcvbufKernel, pids) {
  const server = http.createServer((_req, res) => {
    read().then((c) => res.end(JSON.stringify(c)));
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(
      `${JSON.stringify({ udp: udpPort, count: server.address().port, rcvbufKernel, pids })}\n`,
    );
  });
}

process.on('SIGTERM', () => process.exit(0));

if (workers <= 1) {
  const counts = { packets: 0, lines: 0, bad: 0, sum: 0 };
  const sock = await receive(0, counts);
  serveCounts(async () => counts, sock.address().port, sock.getRecvBufferSize(), [process.pid]);
} else if (cluster.isPrimary) {
  // Every worker binds port 0: cluster creates the socket once, in the primary, keyed by address and port,
  // so all workers share that one socket and report the same port (checked, as the experiment rests on it).
  const ws = Array.from({ length: workers }, () => cluster.fork());
  const bound = await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
  if (new Set(bound.map((b) => b.port)).size !== 1)
    throw new Error(`workers did not share one socket: ports ${bound.map((b) => b.port).join(', ')}`);
  let seq = 0;
  /** Asks every worker for its counts now (never a stale total) and adds them up. */
  const read = async () => {
    const id = ++seq;
    const all = await Promise.all(
      ws.map(
        (w) =>
          new Promise((r) => {
            const on = (m) => {
              if (m.id !== id) return;
              w.off('message', on);
              r(m.counts);
            };
            w.on('message', on);
            w.send({ id });
          }),
      ),
    );
    const total = { packets: 0, lines: 0, bad: 0, sum: 0 };
    for (const c of all) for (const k of Object.keys(total)) total[k] += c[k];
    return total;
  };
  process.removeAllListeners('SIGTERM');
  process.on('SIGTERM', () => {
    for (const w of ws) w.kill('SIGKILL');
    process.exit(0);
  });
  serveCounts(
    read,
    bound[0].port,
    bound[0].rcvbufKernel,
    ws.map((w) => w.process.pid),
  );
} else {
  const counts = { packets: 0, lines: 0, bad: 0, sum: 0 };
  const sock = await receive(0, counts);
  process.on('message', (m) => process.send({ id: m.id, counts }));
  process.send({ port: sock.address().port, rcvbufKernel: sock.getRecvBufferSize() });
  process.on('disconnect', () => process.exit(0));
}
