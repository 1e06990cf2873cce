import { join } from 'node:path';
import { isLabError } from '@pushpull/common';
import { summariseRuns } from '../analysis/repeat.ts';
import { type CliIo, EXIT } from '../core/cli.ts';
import type { BurstConfig, RunRecord } from '../core/record.ts';
import { renderRepeatTerminal, writeRepeatReport } from '../report/repeat.ts';
import type { BurstResult } from './run.ts';

// --repeat N: the same burst N times, each on a fresh stack, then one summary beside the runs' own records.
// Fresh stacks, not one: the collector's series and Prometheus' head from run k would load run k+1 (twice
// the series by the second open), so runs on one stack would not be repeats of the same experiment.

export async function repeatCommand(
  config: BurstConfig,
  dir: string,
  runOnce: (cfg: BurstConfig) => Promise<BurstResult>,
  io: CliIo,
): Promise<number> {
  const n = config.repeat ?? 1;
  const done: { record: RunRecord; dir: string }[] = [];
  const notes = ['each run on a fresh stack (see lab/README.md "Repeatability")'];
  let interrupted = false;
  for (let k = 1; k <= n && !interrupted; k++) {
    io.out(`\n=== run ${k} of ${n} ===\n`);
    const runDir = join(dir, `run-${k}`);
    try {
      const res = await runOnce({ ...config, out: runDir });
      interrupted = res.interrupted;
      if (!res.interrupted && !res.record.error) done.push({ record: res.record, dir: runDir });
      else
        notes.push(
          `run ${k} ${res.interrupted ? 'was interrupted' : `failed (${res.record.error})`}: left out of the summary`,
        );
    } catch (e) {
      if (!isLabError(e, 'LAB_ERR_INTERRUPTED')) throw e;
      interrupted = true;
      notes.push(`run ${k} was interrupted before it probed anything`);
    }
  }
  const summary = summariseRuns(done, n, notes);
  const files = writeRepeatReport(dir, summary);
  io.out(`\n${renderRepeatTerminal(summary)}\n\nsummary: ${files.join(', ')}\n`);
  if (interrupted) return EXIT.interrupted;
  return done.length === n ? EXIT.ok : EXIT.failed;
}
