// lab:cost against the real collector (createCollector from @pushpull/collector) on 127.0.0.1, port 0.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createCollector } from '@pushpull/collector';
import { parseHostPort, silentLogger, systemClock } from '@pushpull/common';
import { runCostCommand } from '../src/commands/cost/cli.ts';
import {
  type CollectorEndpoint,
  type CostReport,
  createOtlpRecorder,
  defaultCollectorBin,
  formatCostTable,
  makeCheckoutEvents,
  readCollectorCounts,
  runCostExperiment,
} from '../src/cost/index.ts';

interface Totals {
  udp: number;
  checkout: number;
  /** collector_otlp_points_total{outcome="accepted"} and the receiver's checkout_otlp series. */
  otlpAccepted: number;
  checkoutOtlp: number;
}

/** The test's own reading of the collector, independent of the code under test. */
async function collectorTotals(httpUrl: string): Promise<Totals> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const t: Totals = { udp: 0, checkout: 0, otlpAccepted: 0, checkoutOtlp: 0 };
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})?\s+([0-9.e+]+)/.exec(line);
    if (!m) continue;
    if (m[1] === 'collector_packets_total' && m[2]?.includes('transport="udp"')) t.udp += Number(m[3]);
    if (m[1] === 'checkout' || m[1] === 'checkout_total') t.checkout += Number(m[3]);
    if (m[1] === 'collector_otlp_points_total' && m[2]?.includes('outcome="accepted"'))
      t.otlpAccepted += Number(m[3]);
    if (m[1] === 'checkout_otlp' || m[1] === 'checkout_otlp_total') t.checkoutOtlp += Number(m[3]);
  }
  return t;
}

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('lab:cost against a real collector on loopback', () => {
  let stop: () => Promise<void>;
  let endpoint: CollectorEndpoint;
  let report: CostReport;
  let beforeTotals: Totals;
  let afterTotals: Totals;
  const EVENTS = 200;

  before(async () => {
    const collector = createCollector(
      { statsdUdp: '127.0.0.1:0', statsdTcp: 'off', http: '127.0.0.1:0', otlpHttp: '127.0.0.1:0' },
      { logger: silentLogger },
    );
    const bound = await collector.start();
    stop = () => collector.stop();
    const http = parseHostPort(bound.http);
    endpoint = {
      kind: 'inproc',
      udp: parseHostPort(bound.udp),
      httpUrl: `http://127.0.0.1:${http.port}`,
      otlpUrl: `http://127.0.0.1:${parseHostPort(bound.otlp!).port}`,
      rcvbufGranted: bound.rcvbufGranted,
      stop,
    };
    beforeTotals = await collectorTotals(endpoint.httpUrl);
    report = await runCostExperiment(
      { events: EVENTS, repeats: 1, warmup: 500, seed: 5, defaultMetrics: true, settleTimeoutMs: 5000 },
      {
        clock: systemClock,
        collector: endpoint,
        readCounts: readCollectorCounts,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      },
    );
    afterTotals = await collectorTotals(endpoint.httpUrl);
  });
  after(async () => {
    await stop?.();
  });

  it('per-event push sends exactly one datagram per event in every timed run (cold + warm)', () => {
    assert.equal(report.timedRuns, 2);
    assert.equal(report.push.perRun.length, 2);
    for (const run of report.push.perRun) assert.equal(run.sent, EVENTS);
    assert.equal(report.push.datagrams.sent, 2 * EVENTS);
    assert.equal(report.push.eventsDelivered.recorded, 2 * EVENTS);
    assert.equal(report.push.datagrams.sendErrors, 0);
  });

  it('datagrams received = what the collector counted (collector_packets_total{transport="udp"})', () => {
    const rows = [report.push, report.pushBuffered, report.pushAggregated];
    const reported = rows.reduce((a, r) => a + r.datagrams.received, 0) + report.warmupTraffic.received;
    assert.equal(reported, afterTotals.udp - beforeTotals.udp);
    for (const r of rows) {
      assert.ok(r.datagrams.received <= r.datagrams.sent, `${r.mode}: received ${r.datagrams.received}`);
      assert.ok(r.datagrams.received > 0, `${r.mode}: the collector counted something`);
    }
  });

  it('events delivered = the increase of the collector’s checkout series', () => {
    const rows = [report.push, report.pushBuffered, report.pushAggregated];
    const delivered = rows.reduce((a, r) => a + r.eventsDelivered.delivered, 0);
    assert.equal(delivered + report.warmupTraffic.delivered, afterTotals.checkout - beforeTotals.checkout);
    assert.ok(delivered <= 3 * 2 * EVENTS);
  });

  it('the warm-up sent traffic too, and it is accounted for separately', () => {
    assert.ok(report.warmupTraffic.sent > 500, 'per-event alone sends one datagram per warm-up event');
    assert.ok(report.warmupTraffic.received <= report.warmupTraffic.sent);
    assert.ok(report.warmupTraffic.delivered <= 3 * 500);
  });

  it('buffered and aggregated modes send fewer datagrams for the same events', () => {
    for (const run of report.pushBuffered.perRun) assert.ok(run.sent < EVENTS / 5);
    for (const run of report.pushAggregated.perRun) assert.equal(run.sent, 1, 'one send per flush');
  });

  it('OTLP: every run records each event once with the SDK and exports one point per series it saw', () => {
    const series = new Set(
      makeCheckoutEvents(EVENTS, 5).map((e) => `${e.labels.region}/${e.labels.payment}`),
    );
    const o = report.otlp;
    assert.equal(o.perRun.length, 2);
    for (const c of [o.cost, o.cold]) {
      assert.equal(c.count, EVENTS);
      assert.ok(c.p50Ns > 0 && c.p99Ns >= c.p50Ns);
    }
    for (const run of o.perRun) {
      assert.equal(run.exports, 1);
      assert.equal(run.exportsFailed, 0);
      assert.equal(run.pointsExported, series.size, 'cumulative: one point per series');
      assert.equal(run.ordersRecorded, EVENTS);
      assert.equal(run.ordersExported, EVENTS, 'the cumulative total grew by this run’s orders');
    }
    assert.deepEqual(o.errors, []);
    assert.ok(Math.abs(report.ratioOtlp - o.cost.p99Ns / report.pull.cost.p99Ns) < 1e-9);
  });

  it('OTLP: the real collector accepted every exported point and holds every order (its own counters)', () => {
    const o = report.otlp;
    for (const run of o.perRun) {
      assert.equal(run.pointsAccepted, run.pointsExported);
      assert.equal(run.pointsRefused, 0);
      assert.equal(run.ordersDelivered, EVENTS);
      assert.equal(run.requestsOk, 1);
    }
    const w = report.otlpWarmup;
    assert.equal(w.exports, 2, 'warm-up: one export per 250 events');
    assert.equal(w.pointsAccepted, w.pointsExported);
    // The test's own reading of the receiver: collector_otlp_points_total and the checkout_otlp series.
    assert.equal(
      o.totals.pointsAccepted + w.pointsAccepted,
      afterTotals.otlpAccepted - beforeTotals.otlpAccepted,
    );
    assert.ok(o.totals.pointsAccepted > 0);
    assert.equal(afterTotals.checkoutOtlp - beforeTotals.checkoutOtlp, 2 * EVENTS + 500);
    assert.equal(o.totals.ordersDelivered + w.ordersDelivered, 2 * EVENTS + 500);
  });

  it('OTLP: one export per interval is timed step by step', () => {
    const e = report.otlp.export;
    assert.ok(e.collectNs > 0 && e.serializeNs > 0 && e.cpuNs > 0);
    assert.ok(e.wallNs >= e.collectNs + e.serializeNs, 'the wall time covers collect and serialise');
    assert.ok(e.wallNsCold > 0 && e.cpuNsCold > 0);
    assert.equal(e.points, report.otlp.perRun[1]!.pointsExported);
  });

  it('OTLP: an export that cannot collect (provider shut down) is a failed sample, not a crash', async () => {
    const rec = createOtlpRecorder({ url: endpoint.otlpUrl, timeoutMs: 1000 }, systemClock);
    rec.record(makeCheckoutEvents(1, 1)[0]!);
    await rec.shutdown();
    const s = await rec.exportOnce();
    assert.equal(s.ok, false);
    assert.equal(s.points, 0);
    assert.match(s.error ?? '', /^collect: /);
  });

  it('the table has the OTLP row and what the receiver counted', () => {
    const text = formatCostTable(report);
    assert.match(text, /push {3}OTel SDK counter\.add, OTLP\/HTTP export .* 400 of 400\n/);
    const t = report.otlp.totals;
    assert.match(
      text,
      new RegExp(`OTLP at the receiver: ${t.pointsAccepted} of ${t.pointsExported} points accepted`),
    );
    assert.match(text, /OTLP\/pull: \d/);
  });

  it('costs are positive, the ratio is push p99 / pull p99, the scrape has a body', () => {
    const rows = [report.pull, report.push, report.pushBuffered, report.pushAggregated];
    for (const c of rows.flatMap((r) => [r.cost, r.cold])) {
      assert.equal(c.count, EVENTS);
      assert.ok(c.p50Ns > 0 && c.p99Ns >= c.p50Ns && c.meanNs > 0);
    }
    assert.ok(Math.abs(report.ratio - report.push.cost.p99Ns / report.pull.cost.p99Ns) < 1e-9);
    assert.ok(Math.abs(report.ratioCold - report.push.cold.p99Ns / report.pull.cold.p99Ns) < 1e-9);
    assert.ok(report.scrape.bytes > 1000 && report.scrape.ms > 0);
    assert.equal(report.collector.udp, `127.0.0.1:${endpoint.udp.port}`);
  });
});

describe('lab:cost against a collector with a tiny receive buffer (forced loss)', () => {
  // In-process, the collector cannot read while the timed loop runs, so 400 datagrams must all fit in its
  // socket buffer; 4 KiB (the kernel doubles it, and enforces a floor) holds only a few dozen. The report
  // must then show the loss exactly as the collector counted it, not what was sent.
  it('reports received < sent, equal to the collector’s own count', async () => {
    const collector = createCollector(
      { statsdUdp: '127.0.0.1:0', statsdTcp: 'off', http: '127.0.0.1:0', rcvbuf: '4096' },
      { logger: silentLogger },
    );
    const bound = await collector.start();
    try {
      const endpoint: CollectorEndpoint = {
        kind: 'inproc',
        udp: parseHostPort(bound.udp),
        httpUrl: `http://127.0.0.1:${parseHostPort(bound.http).port}`,
        // Nothing listens here: every OTLP export fails, and the row must say so, not hang or crash.
        otlpUrl: `http://127.0.0.1:${await closedPort()}`,
        rcvbufGranted: bound.rcvbufGranted,
        stop: () => collector.stop(),
      };
      const t0 = await collectorTotals(endpoint.httpUrl);
      const r = await runCostExperiment(
        { events: 400, repeats: 1, warmup: 0, seed: 6, defaultMetrics: false, settleTimeoutMs: 3000 },
        {
          clock: systemClock,
          collector: endpoint,
          readCounts: readCollectorCounts,
          sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
        },
      );
      const t1 = await collectorTotals(endpoint.httpUrl);
      assert.deepEqual(
        r.push.perRun.map((x) => x.sent),
        [400, 400],
      );
      for (const run of r.push.perRun)
        assert.ok(run.received < 400, `expected loss, got ${run.received} of 400`);
      assert.ok(r.push.eventsDelivered.delivered < 800);
      const rows = [r.push, r.pushBuffered, r.pushAggregated];
      assert.equal(
        rows.reduce((a, x) => a + x.datagrams.received, 0),
        t1.udp - t0.udp,
      );
      assert.equal(
        rows.reduce((a, x) => a + x.eventsDelivered.delivered, 0),
        t1.checkout - t0.checkout,
      );
      // The unreachable OTLP receiver: two exports, both failed after the exporter's retries, none accepted.
      const o = r.otlp.totals;
      assert.deepEqual([o.exports, o.exportsFailed, o.pointsAccepted, o.ordersExported], [2, 2, 0, 0]);
      assert.equal(o.pointsExported, 24);
      assert.equal(t1.otlpAccepted - t0.otlpAccepted, 0);
      assert.ok(r.otlp.errors.length > 0, 'the exporter’s error is reported');
      assert.match(
        formatCostTable(r),
        /0 of 24 points accepted .*\(2 failed\).*orders: 800 recorded, 0 exported, 0 delivered/,
      );
    } finally {
      await collector.stop();
    }
  });
});

describe('lab:cost command --json', () => {
  it('runs end to end with its own in-process collector and prints the report', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCostCommand(['--events', '100', '--repeats', '1', '--warmup', '200', '--json'], {
      out: (s) => out.push(s),
      err: (s) => err.push(s),
    });
    assert.equal(code, 0, err.join(''));
    const j = JSON.parse(out.join(''));
    for (const k of [
      'events',
      'repeats',
      'collector',
      'pull',
      'push',
      'pushBuffered',
      'pushAggregated',
      'otlp',
      'otlpWarmup',
      'ratioOtlp',
      'ratio',
      'ratioCold',
      'timedRuns',
      'scrape',
    ])
      assert.ok(k in j, `missing ${k}`);
    assert.equal(j.events, 100);
    assert.equal(j.collector.kind, 'inproc');
    assert.deepEqual(
      j.push.perRun.map((x: { sent: number }) => x.sent),
      [100, 100],
    );
    for (const k of ['p50Ns', 'p99Ns', 'meanNs']) {
      assert.equal(typeof j.pull.cost[k], 'number');
      assert.equal(typeof j.push.cold[k], 'number');
    }
    for (const k of ['sent', 'received']) assert.equal(typeof j.push.datagrams[k], 'number');
    assert.deepEqual(Object.keys(j.scrape).sort(), ['bytes', 'ms', 'msCold', 'msRepeats']);
    assert.equal(j.otlp.totals.ordersDelivered, 200, 'the command’s own collector has its OTLP receiver on');
    assert.ok(j.otlp.totals.pointsAccepted > 0);
  });

  const bin = defaultCollectorBin();
  it('--collector spawn runs against the built collector binary', {
    skip: bin ? false : 'not built',
  }, async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCostCommand(
      ['--events', '100', '--repeats', '1', '--warmup', '0', '--json', '--collector', 'spawn'],
      {
        out: (s) => out.push(s),
        err: (s) => err.push(s),
      },
    );
    assert.equal(code, 0, err.join(''));
    const j = JSON.parse(out.join(''));
    assert.equal(j.collector.kind, 'spawn');
    assert.equal(j.push.datagrams.sent, 200);
    assert.ok(j.push.datagrams.received > 0);
    // The spawned binary's OTLP receiver (--otlp-http) accepted both runs' exports.
    assert.equal(j.otlp.totals.exports, 2);
    assert.equal(j.otlp.totals.pointsAccepted, j.otlp.totals.pointsExported);
    assert.equal(j.otlp.totals.ordersDelivered, 200);
  });
});
