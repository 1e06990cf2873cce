// Integration: `up` starts a stack that outlives the CLI, `status` and `scale` re-attach to it through the
// state file, `down` stops everything and removes the temp dir and the state.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LabStateFile } from '../src/runtime/stack-state.ts';
import { alive, assertBuilt, markedPids, runCliProcess, workDirs } from './cli-helpers.ts';

const base = mkdtempSync(join(tmpdir(), 'pushpull-lab-updown-int-'));
const tmp = join(base, 'tmp');
const stateDir = join(base, 'state');
mkdirSync(tmp);
const env = { TMPDIR: tmp };
const cli = (...args: string[]) => runCliProcess([...args, '--state-dir', stateDir], env, 90_000);
const readState = () => JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as LabStateFile;
let runId = '';

before(() => assertBuilt());
after(async () => {
  // Never leave the stack running, whatever failed.
  if (existsSync(join(stateDir, 'state.json'))) await cli('down');
  for (const pid of markedPids(runId || undefined).filter(() => runId !== '')) process.kill(pid, 'SIGKILL');
  rmSync(base, { recursive: true, force: true });
});

async function promTargets(): Promise<{ up: number; total: number }> {
  const url = readState().stack.endpoints.prometheusUrl;
  const q = async (e: string) => {
    const r = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(e)}`)).json()) as {
      data: { result: { value: [number, string] }[] };
    };
    return Number(r.data.result[0]?.value[1] ?? 0);
  };
  return { up: await q('count(up{job="producers"} == 1)'), total: await q('count(up{job="producers"})') };
}

describe('up → status → scale → down via the state file (integration)', { timeout: 175_000 }, () => {
  it('up starts the stack and a steady fleet that outlive the CLI', async () => {
    const r = await cli(
      'up',
      '--runtime',
      'process',
      '--pods',
      '6',
      '--pods-per-producer',
      '3',
      '--scrape-interval',
      '1s',
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /up: 6 pods on 2 producers/);
    const st = readState();
    runId = st.stack.runId;
    assert.equal(st.stack.kind, 'process');
    assert.equal(st.stack.members.length, 2);
    for (const pid of Object.values(st.stack.components))
      assert.ok(alive(Number(pid)), `component pid ${pid} alive after the CLI exited`);
    for (const m of st.stack.members) assert.ok(alive(Number(m.handle)), `${m.name} alive`);
    const deadline = Date.now() + 30_000;
    let seen = { up: 0, total: 0 };
    while (Date.now() < deadline) {
      seen = await promTargets();
      if (seen.up === 6) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    assert.deepEqual(
      seen,
      { up: 6, total: 6 },
      'Prometheus scrapes every virtual pod (file_sd from the producers)',
    );
    // A fresh Pushgateway: no groups left over from other runs (Debian's default persistence file is off).
    const groups = (await (await fetch(`${st.stack.endpoints.pushgatewayUrl}/api/v1/metrics`)).json()) as {
      data: unknown[];
    };
    assert.deepEqual(groups.data, [], 'no Pushgateway groups from earlier runs');
  });

  it('up again is idempotent', async () => {
    const r = await cli('up', '--runtime', 'process');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /already up/);
    assert.equal(readState().stack.runId, runId);
  });

  it('status re-attaches and reports the components and the targets', async () => {
    const r = await cli('status');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`stack ${runId}: process runtime`));
    assert.match(r.stdout, /prometheus\s+pid \d+\s+running/);
    assert.match(r.stdout, /collector\s+pid \d+\s+running/);
    assert.match(r.stdout, /producers\s+2\/2 running, 6 pods/);
    assert.match(r.stdout, /prometheus: 6\/6 pod targets up, collector up/);
  });

  it('scale grows and shrinks the fleet; Prometheus follows within a few scrapes', async () => {
    const grow = await cli('scale', '9');
    assert.equal(grow.code, 0, grow.stdout + grow.stderr);
    assert.match(grow.stdout, /scaled to 9 pods on 3 producers/);
    assert.equal(readState().stack.members.length, 3);
    const deadline = Date.now() + 30_000;
    let seen = { up: 0, total: 0 };
    while (Date.now() < deadline) {
      seen = await promTargets();
      if (seen.up === 9 && seen.total === 9) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    assert.deepEqual(seen, { up: 9, total: 9 });
    const removed = readState().stack.members[2]!;
    const shrink = await cli('scale', '4');
    assert.equal(shrink.code, 0, shrink.stdout + shrink.stderr);
    assert.match(shrink.stdout, /scaled to 4 pods on 2 producers/);
    assert.equal(alive(Number(removed.handle)), false, 'the removed producer was stopped');
    assert.deepEqual(
      readState().stack.members.map((m) => m.podIds.length),
      [3, 1],
    );
  });

  it('down stops everything, removes the temp dir and the state; status then says nothing is up', async () => {
    const st = readState();
    const pids = [
      ...Object.values(st.stack.components).map(Number),
      ...st.stack.members.map((m) => Number(m.handle)),
    ];
    const r = await cli('down');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`down: stopped stack ${runId}`));
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} stopped`);
    assert.deepEqual(markedPids(runId), []);
    assert.deepEqual(workDirs(tmp), []);
    assert.equal(existsSync(join(stateDir, 'state.json')), false);
    const s = await cli('status');
    assert.equal(s.code, 3);
    assert.match(s.stdout, /no stack is up/);
  });
});
