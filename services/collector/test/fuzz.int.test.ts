// Fuzz: >= 100,000 random and mutated datagrams (plus a TCP stream cut at random places) thrown at a
// running collector over loopback. Bounded in count and time, paced by flow control (the sender waits
// while the collector is more than a few hundred datagrams behind, so the kernel never has to drop).
// Then: it still answers, and its counts add up against the sender's own tally:
//   packets in = sent;  lines in = what was sent;  lines = accepted + dropped by reason + refused.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { describe, it } from 'node:test';
import { parseHostPort, Rng, silentLogger } from '@pushpull/common';
import { createCollector } from '../src/index.ts';
import { metrics, sendUdp, sleep, sum, waitFor } from '../testkit/helpers.ts';

const DATAGRAMS = 110_000;
const TCP_CHUNKS = 20_000;
const MAX_LINE = 512;
const MAX_PACKET = 4096;
const DEADLINE_MS = 45_000;

const NAMES = [
  'orders',
  'order.latency_ms',
  'order.rejects',
  'order.queue_depth',
  'heartbeat',
  'users',
  'x',
  'a-b.c',
];
const TYPES = ['c', 'g', 'ms', 'h', 'd', 's'];
const SPECIAL = Buffer.from(':|#@,=[]\n\\"+-.eE0123456789 \t\r');

function validLine(r: Rng): string {
  const type = r.pick(TYPES);
  const name = r.next() < 0.9 ? `${r.pick(NAMES)}.${type}` : r.pick(NAMES); // some type conflicts
  const pod = `p${r.int(0, 40)}`;
  let value: string;
  if (type === 's') value = `u${r.int(0, 99)}`;
  else if (type === 'ms' || type === 'h' || type === 'd')
    value = Array.from({ length: r.int(1, 3) }, () => (r.next() * 200).toFixed(r.int(0, 3))).join(':');
  else value = `${r.next() < 0.2 ? r.pick(['+', '-']) : ''}${r.int(0, 1000)}`;
  const rate = r.next() < 0.2 ? `|@${r.pick(['0.5', '0.1', '1', '0.01'])}` : '';
  switch (r.int(0, 5)) {
    case 0:
      return `${name},pod=${pod}:${value}|${type}${rate}`;
    case 1:
      return `${name}#pod=${pod},region=ap:${value}|${type}${rate}`;
    case 2:
      return `${name}.[pod=${pod}]tail:${value}|${type}${rate}`;
    default:
      return `${name}:${value}|${type}${rate}|#region:${r.pick(['ap', 'eu', 'us'])},pod:${pod}`;
  }
}

function validDatagram(r: Rng): Buffer {
  return Buffer.from(Array.from({ length: r.int(1, 15) }, () => validLine(r)).join('\n'));
}

function mutate(r: Rng, b: Buffer): Buffer {
  let out = Buffer.from(b);
  const n = r.int(1, 8);
  for (let i = 0; i < n && out.length > 0; i++) {
    const at = r.int(0, out.length - 1);
    switch (r.int(0, 6)) {
      case 0: // random byte
        out[at] = r.int(0, 255);
        break;
      case 1: // structural character
        out[at] = SPECIAL[r.int(0, SPECIAL.length - 1)]!;
        break;
      case 2: // high byte (UTF-8 trouble)
        out[at] = r.int(0x80, 0xff);
        break;
      case 3: // delete a range
        out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + r.int(1, 20)))]);
        break;
      case 4: // duplicate a range
        out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + r.int(1, 40)), out.subarray(at)]);
        break;
      case 5: // truncate
        out = out.subarray(0, at);
        break;
      default: // insert random bytes
        out = Buffer.concat([
          out.subarray(0, at),
          Buffer.from(Array.from({ length: r.int(1, 8) }, () => r.int(0, 255))),
          out.subarray(at),
        ]);
    }
  }
  return out;
}

function datagram(r: Rng): Buffer {
  const k = r.next();
  if (k < 0.3) return validDatagram(r);
  if (k < 0.7) return mutate(r, validDatagram(r));
  if (k < 0.8) return Buffer.from(Array.from({ length: r.int(0, 600) }, () => r.int(0, 255)));
  if (k < 0.9)
    return Buffer.from(
      Array.from(
        { length: r.int(1, 300) },
        () => SPECIAL[r.int(0, SPECIAL.length - 1)]! ^ (r.next() < 0.5 ? 0 : 0x20),
      ),
    );
  if (k < 0.995)
    return Buffer.from(
      `${validLine(r)}\n${'y'.repeat(r.int(MAX_LINE - 20, MAX_LINE + 200))}:1|c\n${validLine(r)}`,
    );
  if (k < 0.998) return Buffer.alloc(0);
  return Buffer.alloc(r.int(MAX_PACKET + 1, 9000), 'orders:1|c\n'); // over --max-packet-size
}

/** The sender's own tally of lines: non-empty '\n'-separated segments (of one datagram or a stream). */
class LineTally {
  lines = 0;
  private inLine = false;
  add(b: Buffer): this {
    for (let i = 0; i < b.length; i++) {
      if (b[i] === 10) {
        if (this.inLine) this.lines++;
        this.inLine = false;
      } else this.inLine = true;
    }
    return this;
  }
  end(): number {
    if (this.inLine) this.lines++;
    this.inLine = false;
    return this.lines;
  }
}
const countLines = (b: Buffer): number => new LineTally().add(b).end();

describe('fuzz', () => {
  it(`${DATAGRAMS} random and mutated datagrams + ${TCP_CHUNKS} TCP chunks: still answers, counts add up`, {
    timeout: 90_000,
  }, async (ctx) => {
    const started = Date.now();
    const c = createCollector(
      {
        statsdUdp: '127.0.0.1:0',
        statsdTcp: '127.0.0.1:0',
        http: '127.0.0.1:0',
        maxSeries: 3000,
        maxLineSize: MAX_LINE,
        maxPacketSize: MAX_PACKET,
        maxSetSize: 50,
      },
      { logger: silentLogger },
    );
    const a = await c.start();
    try {
      const r = new Rng(20240601);
      const st = c.ingest.stats;
      await sendUdp(a.udp, ['fuzz_canary:1|c']); // created before the fuzz fills the series limit
      assert.ok(await waitFor(() => st.packets[0] === 1));

      // UDP, flow-controlled: never more than ~256 datagrams ahead of the collector.
      const { host, port } = parseHostPort(a.udp);
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((res) => sock.connect(port, host, () => res()));
      let sent = 1;
      let expectedLines = 1;
      let expectedTooLarge = 0;
      while (sent <= DATAGRAMS) {
        assert.ok(
          Date.now() - started < DEADLINE_MS,
          `fuzz deadline: sent ${sent}, received ${st.packets[0]}`,
        );
        for (let i = 0; i < 64 && sent <= DATAGRAMS; i++) {
          const d = datagram(r);
          if (d.length > MAX_PACKET) expectedTooLarge++;
          else expectedLines += countLines(d);
          sock.send(d);
          sent++;
        }
        const behindSince = Date.now();
        while (sent - st.packets[0]! > 256 && Date.now() - behindSince < 2000) await sleep(1);
      }
      await new Promise<void>((res) => sock.close(() => res()));
      assert.ok(
        await waitFor(() => st.packets[0] === sent, 5000),
        `received ${st.packets[0]} of ${sent} datagrams`,
      );

      // TCP: the same kind of bytes as one stream, cut at random places.
      const t = parseHostPort(a.tcp!);
      const conn = net.connect(t.port, t.host);
      await new Promise<void>((res) => conn.once('connect', () => res()));
      const stream = new LineTally();
      for (let i = 0; i < TCP_CHUNKS; i++) {
        // each piece is a datagram's bytes cut in two; the second half ends the line
        const d = datagram(r);
        const cut = r.int(0, d.length);
        const head = d.subarray(0, cut);
        const tail = Buffer.concat([d.subarray(cut), Buffer.from('\n')]);
        stream.add(head).add(tail);
        conn.write(head);
        conn.write(tail);
        if (i % 500 === 0) await new Promise<void>((res) => conn.write('', () => res()));
      }
      await new Promise<void>((res) => conn.end(() => res()));
      const tcpLines = stream.end();
      assert.ok(
        await waitFor(() => st.lines[1] === tcpLines, 10_000),
        `tcp lines ${st.lines[1]} of ${tcpLines}`,
      );

      // It still answers, over HTTP, and the books balance.
      const h = parseHostPort(a.http);
      assert.equal(await (await fetch(`http://${h.host}:${h.port}/healthz`)).text(), 'ok');
      const m = await metrics(a.http);
      assert.equal(sum(m, 'collector_packets_total', { transport: 'udp' }), sent);
      assert.equal(sum(m, 'collector_packets_too_large_total', { transport: 'udp' }), expectedTooLarge);
      assert.equal(sum(m, 'collector_lines_total', { transport: 'udp' }), expectedLines);
      assert.equal(sum(m, 'collector_lines_total', { transport: 'tcp' }), tcpLines);
      const errors = m.filter((s) => s.name === 'collector_parse_errors_total');
      const dropped = errors.reduce((x, s) => x + s.value, 0);
      const accepted = sum(m, 'collector_lines_accepted_total');
      const refused = sum(m, 'collector_series_rejected_total');
      assert.equal(
        expectedLines + tcpLines,
        accepted + dropped + refused,
        'lines = accepted + dropped by reason + refused',
      );
      assert.ok(sum(m, 'collector_samples_total') >= accepted);
      assert.ok(sum(m, 'collector_series') <= 3000);
      const reasons = errors.filter((s) => s.value > 0).map((s) => s.labels.reason);
      assert.ok(reasons.length >= 10, `the fuzz reached many drop reasons: ${reasons.join(', ')}`);
      assert.ok(accepted > 100_000, `plenty of lines were accepted too (${accepted})`);
      ctx.diagnostic(
        `sent ${sent} datagrams (${expectedTooLarge} too large) + ${tcpLines} tcp lines; lines ${expectedLines + tcpLines} = ` +
          `accepted ${accepted} + dropped ${dropped} + refused ${refused}; ` +
          `reasons: ${errors.map((s) => `${s.labels.reason}=${s.value}`).join(' ')}`,
      );

      // And it still works normally.
      await sendUdp(a.udp, ['fuzz_canary:1|c']);
      assert.ok(await waitFor(async () => sum(await metrics(a.http), 'fuzz_canary') === 2));
      assert.ok(Date.now() - started < 60_000, 'finished well under a minute');
    } finally {
      await c.stop();
    }
  });
});
