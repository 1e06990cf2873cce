import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectorSnapshot, nodeUdpSnapshot, parseExposition } from '../src/probe/exposition.ts';

const COLLECTOR = `# HELP orders StatsD counter (c) received by pushpull-collector.
# TYPE orders counter
orders{region="ap-south-1a",side="buy",instrument="NIFTY",pod="p-0"} 120
orders{region="ap-south-1a",side="sell",instrument="X\\"Y,}z",pod="p-0"} 30
orders{pod="p-1"} 50
orders_total{pod="p-1"} 999
order_latency_ms_bucket{pod="p-0",le="+Inf"} 150
# TYPE collector_packets_total counter
collector_packets_total{transport="udp"} 400
collector_packets_total{transport="tcp"} 7
collector_lines_total{transport="udp"} 420
collector_parse_errors_total{reason="bad_value"} 2
collector_parse_errors_total{reason="unknown_type"} 1
collector_packets_too_large_total{transport="udp"} 4
collector_series_rejected_total 0
collector_series 17
collector_event_loop_lag_seconds 0.0125
collector_kernel_udp_rcvbuf_errors_total 11
collector_kernel_udp_in_errors_total 12
collector_kernel_udp_in_datagrams_total 5000
collector_udp_rcvbuf_bytes 4194304
collector_sources_active 2
collector_udp_socket_drops_total 77
`;

describe('exposition parser', () => {
  it('parses names, labels with escapes, values', () => {
    const s = parseExposition(
      'a{x="1",y="q\\"u\\\\o\\nte"} 3.5\nb 7 1700000000000\nc{} NaN\nd +Inf\n# comment\n\n',
    );
    assert.deepEqual(s[0], { name: 'a', labels: { x: '1', y: 'q"u\\o\nte' }, value: 3.5 });
    assert.deepEqual(s[1], { name: 'b', labels: {}, value: 7 });
    assert.ok(Number.isNaN(s[2]!.value));
    assert.equal(s[3]!.value, Number.POSITIVE_INFINITY);
  });

  it('filters families before parsing labels', () => {
    const s = parseExposition(COLLECTOR, (n) => n === 'orders', false);
    assert.equal(s.length, 3);
    assert.deepEqual(s[1]!.labels, {});
  });

  it('collector snapshot: push delivered = Σ orders (not orders_total, not histograms)', () => {
    const c = collectorSnapshot(COLLECTOR);
    assert.equal(c.orders, 200);
    assert.equal(c.packets, 407);
    assert.equal(c.packetsUdp, 400);
    assert.equal(c.lines, 420);
    assert.equal(c.parseErrors, 3);
    assert.equal(c.otherDrops, 4, 'oversized packets; socket drops are kernel drops, counted apart');
    assert.equal(c.socketDrops, 77);
    assert.equal(c.seriesRejected, 0);
    assert.equal(c.kernelRcvbufErrors, 11);
    assert.equal(c.kernelInErrors, 12);
    assert.equal(c.series, 17);
    assert.equal(c.eventLoopLagSeconds, 0.0125);
    assert.equal(c.rcvbufBytes, 4194304);
    assert.equal(c.sourcesActive, 2);
    assert.equal(collectorSnapshot(COLLECTOR, 'orders_total').orders, 999);
  });

  it('absent families are null, not 0', () => {
    const c = collectorSnapshot('collector_series 1\n');
    assert.equal(c.orders, null);
    assert.equal(c.kernelInErrors, null);
    assert.equal(c.socketDrops, null);
  });

  it('node-exporter UDP counters', () => {
    const n = nodeUdpSnapshot(
      '# TYPE node_netstat_Udp_InErrors untyped\nnode_netstat_Udp_InErrors 9\nnode_netstat_Udp_RcvbufErrors 8\nnode_netstat_Udp6_InErrors 100\nnode_netstat_Udp_InDatagrams 1e+06\n',
    );
    assert.deepEqual(n, { inErrors: 9, rcvbufErrors: 8, inDatagrams: 1_000_000 });
  });
});
