// The exposition through the real `promtool check metrics` (Prometheus 2.42, /usr/bin/promtool).
// Allowed findings: the "_total" suffix lint on counters named by senders (statsd_exporter-compatible names
// keep them as sent) — and none at all with --strict-names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { silentLogger } from '@pushpull/common';
import { createCollector } from '../src/index.ts';
import { metrics, scrape, sendUdp, sum, waitFor } from '../testkit/helpers.ts';

const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

function promtool(text: string): { status: number | null; findings: string[] } {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`cannot run ${PROMTOOL}: ${r.error.message} (install prometheus / promtool)`);
  const findings = `${r.stdout}\n${r.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return { status: r.status, findings };
}

// Every type, every tag style, sample rates, multi-value, awkward label values, and some garbage.
const CLEAN_TRAFFIC = [
  'orders:1|c|#region:ap-south-1a,side:buy,instrument:NIFTY,pod:p1\norders:3|c|@0.5|#region:eu,side:sell,instrument:BANK,pod:p2',
  'order.rejects:1|c|#pod:p1\nheartbeat:1|c|#pod:p1\nheartbeat:1|c|#pod:p2',
  'order.queue_depth:12|g|#pod:p1\norder.queue_depth:+3|g|#pod:p1\norder.queue_depth:-1|g|#pod:p2',
  'order.latency:47.2|ms|#region:ap-south-1a,pod:p1\norder.latency:1:2:3000|ms|@0.1|#pod:p2',
  'payload.size_bytes:512|h|#pod:p1\nfill.fraction:0.4:0.9|d|#pod:p1',
  'users.unique:alice|s\nusers.unique:bob|s',
  'influx.orders,region=ap,pod=p3:1|c\nlibrato.depth#pod=p3:5|g\nsignalfx.[pod=p3]latency:5|ms',
  'quoted:1|g|#path:C:\\dir\\x,q:say "hi",city:Zürich',
  'bad line\n:1|c\nx:abc|c\nq:1:2|g\nmixed,a=b:1|c|#c:d',
];
const CLEAN_COUNTERS = ['orders', 'order_rejects', 'heartbeat', 'influx_orders'];

// The producer's lines from docs/contracts.md.
const CONTRACT_TRAFFIC = [
  'orders:1|c|#region:ap-south-1a,side:buy,instrument:NIFTY,pod:p1',
  'order.latency_ms:47.2|ms|#region:ap-south-1a,pod:p1',
  'order.rejects:1|c|#region:ap-south-1a,side:buy,instrument:NIFTY,pod:p1',
  'order.queue_depth:12|g|#pod:p1',
  'heartbeat:1|c|#pod:p1',
];

async function exposition(traffic: string[], strictNames: boolean): Promise<string> {
  const c = createCollector(
    { statsdUdp: '127.0.0.1:0', statsdTcp: 'off', http: '127.0.0.1:0', strictNames },
    { logger: silentLogger },
  );
  const a = await c.start();
  try {
    await sendUdp(a.udp, traffic);
    assert.ok(
      await waitFor(
        async () =>
          sum(await metrics(a.http), 'collector_packets_total', { transport: 'udp' }) === traffic.length,
      ),
      'every datagram arrived',
    );
    const r = await scrape(a.http);
    assert.equal(r.status, 200);
    return r.text;
  } finally {
    await c.stop();
  }
}

const totalLint = (name: string) => `${name} counter metrics should have "_total" suffix`;

describe('promtool check metrics', () => {
  it('default names: only the _total lint, exactly on the sender counters', async () => {
    const text = await exposition(CLEAN_TRAFFIC, false);
    assert.ok(text.includes('users_unique 2') || text.includes('users_unique 0'), 'the set is exposed');
    const r = promtool(text);
    assert.deepEqual(r.findings.sort(), CLEAN_COUNTERS.map(totalLint).sort());
    assert.equal(r.status, 3, 'lint findings only (exit 3), no parse error (exit 1)');
  });

  it('--strict-names: promtool finds nothing', async () => {
    const text = await exposition(CLEAN_TRAFFIC, true);
    for (const n of CLEAN_COUNTERS) assert.ok(text.includes(`# TYPE ${n}_total counter`), `${n}_total`);
    const r = promtool(text);
    assert.deepEqual(r.findings, []);
    assert.equal(r.status, 0);
  });

  it('the contract producer lines: _total lints plus the abbreviated-unit lint on the sender name order_latency_ms', async () => {
    // order.latency_ms is the name the contract fixes (and statsd_exporter keeps); promtool flags the "ms".
    const unitLint = 'order_latency_ms metric names should not contain abbreviated units';
    const plain = promtool(await exposition(CONTRACT_TRAFFIC, false));
    assert.deepEqual(
      plain.findings.sort(),
      [...['heartbeat', 'order_rejects', 'orders'].map(totalLint), unitLint].sort(),
    );
    const strict = promtool(await exposition(CONTRACT_TRAFFIC, true));
    assert.deepEqual(strict.findings, [unitLint]);
  });

  it('a deliberately broken exposition fails promtool (the check can fail)', () => {
    const r = promtool('# TYPE x counter\nx{a="1" 1\n');
    assert.notEqual(r.status, 0);
    assert.ok(r.findings.length > 0);
  });
});

// Issue 11: one hostile datagram must not blind the push path. Reserved and colliding tags in every syntax,
// sent over a real socket, and the exposition still passes promtool (only the _total lint on sender counters).
const HOSTILE_TRAFFIC = [
  'x:1|c|#__name__:y',
  'x:1|c|#__meta_kubernetes_pod:y,..z:w,-_q:1',
  'x,__name__=y:1|c\nx#__name__=y:1|c\nx.[__name__=y]:1|c',
  'h:1|h|#le:5\nh,le=5:1|h\nh#le=5:1|h\nh.[le=5]:1|h\nh:1|ms|#le:1',
  'x:1|c|#container_id:a|c:b\nx:1|c|#a.b:1,a_b:2',
  'ok:1|c|#pod:p1',
];

describe('promtool check metrics after hostile lines', () => {
  it('reserved and colliding tags in every syntax leave the exposition valid', async () => {
    const text = await exposition(HOSTILE_TRAFFIC, false);
    assert.ok(!/[{,]__/.test(text), 'no __-prefixed label');
    const r = promtool(text);
    // x.[...]:1|c keeps its name as x_ (the SignalFx tags cut out of x.).
    assert.deepEqual(r.findings.sort(), ['ok', 'x', 'x_'].map(totalLint).sort());
    assert.equal(r.status, 3, 'lint findings only (exit 3), no parse error (exit 1)');
    const samples = (await import('../testkit/helpers.ts')).parseExposition(text);
    assert.equal(sum(samples, 'collector_tag_errors_total', { reason: 'reserved' }), 7);
    assert.equal(sum(samples, 'collector_tag_errors_total', { reason: 'collision' }), 6);
    assert.equal(sum(samples, 'collector_lines_accepted_total'), 13, 'every line kept');
  });
});
