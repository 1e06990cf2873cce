// Foundation end-to-end: with no registry, the air-gapped images plus `docker-compose up -d` (v1, as Debian
// ships it) give a fully scraped stack — every virtual pod of every producer container is `up == 1` in
// Prometheus without the lab running — and `docker-compose down` removes everything.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const project = 'pushpull-e2e';
const compose = (args: string[], timeout = 180_000) =>
  run('docker-compose', ['-p', project, ...args], {
    cwd: root,
    timeout,
    env: { ...process.env, COMPOSE_PROFILES: '' },
  });

interface Target {
  labels: Record<string, string>;
  health: string;
  lastError: string;
}

async function targets(): Promise<Target[]> {
  const res = await fetch('http://127.0.0.1:9090/api/v1/targets?state=active', {
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { data: { activeTargets: Target[] } };
  return body.data.activeTargets;
}

describe('docker-compose stack (air-gapped images)', { timeout: 600_000 }, () => {
  before(async () => {
    await run('bash', ['scripts/airgap-images.sh', '--no-pull'], { cwd: root, timeout: 300_000 });
    await compose(['down', '-v', '--remove-orphans']).catch(() => undefined);
  });
  after(async () => {
    await compose(['down', '-v', '--remove-orphans']).catch(() => undefined);
  });

  it('comes up with every component and every virtual pod scraped up == 1, and goes down cleanly', async () => {
    await compose(['up', '-d', '--scale', 'producer=2']);
    const ps = await run('docker', [
      'ps',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--format',
      '{{.Names}}',
    ]);
    const names = ps.stdout.trim().split('\n').sort();
    for (const svc of ['prometheus', 'pushgateway', 'collector', 'node-exporter', 'producer']) {
      assert.ok(
        names.some((n) => n.includes(svc)),
        `service ${svc} is running (got ${names.join(', ')})`,
      );
    }
    assert.ok(!names.some((n) => n.includes('grafana')), 'grafana stays off without its profile');

    // 2 producer containers x 20 pods + collector, pushgateway, node-exporter, prometheus = 44 targets.
    // Scrape interval is 15 s: allow a few rounds for discovery and the first scrapes.
    const deadline = Date.now() + 120_000;
    let last: Target[] = [];
    while (Date.now() < deadline) {
      last = await targets().catch(() => []);
      if (last.length === 44 && last.every((t) => t.health === 'up')) break;
      await new Promise((r) => setTimeout(r, 3000));
    }
    const byJob = new Map<string, number>();
    for (const t of last) byJob.set(t.labels.job ?? '', (byJob.get(t.labels.job ?? '') ?? 0) + 1);
    const down = last
      .filter((t) => t.health !== 'up')
      .map((t) => `${t.labels.job}/${t.labels.instance}: ${t.lastError}`);
    assert.deepEqual(Object.fromEntries([...byJob].sort()), {
      collector: 1,
      'node-exporter': 1,
      producers: 40,
      prometheus: 1,
      pushgateway: 1,
    });
    assert.deepEqual(down, [], 'every target up');
    const pods = new Set(last.filter((t) => t.labels.job === 'producers').map((t) => t.labels.pod));
    assert.equal(pods.size, 40, 'one target per virtual pod, distinct pod labels');

    // node-exporter shares the collector's network namespace: it reports the collector's UDP counters.
    const q = await fetch('http://127.0.0.1:9090/api/v1/query?query=node_netstat_Udp_InDatagrams').then(
      (r) => r.json() as Promise<{ data: { result: { value: [number, string] }[] } }>,
    );
    assert.ok(
      Number(q.data.result[0]?.value[1]) > 0,
      'the collector namespace received datagrams (push path live)',
    );

    // Health-gated start-up and resource limits (issue 16): our two services pass their exec-form check
    // (no shell in the image), and compose applied the deploy.resources limits (defaults: docker-compose.yml).
    const expected: Record<string, { cpus: number; memory: number }> = {
      collector: { cpus: 1, memory: 2 * 1024 ** 3 },
      producer: { cpus: 1, memory: 1024 ** 3 },
      prometheus: { cpus: 1, memory: 2 * 1024 ** 3 },
    };
    for (const [svc, want] of Object.entries(expected)) {
      const id = (await compose(['ps', '-q', svc])).stdout.trim().split('\n')[0]!;
      const inspect = async () => {
        const [c] = JSON.parse((await run('docker', ['inspect', id])).stdout) as {
          State: { Health?: { Status: string } };
          HostConfig: { NanoCpus: number; Memory: number };
        }[];
        return {
          health: c!.State.Health?.Status ?? 'none',
          nanoCpus: c!.HostConfig.NanoCpus,
          memory: c!.HostConfig.Memory,
        };
      };
      let got = await inspect();
      for (let i = 0; i < 20 && svc !== 'prometheus' && got.health !== 'healthy'; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        got = await inspect();
      }
      const { health, nanoCpus, memory } = got;
      assert.equal(health, svc === 'prometheus' ? 'none' : 'healthy', `${svc} health`);
      assert.equal(Number(nanoCpus), want.cpus * 1e9, `${svc} cpus`);
      assert.equal(Number(memory), want.memory, `${svc} memory`);
    }

    // Hardening (issue 11, item 8): our two services run as nobody, and Prometheus has no lifecycle API
    // (POST /-/quit would let anyone on the host stop it).
    for (const svc of ['collector', 'producer']) {
      const id = (await compose(['ps', '-q', svc])).stdout.trim().split('\n')[0]!;
      const uid = await run('docker', [
        'exec',
        id,
        'node',
        '-e',
        'process.stdout.write(String(process.getuid()))',
      ]);
      assert.equal(uid.stdout, '65534', `${svc} runs as nobody`);
    }
    const quit = await fetch('http://127.0.0.1:9090/-/quit', {
      method: 'POST',
      signal: AbortSignal.timeout(5000),
    });
    assert.notEqual(quit.status, 200, 'the lifecycle API is off');
    assert.equal((await targets()).length, 44, 'Prometheus still running after POST /-/quit');

    await compose(['down', '-v', '--remove-orphans']);
    const left = await run('docker', [
      'ps',
      '-a',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '-q',
    ]);
    assert.equal(left.stdout.trim(), '', 'no container left');
    const vols = await run('docker', [
      'volume',
      'ls',
      '-q',
      '--filter',
      `label=com.docker.compose.project=${project}`,
    ]);
    assert.equal(vols.stdout.trim(), '', 'no volume left');
  });
});
