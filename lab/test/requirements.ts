// Tests that need a program the machine may lack skip loudly, the way the Docker end-to-end files do: a
// notice on stderr and the reason in the report (scripts/run-tests.mjs lists every skip at the end) — and
// under CI, where scripts/setup.sh has installed everything, they do not skip: they run and fail.
import { spawnSync } from 'node:child_process';

/** True when every program answers `command -v` on PATH. */
export function onPath(...programs: string[]): boolean {
  return programs.every(
    (p) => spawnSync('sh', ['-c', `command -v "$0"`, p], { encoding: 'utf8' }).status === 0,
  );
}

/**
 * The `skip` option of a test that needs `what`: false when it is present or under CI (so a missing
 * program fails there), else the reason — printed loudly once, as the docker tests' notice is.
 */
export function skipUnless(file: string, present: boolean, what: string, install: string): string | false {
  if (present || process.env.CI) return false;
  const reason = `${what} missing (${install})`;
  console.error(`\n!!! ${file} SKIPPED: ${reason} !!!\n`);
  return reason;
}
