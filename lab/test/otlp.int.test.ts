// Integration (process runtime, real Prometheus, collector with its OTLP receiver, producers with the real
// OpenTelemetry SDK): `burst --transport otlp` runs the third path end to end, and its loss is accounted by
// OTLP's own causes. A series budget makes the receiver refuse points, so the accounting has something to
// attribute: every order left the pods (the ledger says so), the receiver's refusals explain the loss.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sumCounts } from '@pushpull/common';
import type { RunRecord } from '../src/core/record.ts';
import { assertBuilt, runCliProcess } from './cli-helpers.ts';

const base = mkdtempSync(join(tmpdir(), 'pushpull-lab-otlp-int-'));
const tmp = join(base, 'tmp');
mkdirSync(tmp);
after(() => rmSync(base, { recursive: true, force: true }));
before(() => assertBuilt());

describe('burst --transport otlp (series budget 1200)', { timeout: 170_000 }, () => {
  const out = join(base, 'otlp');
  let code: number | null = null;
  let stdout = '';
  let r: RunRecord;
  before(async () => {
    const res = await runCliProcess(
      [
        'burst',
        ...['--runtime', 'process', '--pods', '6', '--pods-per-producer', '3', '--scrape-interval', '1s'],
        ...['--duration', '15', '--transport', 'otlp', '--series-budget', '1200', '--out', out],
      ],
      { TMPDIR: tmp },
      165_000,
    );
    ({ code, stdout } = res);
    if (code !== 0) console.error(res.stdout, res.stderr);
    r = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as RunRecord;
  });

  it('records the OTLP path and labels it as such', () => {
    assert.equal(code, 0);
    assert.equal(r.config.transport, 'otlp');
    assert.equal(r.config.otlpTemporality, 'cumulative');
    assert.match(stdout, /push \(OTLP\/HTTP, 10 s export\)/);
    assert.equal(r.datagrams, null, 'OTLP has no datagrams to account');
  });

  it('the producers exported every order over OTLP (ledger, from the SDK export results)', () => {
    const t = sumCounts(r.ledgers.map((l) => l.total));
    assert.ok(t.ordersPushed > 0);
    assert.ok((t.otlpExports ?? 0) > 0);
    assert.equal(t.otlpOrdersExported, t.ordersPushed);
    assert.equal(t.otlpExportsFailed, 0);
  });

  it('the loss is the receiver refusing points over the budget, and the causes sum exactly', () => {
    const push = r.paths.push;
    assert.ok(push.lost > 0, 'the budget refused points');
    const causes = push.causes!;
    assert.equal(
      causes.reduce((a, c) => a + c.orders, 0),
      push.lost,
    );
    const top = [...causes].sort((a, b) => b.orders - a.orders)[0]!;
    assert.equal(top.cause, 'receiver-refused:max_series');
    assert.ok(r.firstFailures.some((f) => f.path === 'push' && f.signal === 'otlp-refused'));
    assert.match(r.verdict, /OTLP\/HTTP, 10 s export\) lost .* to the series budget you set/);
  });
});
