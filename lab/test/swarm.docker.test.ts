// End to end on the swarm runtime, on a one-node swarm on this machine (initialised with
// `docker swarm init --advertise-addr 127.0.0.1` when none is active, and left again afterwards only if
// this test created it): a real burst reconciled on both paths, and Ctrl-C mid-run leaving no service,
// network, config, container or volume of the run behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  airgapImages,
  assertBuilt,
  assertReconciled,
  interruptDuringWarmup,
  runSmallBurst,
  scratchTmp,
} from './cli-helpers.ts';

const { base, tmp } = scratchTmp('pushpull-lab-swarm-e2e-');
const docker = (...a: string[]) => execFileSync('docker', a, { encoding: 'utf8' }).trim();
const lines = (s: string) => s.split('\n').filter(Boolean);

/** Everything the swarm runtime could leave behind (its objects are named pp-<run id>-…). */
function leftovers(): string[] {
  return [
    ...lines(docker('service', 'ls', '--filter', 'label=pushpull.lab', '--format', 'service {{.Name}}')),
    ...lines(docker('config', 'ls', '--filter', 'label=pushpull.lab', '--format', 'config {{.Name}}')),
    ...lines(
      docker(
        'network',
        'ls',
        '--filter',
        'label=pushpull.lab',
        '--filter',
        'driver=overlay',
        '--format',
        'network {{.Name}}',
      ),
    ),
    ...lines(docker('ps', '-a', '--filter', 'label=pushpull.lab', '--format', 'container {{.Names}}')).filter(
      (c) => c.startsWith('container pp-'),
    ),
    ...lines(docker('volume', 'ls', '--filter', 'label=pushpull.lab', '--format', 'volume {{.Name}}')),
  ];
}

let createdSwarm = false;
let hadGwBridge = true;

describe('burst --runtime swarm (one-node swarm)', { timeout: 900_000 }, () => {
  before(async () => {
    assertBuilt();
    await airgapImages();
    if (docker('info', '--format', '{{.Swarm.LocalNodeState}}') !== 'active') {
      hadGwBridge = lines(docker('network', 'ls', '--format', '{{.Name}}')).includes('docker_gwbridge');
      docker('swarm', 'init', '--advertise-addr', '127.0.0.1');
      createdSwarm = true;
    }
  });
  after(() => {
    if (!createdSwarm) return;
    docker('swarm', 'leave', '--force');
    if (!hadGwBridge) {
      try {
        docker('network', 'rm', 'docker_gwbridge');
      } catch {
        // another engineer's swarm may have created it meanwhile
      }
    }
  });

  it('runs a burst as swarm services and reconciles emitted == delivered + lost on both paths', async () => {
    const out = join(base, 'out');
    const { r } = await runSmallBurst({ runtime: 'swarm', out, env: { TMPDIR: tmp }, timeoutMs: 420_000 });
    const node = r.environment.nodes?.[0];
    assert.ok(node && node.cores > 0 && node.memoryBytes > 0, JSON.stringify(r.environment.nodes));
    assert.ok(
      node.clockOffsetMs !== null && Math.abs(node.clockOffsetMs) < 50,
      `one host, one clock: ${node.clockOffsetMs} ms`,
    );
    assertReconciled(r, 20);
    assert.ok(
      r.paths.pull.delivered > 0 && r.paths.push.delivered > 0,
      'both paths delivered through the overlay',
    );
    assert.deepEqual(leftovers(), [], 'nothing of the run left');
  });

  it('Ctrl-C during warm-up removes every service, network, config, container and volume (exit 130)', async () => {
    const { code, stderr } = await interruptDuringWarmup({
      runtime: 'swarm',
      out: join(base, 'out-int'),
      env: { TMPDIR: tmp },
      warmupWithinMs: 240_000,
      killAfterMs: 90_000,
      running: () =>
        assert.ok(leftovers().filter((x) => x.startsWith('service')).length >= 6, 'services were running'),
    });
    assert.equal(code, 130, stderr);
    assert.deepEqual(leftovers(), [], 'nothing of the run left');
  });
});
