// End to end on the docker runtime, air-gapped images: the network-partition drill, the scenario whose
// fault docker injects as a real network cut (`docker network disconnect`). It also proves the lab
// keeps its control channel across the fault: a reconnected container is published on a new host port.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { findScenario, runScenario } from '../src/drill/run.ts';
import { dockerRuntimeFactory } from '../src/runtime/docker/runtime.ts';
import { airgapImages, assertBuilt, labContainers, ROOT, scratchTmp, workDirs } from './cli-helpers.ts';
import { assertExpectationsHeld } from './expectations.ts';

const { tmp } = scratchTmp('pushpull-lab-drill-docker-');

describe('network-partition drill on the docker runtime (air-gapped images)', { timeout: 600_000 }, () => {
  before(async () => {
    assertBuilt();
    await airgapImages();
    process.env.TMPDIR = tmp;
  });

  it('pull alerts and keeps the target; UDP loses what it sent into the cut; TCP is accounted; OTLP cumulative heals, delta does not', async () => {
    const r = await runScenario(
      {
        root: ROOT,
        factory: dockerRuntimeFactory(ROOT),
        log: () => {},
        signal: new AbortController().signal,
      },
      findScenario(join(ROOT, 'lab', 'scenarios'), 'network-partition'),
      'docker',
    );
    // The heal reconnects the container; the lab must reach its control API again to read the final
    // ledger (before the fix this failed with ECONNREFUSED on the old published port).
    assertExpectationsHeld(r);
    const cell = (column: string, variant: string) => {
      const c = r.cells.find((x) => x.column === column && x.variant === variant);
      assert.ok(c, `cell ${column}/${variant}`);
      return c;
    };
    const pull = cell('pull', 'udp');
    assert.match(pull.signal, /InstanceDown fired/);
    assert.ok((r.metrics['udp.targetsStillDiscovered'] ?? 0) > 0, 'file_sd keeps the partitioned target');
    // A counter carries its total across the cut: once healed, pull has every order.
    assert.equal(pull.lostCount, 0, pull.detail);
    // Datagrams sent while cut off never arrive, and nothing resends them.
    const udp = cell('push-udp', 'udp');
    assert.ok((udp.lostCount ?? 0) > 0, udp.detail);
    assert.match(udp.detail, /^UDP: \d+ datagrams handed to the socket/);
    const tcp = cell('push-tcp', 'tcp');
    assert.ok(tcp.lostCount !== null, tcp.detail);
    assert.match(tcp.detail, /^TCP: \d+ writes handed to the socket/);
    // OTLP over a real network cut: exports fail and are retried; cumulative heals, delta loses the cut.
    const cum = cell('push-otlp', 'otlp-cumulative');
    assert.equal(cum.lostCount, 0, cum.detail);
    assert.ok((r.metrics['otlp-cumulative.otlpExportsFailed'] ?? 0) > 0, cum.detail);
    const delta = cell('push-otlp', 'otlp-delta');
    assert.ok((delta.lostCount ?? 0) > 0, delta.detail);
    assert.match(cell('pull', 'otlp-delta').signal, /InstanceDown fired/);

    // The scenario ran in this process: its runs' containers carry this pid as their owner.
    assert.deepEqual(await labContainers({ owner: process.pid }), [], 'no container of the runs left');
    assert.deepEqual(workDirs(tmp), [], 'no work dir left');
  });
});
