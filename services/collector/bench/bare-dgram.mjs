#!/usr/bin/env node
// The benchmark's baseline receiver: a bare Node dgram socket that parses lines the obvious way
// (toString, split, indexOf, Number) and keeps nothing but counts. Same receive buffer as the others.
//   node bare-dgram.mjs --rcvbuf BYTES
// Prints {"udp":PORT,"count":HTTPPORT,"rcvbufKernel":N}; GET http://127.0.0.1:HTTPPORT/ -> {"packets","lines","bad"}.
import dgram from 'node:dgram';
import http from 'node:http';

const i = process.argv.indexOf('--rcvbuf');
const rcvbuf = i > 0 ? Number(process.argv[i + 1]) : 8 << 20;
let packets = 0;
let lines = 0;
let bad = 0;
let sum = 0;
const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: rcvbuf });
sock.on('message', (msg) => {
  packets++;
  for (const line of msg.toString('utf8').split('\n')) {
    if (line.length === 0) continue;
    const colon = line.indexOf(':');
    const pipe = line.indexOf('|', colon);
    if (colon <= 0 || pipe < 0) {
      bad++;
      continue;
    }
    const v = Number(line.slice(colon + 1, pipe));
    if (Number.isNaN(v)) bad++;
    else {
      lines++;
      sum += v;
    }
  }
});
sock.bind(0, '127.0.0.1', () => {
  const server = http.createServer((_req, res) => res.end(JSON.stringify({ packets, lines, bad, sum })));
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(
      `${JSON.stringify({ udp: sock.address().port, count: server.address().port, rcvbufKernel: sock.getRecvBufferSize() })}\n`,
    );
  });
});
process.on('SIGTERM', () => process.exit(0));
