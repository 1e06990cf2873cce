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
      '2',
      '--pods-per-producer',
      '1',
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
    containers = JSON.parse((await run('docker', ['inspect', ...ids])).stdout) as Inspected[];
  });

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

  it('the two producer containers share the producers budget (0.25 cores and 512 MiB each, core 0)', () => {
    const ps = containers.filter((x) => x.Config.Labels['pushpull.producer'] !== undefined);
    assert.equal(ps.length, 2);
    for (const x of ps)
      assert.deepEqual(
        [x.HostConfig.NanoCpus, x.HostConfig.CpusetCpus, x.HostConfig.Memory],
        [0.25e9, '0', 512 * 2 ** 20],
      );
  });
});
