// Integration: `burst --hold --grafana` on the process runtime, real binaries. The run prints its Prometheus
// URL; Grafana's image is absent (a name no registry has), so the run says so in one line and goes on; after
// the record and report are written the stack stays up and Prometheus answers; SIGINT then ends the hold —
// exit 0 (the run passed), not 130 — and everything the run started is gone.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { assertBuilt, markedPids, scratchTmp, startCli, waitFor, workDirs } from './cli-helpers.ts';

const { base, tmp } = scratchTmp('pushpull-lab-watch-int-');
before(() => assertBuilt());

async function answers(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return r.ok;
  } catch {
    return false;
  }
}

describe('burst --hold --grafana (integration, process runtime)', { timeout: 175_000 }, () => {
  it('holds the stack after the report until SIGINT, then exits 0 and tears down; a missing Grafana image is one line', async () => {
    const out = join(base, 'out');
    const run = startCli(
      [
        'burst',
        '--runtime',
        'process',
        '--pods',
        '4',
        '--pods-per-producer',
        '2',
        '--duration',
        '10',
        '--scrape-interval',
        '1s',
        '--hold',
        '--grafana',
        '--out',
        out,
      ],
      { TMPDIR: tmp, PUSHPULL_GRAFANA_IMAGE: 'pushpull-test/absent-grafana:0' },
    );
    const killer = setTimeout(() => run.child.kill('SIGKILL'), 160_000);
    try {
      const promUrl = await waitFor(
        'the Prometheus URL',
        () => /Prometheus: (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stdout())?.[1],
        60_000,
      );
      await waitFor('the hold', () => /holding the stack up/.test(run.stdout()), 140_000, 200);
      const stdout = run.stdout();
      assert.match(
        stdout,
        /Grafana: not started — .*the run goes on without it/,
        'one line says why there is no Grafana',
      );
      assert.equal(stdout.match(/Grafana: not started/g)?.length, 1, 'said once');
      assert.ok(
        existsSync(join(out, 'run.json')) && existsSync(join(out, 'report.html')),
        'record and report first',
      );
      const record = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { interrupted?: boolean };
      assert.notEqual(record.interrupted, true);
      assert.equal(workDirs(tmp).length, 1, 'the stack is still up');
      // Well after the report: Prometheus still answers queries.
      await new Promise((r) => setTimeout(r, 3000));
      const q = await fetch(`${promUrl}/api/v1/query?query=up`, { signal: AbortSignal.timeout(5000) });
      assert.equal(q.status, 200);
      assert.equal(((await q.json()) as { status: string }).status, 'success');
      run.child.kill('SIGINT');
      const { code } = await run.exited;
      assert.equal(code, 0, `a Ctrl-C during the hold is the normal end; stderr:\n${run.stderr()}`);
      assert.match(run.stdout(), /hold ended; torn down/);
      assert.equal(await answers(`${promUrl}/-/ready`), false, 'Prometheus stopped');
      assert.deepEqual(workDirs(tmp), [], 'temp dir removed');
      const runId = /work dir \S*pushpull-lab-(\S+)/.exec(stdout)?.[1];
      assert.ok(runId, 'the run id in the start line');
      assert.deepEqual(markedPids(runId), [], 'no process carries the run marker');
    } finally {
      clearTimeout(killer);
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  });
});
