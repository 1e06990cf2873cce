import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { WORKDIR_PREFIX } from '../../core/workdir.ts';
import { hasRunMarker, isAlive, terminate } from './children.ts';
import { LAB_JSON, type LabJson } from './state.ts';

// Leftovers of process-runtime runs that crashed: their temp work dirs and the children still carrying
// their run marker.

/** Removes work dirs (and their children) of process-runtime runs whose lab process is gone. */
export async function reapProcessRuns(keepRunIds: readonly string[], base = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(base).filter((n) => n.startsWith(WORKDIR_PREFIX));
  } catch {
    return removed;
  }
  for (const dirName of entries.slice(0, 200)) {
    const dir = join(base, dirName);
    let j: LabJson;
    try {
      j = JSON.parse(readFileSync(join(dir, LAB_JSON), 'utf8')) as LabJson;
    } catch {
      continue; // not ours, or half-written: leave it
    }
    if (keepRunIds.includes(j.runId)) continue;
    removed.push(...(await reapRun(dir, j)));
  }
  return removed;
}

/** One run's leftovers, unless it still lives; what was removed. */
async function reapRun(dir: string, j: LabJson): Promise<string[]> {
  const removed: string[] = [];
  const mine = Object.entries(j.pids ?? {}).filter(([, pid]) => isAlive(pid) && hasRunMarker(pid, j.runId));
  if (j.persistent) {
    // An `up` stack lives on after its CLI exited; only clean up once nothing of it runs any more.
    if (mine.length > 0) return removed;
  } else if (isAlive(j.labPid) && j.labPid !== process.pid) return removed; // a burst still running
  for (const [name, pid] of mine) {
    await terminate(pid, 2000);
    removed.push(`${name} (pid ${pid}) of run ${j.runId}`);
  }
  rmSync(dir, { recursive: true, force: true });
  removed.push(`temp dir ${basename(dir)}`);
  return removed;
}
