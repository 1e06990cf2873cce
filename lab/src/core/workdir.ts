import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';

// Run ids and work dirs: the lab's own names for one run, the same on every runtime. A work dir lives
// under the temp dir with a fixed prefix, so a reaper can find the leftovers of a crashed run and never
// touches anything that is not ours.

export const WORKDIR_PREFIX = 'pushpull-lab-';

/** A sortable, unique run id: the UTC start time plus 4 random hex digits. */
export function makeRunId(now = new Date()): string {
  const ts = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${ts}-${randomBytes(2).toString('hex')}`;
}

/** A fresh work dir path for a run (not created). */
export function newWorkDir(runId: string, base = tmpdir()): string {
  return join(base, `${WORKDIR_PREFIX}${runId}`);
}

/** Removes a run's work dir — only ever one of ours (under the temp dir, with our prefix). */
export function removeWorkDir(dir: string): void {
  const base = resolve(tmpdir()) + sep;
  if (!resolve(dir).startsWith(base) || !resolve(dir).slice(base.length).startsWith(WORKDIR_PREFIX)) return;
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}
