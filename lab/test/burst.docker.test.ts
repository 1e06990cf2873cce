// End to end on the docker runtime, air-gapped images (scripts/airgap-images.sh): a real burst run with
// containers for every component, its accounting reconciled with the ledgers; and Ctrl-C mid-run leaving
// no container, network or temp dir behind.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  airgapImages,
  assertBuilt,
  assertReconciled,
  interruptDuringWarmup,
  labContainers,
  labNetworks,
  runSmallBurst,
  scratchTmp,
} from './cli-helpers.ts';

const { base, tmp } = scratchTmp('pushpull-lab-docker-e2e-');

describe('burst --runtime docker (air-gapped images)', { timeout: 600_000 }, () => {
  before(async () => {
    assertBuilt();
    await airgapImages();
  });

  it('runs a burst in containers and reconciles emitted == delivered + lost with the ledgers', async () => {
    const out = join(base, 'out');
    const { r, stdout } = await runSmallBurst({
      runtime: 'docker',
      out,
      more: ['--pods-per-producer', '10'],
      env: { TMPDIR: tmp },
      timeoutMs: 300_000,
    });
    assert.match(stdout, /^verdict: /m);
    const { pushed } = assertReconciled(r, 20);
    assert.equal(r.paths.push.emitted, pushed);
    for (const f of ['report.html', 'report.md']) assert.ok(existsSync(join(out, f)), f);
    const own = { runId: r.runId };
    assert.deepEqual(await labContainers(own), [], 'no container of the run left');
    assert.deepEqual(await labNetworks(own), [], 'no network of the run left');
  });

  it('Ctrl-C during warm-up tears down every container, network and temp dir (exit 130)', async () => {
    const { code, stderr, pid } = await interruptDuringWarmup({
      runtime: 'docker',
      out: join(base, 'out-int'),
      env: { TMPDIR: tmp },
      warmupWithinMs: 120_000,
      killAfterMs: 60_000,
      running: async (owner) =>
        assert.ok((await labContainers({ owner })).length >= 6, 'containers were running'),
    });
    assert.equal(code, 130, stderr);
    assert.deepEqual(await labContainers({ owner: pid }), [], 'no container of the run left');
    assert.deepEqual(await labNetworks({ owner: pid }), [], 'no network of the run left');
    assert.deepEqual(
      readdirSync(tmp).filter((d) => d.startsWith('pushpull-lab-')),
      [],
      'no temp dir left',
    );
  });
});
