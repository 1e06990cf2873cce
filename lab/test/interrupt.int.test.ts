// Integration: Ctrl-C / SIGTERM at different phases of a burst run tears down everything the run started
// (every child process, the temp dir) and exits 130.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runGroupsPresent } from '../src/runtime/cgroups/manager.ts';
import { alive, assertBuilt, markedPids, startCli, waitFor, workDirs } from './cli-helpers.ts';

const base = mkdtempSync(join(tmpdir(), 'pushpull-lab-intr-int-'));
after(() => rmSync(base, { recursive: true, force: true }));
before(() => assertBuilt());

interface LabJson {
  runId: string;
  pids: Record<string, number>;
}

function labJson(tmp: string): LabJson | null {
  const dirs = workDirs(tmp);
  if (dirs.length !== 1) return null;
  try {
    return JSON.parse(readFileSync(join(tmp, dirs[0]!, 'lab.json'), 'utf8')) as LabJson;
  } catch {
    return null;
  }
}

async function interruptAt(
  name: string,
  ready: (stdout: string, lab: LabJson | null) => boolean,
  sig: NodeJS.Signals,
  expectComponents: string[],
): Promise<void> {
  const tmp = join(base, name);
  mkdirSync(tmp);
  const run = startCli(
    [
      'burst',
      '--runtime',
      'process',
      '--pods',
      '6',
      '--pods-per-producer',
      '3',
      '--duration',
      '30',
      '--scrape-interval',
      '1s',
      '--out',
      join(base, `${name}-out`),
    ],
    { TMPDIR: tmp },
  );
  const killer = setTimeout(() => run.child.kill('SIGKILL'), 150_000);
  try {
    // Every pid the run has spawned so far, collected while we wait (the lab records them in lab.json).
    const seen = new Map<string, number>();
    await waitFor(
      `phase "${name}"`,
      () => {
        const lab = labJson(tmp);
        for (const [k, v] of Object.entries(lab?.pids ?? {})) seen.set(k, v);
        return ready(run.stdout(), lab);
      },
      120_000,
      20,
    );
    const lab = labJson(tmp);
    for (const [k, v] of Object.entries(lab?.pids ?? {})) seen.set(k, v);
    assert.ok(seen.size > 0, 'the run had started children');
    for (const c of expectComponents)
      assert.ok(seen.has(c), `${c} was running when interrupted (saw ${[...seen.keys()].join(', ')})`);
    const runId = lab?.runId ?? '';
    // The default resource plan put the run's children into cgroups of the run (root on this machine).
    if (expectComponents.length > 0)
      assert.ok(runGroupsPresent(runId).length > 0, `the run ${runId} had cgroups when interrupted`);
    run.child.kill(sig);
    const { code } = await run.exited;
    assert.equal(code, 130, `exit code; stdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`);
    assert.match(run.stderr(), /interrupted/);
    for (const [k, pid] of seen) assert.equal(alive(pid), false, `${k} (pid ${pid}) still alive`);
    assert.deepEqual(markedPids(runId), [], 'no process carries the run marker');
    assert.deepEqual(workDirs(tmp), [], 'temp dir removed');
    assert.deepEqual(runGroupsPresent(runId), [], 'no cgroup of the run remains');
    // Once probes ran, the run keeps its record: written before teardown, marked interrupted (run@2).
    const record = join(base, `${name}-out`, 'run.json');
    if (name === 'peak') {
      const r = JSON.parse(readFileSync(record, 'utf8')) as {
        interrupted?: boolean;
        verdict: string;
        series: unknown[];
      };
      assert.equal(r.interrupted, true);
      assert.match(r.verdict, /^run interrupted during (peak|decay)/);
      assert.ok(r.series.length > 5, 'the probe series gathered so far');
      assert.match(readFileSync(join(base, `${name}-out`, 'report.html'), 'utf8'), /interrupted/i);
    }
  } finally {
    clearTimeout(killer);
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
  }
}

describe('interrupting a burst run leaves nothing behind (integration)', { timeout: 175_000 }, () => {
  it('SIGINT while the stack is starting (some children up, not all)', () =>
    interruptAt(
      'starting',
      (_out, lab) => lab !== null && Object.keys(lab.pids).length >= 1 && !('prometheus' in lab.pids),
      'SIGINT',
      [],
    ));

  it('SIGINT during warm-up (whole fleet up, probes running)', () =>
    interruptAt('warmup', (out) => /\] warmup/.test(out), 'SIGINT', [
      'prometheus',
      'collector',
      'pushgateway',
      'producer-0',
      'producer-1',
    ]));

  it('SIGTERM at peak (mid-burst)', () =>
    interruptAt('peak', (out) => /\] peak/.test(out), 'SIGTERM', [
      'prometheus',
      'collector',
      'producer-0',
      'producer-1',
    ]));
});
