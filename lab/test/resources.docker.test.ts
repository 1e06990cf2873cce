// Docker end-to-end: `up --runtime docker` with --cpus/--cpuset/--memory gives every lab container the
// budget the flags asked for, as the engine itself reports it (inspect: HostConfig NanoCpus, CpusetCpus,
// Memory); the producers share the producers' budget. Scoped to its own run id and state dir; `down` after.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { assertBuilt, runCliProcess } from './cli-helpers.ts';

const run = promisify(execFile);
const base = mkdtempSync(join(tmpdir(), 'pushpull-lab-res-docker-'));
const stateDir = join(base, 'state');
const cli = (...args: string[]) =>
  runCliProcess([...args, '--state-dir', stateDir], { TMPDIR: base }, 90_000);

interface Inspected {
  Name: string;
  Config: { Labels: Record<string, string> };
  HostConfig: { NanoCpus: number; CpusetCpus: string; Memory: number };
}

describe('docker runtime: resources as HostConfig (e2e)', { timeout: 120_000 }, () => {
  let runId = '';
  let containers: Inspected[] = [];
  let upOut = '';

  before(async () => {
    assertBuilt();
    const up = await cli(
      'up',
      '--runtime',
      'docker',
      '--pods',
      '3',
      '--pods-per-producer',
      '2',
      '--node-exporter',
      'off',
      '--cpus',
      'collector=0.3,prometheus=0.4,producers=0.5',
      '--cpuset',
      'collector=1,prometheus=1,producers=0',
      '--memory',
      'collector=512MiB,prometheus=768MiB,producers=1GiB',
    );
    upOut = up.stdout + up.stderr;
    assert.equal(up.code, 0, upOut);
    runId = (JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as { stack: { runId: string } })
      .stack.runId;
    const ids = (await run('docker', ['ps', '-q', '--filter', `label=pushpull.lab=${runId}`])).stdout
      .split('\n')
      .filter(Boolean);
    containers = await inspect(ids);
  });

  async function inspect(ids: string[]): Promise<Inspected[]> {
    return JSON.parse((await run('docker', ['inspect', ...ids])).stdout) as Inspected[];
  }
  async function producerContainers(): Promise<Inspected[]> {
    const ids = (await run('docker', ['ps', '-q', '--filter', `label=pushpull.lab=${runId}`])).stdout
      .split('\n')
      .filter(Boolean);
    return (await inspect(ids))
      .filter((x) => x.Config.Labels['pushpull.producer'] !== undefined)
      .sort((a, b) => a.Name.localeCompare(b.Name));
  }

  after(async () => {
    if (existsSync(join(stateDir, 'state.json'))) await cli('down');
    rmSync(base, { recursive: true, force: true });
  });

  const byComponent = (c: string) => containers.filter((x) => x.Config.Labels['pushpull.component'] === c);

  it('prints the plan it starts with', () =>
    assert.match(upOut, /collector\s+0\.3 cores on cpuset 1, 512MiB/));

  const rows: [string, number, string, number][] = [
    ['collector', 0.3e9, '1', 512 * 2 ** 20],
    ['prometheus', 0.4e9, '1', 768 * 2 ** 20],
  ];
  for (const [c, nano, cpuset, mem] of rows)
    it(`${c}: NanoCpus, CpusetCpus and Memory as the flags say`, () => {
      const [x] = byComponent(c);
      assert.ok(x, `a ${c} container of run ${runId}`);
      assert.deepEqual(
        [x.HostConfig.NanoCpus, x.HostConfig.CpusetCpus, x.HostConfig.Memory],
        [nano, cpuset, mem],
      );
    });

  it('the two producer containers share the producers budget: CPU by pods (2 + 1 of 3), memory evenly, core 0', () => {
    const ps = containers
      .filter((x) => x.Config.Labels['pushpull.producer'] !== undefined)
      .sort((a, b) => a.Name.localeCompare(b.Name));
    assert.deepEqual(
      ps.map((x) => [x.HostConfig.NanoCpus, x.HostConfig.CpusetCpus, x.HostConfig.Memory]),
      [
        [0.333e9, '0', 512 * 2 ** 20],
        [0.166e9, '0', 512 * 2 ** 20],
      ],
    );
  });

  it('scale 4 (2 + 2): the kept producer is updated live to its new share, the resized one restarted with it', async () => {
    const r = await cli('scale', '4');
    assert.equal(r.code, 0, `scale exited ${r.code}: ${r.stdout}${r.stderr}`);
    const ps = await producerContainers();
    assert.deepEqual(
      ps.map((x) => x.HostConfig.NanoCpus),
      [0.25e9, 0.25e9],
    );
  });
});
