#!/usr/bin/env node
// Paced, bounded UDP sender for the collector benchmark (plain JS: no loader in the hot loop).
//   node udp-sender.mjs --port P --rate R --count N --lines L [--seed S] [--host 127.0.0.1]
// Sends exactly N datagrams of L realistic order-router lines each, at R datagrams/s, to HOST:P over a
// connected UDP socket, then prints one JSON line: {"sent","sendErrors","elapsedMs","achievedRate","bytes"}.
// Pacing: a deadline schedule (datagram k is due at k/R s); bursts are capped so a late start never
// turns into a flood. Only loopback is allowed.
import dgram from 'node:dgram';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a.startsWith('--')) args[a.slice(2)] = process.argv[++i];
}
const host = args.host ?? '127.0.0.1';
if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
  console.error(`udp-sender: refusing to send to ${host}: loopback only`);
  process.exit(2);
}
const port = Number(args.port);
const rate = Number(args.rate);
const count = Math.floor(Number(args.count));
const lines = Number(args.lines ?? 1);
let seed = Number(args.seed ?? 42) >>> 0 || 1;
if (!(port > 0 && rate > 0 && count > 0 && count <= 50_000_000 && lines >= 1 && lines <= 100)) {
  console.error('usage: udp-sender.mjs --port P --rate R --count N --lines L [--seed S]');
  process.exit(2);
}

function rnd() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];

// Realistic order-router traffic (the producer's contract lines): 50 pods, 3 regions, 8 instruments.
const REGIONS = ['ap-south-1a', 'ap-south-1b', 'ap-south-1c'];
const INSTRUMENTS = [
  'NIFTY24JUNFUT',
  'BANKNIFTY24JUNFUT',
  'RELIANCE',
  'TCS',
  'INFY',
  'HDFCBANK',
  'SBIN',
  'ITC',
];
export function orderLine() {
  const p = Math.floor(rnd() * 50);
  const pod = `order-router-p${p}`;
  const region = REGIONS[p % 3];
  const k = rnd();
  if (k < 0.45)
    return `orders:1|c|#region:${region},side:${pick(['buy', 'sell'])},instrument:${pick(INSTRUMENTS)},pod:${pod}`;
  if (k < 0.85) return `order.latency_ms:${(5 + rnd() * 120).toFixed(1)}|ms|#region:${region},pod:${pod}`;
  if (k < 0.9)
    return `order.rejects:1|c|#region:${region},side:${pick(['buy', 'sell'])},instrument:${pick(INSTRUMENTS)},pod:${pod}`;
  if (k < 0.98) return `order.queue_depth:${Math.floor(rnd() * 64)}|g|#pod:${pod}`;
  return `heartbeat:1|c|#pod:${pod}`;
}

const POOL = 4096;
const pool = [];
let poolBytes = 0;
for (let i = 0; i < POOL; i++) {
  const b = Buffer.from(Array.from({ length: lines }, orderLine).join('\n'));
  pool.push(b);
  poolBytes += b.length;
}

const sock = dgram.createSocket({ type: host === '::1' ? 'udp6' : 'udp4', sendBufferSize: 4 << 20 });
let sendErrors = 0;
sock.on('error', () => {
  sendErrors++;
});
sock.connect(port, host, () => {
  const perNs = rate / 1e9;
  const BURST = Math.max(64, Math.ceil(rate / 500)); // at most ~2 ms of traffic at once
  let sent = 0;
  let bytes = 0;
  let i = 0;
  let t0 = 0n;
  let tLast = 0n;
  const loop = () => {
    while (sent < count) {
      const elapsed = Number(process.hrtime.bigint() - t0);
      let due = Math.floor(elapsed * perNs) + 1 - sent;
      if (due <= 0) {
        // Ahead of schedule: sleep ~1 ms if the next datagram is that far away, else just yield.
        if (sent / perNs - elapsed > 1e6) setTimeout(loop, 1);
        else setImmediate(loop);
        return;
      }
      if (due > BURST) due = BURST;
      if (due > count - sent) due = count - sent;
      for (let k = 0; k < due; k++) {
        const b = pool[i];
        i = (i + 1) & (POOL - 1);
        sock.send(b);
        bytes += b.length;
      }
      sent += due;
      tLast = process.hrtime.bigint();
      if ((sent & 0x3fff) < due) return setImmediate(loop);
    }
    const elapsedMs = Number(tLast - t0) / 1e6;
    // Report at once (the orchestrator measures the receiver's backlog at this moment), close after.
    process.stdout.write(
      `${JSON.stringify({ sent, sendErrors, elapsedMs, achievedRate: elapsedMs > 0 ? (sent / elapsedMs) * 1000 : rate, bytes, meanDatagramBytes: poolBytes / POOL })}\n`,
    );
    setTimeout(() => sock.close(), 50);
  };
  t0 = process.hrtime.bigint();
  loop();
});
