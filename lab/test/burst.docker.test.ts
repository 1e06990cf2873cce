// End to end on the docker runtime, air-gapped images (scripts/airgap-images.sh): a real burst run with
// containers for every component, its accounting reconciled with the ledgers; and Ctrl-C mid-run leaving
// no container, network or temp dir behind.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { RunRecord } from '../src/core/record.ts';
import {
  airgapImages,
  assertBuilt,
  labContainers,
  labNetworks,
  runCliProcess,
  scratchTmp,
  startCli,
  waitFor,
} from './cli-helpers.ts';

const { base, tmp } = scratchTmp('pushpull-lab-docker-e2e-');

describe('burst --runtime docker (air-gapped images)', { timeout: 600_000 }, () => {
  before(async () => {
    assertBuilt();
    await airgapImages();
  });

  it('runs a burst in containers and reconciles emitted == delivered + lost with the ledgers', async () => {
    const out = join(base, 'out');
    const res = await runCliProcess(
      [
        'burst',
        '--runtime',
        'docker',
        '--pods',
        '20',
        '--pods-per-producer',
        '10',
        '--duration',
        '30s',
        '--scrape-interval',
        '2s',
        '--out',
        out,
      ],
      { TMPDIR: tmp },
      300_000,
    );
    assert.equal(res.code, 0, `stdout:\n${res.stdout}\nstderr:\n${res.stderr}`);
    assert.match(res.stdout, /^verdict: /m);
    const r = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(r.environment.runtime, 'docker');
    assert.equal(r.error, null);
    assert.equal(
      r.ledgers.reduce((a, l) => a + Object.keys(l.pods).length, 0),
      20,
    );
    const orders = r.ledgers.reduce((a, l) => a + l.total.orders, 0);
    const pushed = r.ledgers.reduce((a, l) => a + l.total.ordersPushed, 0);
    assert.ok(orders > 10_000, `a burst happened (${orders} orders)`);
    assert.equal(r.paths.pull.emitted, orders);
    assert.equal(r.paths.push.emitted, pushed);
    for (const p of ['pull', 'push'] as const)
      assert.equal(r.paths[p].emitted, r.paths[p].delivered + r.paths[p].lost, p);
    for (const f of ['report.html', 'report.md']) assert.ok(existsSync(join(out, f)), f);
    assert.deepEqual(await labContainers(), [], 'no lab container left');
    assert.deepEqual(await labNetworks(), [], 'no lab network left');
  });

  it('Ctrl-C during warm-up tears down every container, network and temp dir (exit 130)', async () => {
    const r = startCli(
      [
        'burst',
        '--runtime',
        'docker',
        '--pods',
        '10',
        '--pods-per-producer',
        '5',
        '--duration',
        '30s',
        '--scrape-interval',
        '2s',
        '--out',
        join(base, 'out-int'),
      ],
      { TMPDIR: tmp },
    );
    await waitFor('warm-up to start', () => /warmup/.test(r.stderr() + r.stdout()), 120_000, 200);
    assert.ok((await labContainers()).length >= 6, 'containers were running');
    r.child.kill('SIGINT');
    const timer = setTimeout(() => r.child.kill('SIGKILL'), 60_000);
    const { code } = await r.exited;
    clearTimeout(timer);
    assert.equal(code, 130, r.stderr());
    assert.deepEqual(await labContainers(), [], 'no lab container left');
    assert.deepEqual(await labNetworks(), [], 'no lab network left');
    assert.deepEqual(
      readdirSync(tmp).filter((d) => d.startsWith('pushpull-lab-')),
      [],
      'no temp dir left',
    );
  });
});
