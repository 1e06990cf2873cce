// .ci/run builds once: `npm ci` builds through the `prepare` script, so .ci/run must neither build again
// nor go through `npm test` (whose `pretest` builds); and it prints the time per test file last.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../src/core/paths.ts';

const root = repoRoot();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};
const BUILD = /node scripts\/build\.mjs|npm run( -s)? build\b/;

/** The commands .ci/run executes, one per line, comments and the cleanup function's body left out. */
function ciCommands(): string[] {
  const text = readFileSync(join(root, '.ci/run'), 'utf8');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('step '));
}

/** How many builds one command line causes, following npm's lifecycle scripts. */
function buildsOf(line: string): number {
  if (BUILD.test(line)) return 1;
  if (/^npm ci\b/.test(line)) return BUILD.test(pkg.scripts.prepare ?? '') ? 1 : 0;
  if (/\bnpm (run -s )?test\b|\bnpm t\b/.test(line)) return BUILD.test(pkg.scripts.pretest ?? '') ? 1 : 0;
  return 0;
}

describe('.ci/run', () => {
  it('builds exactly once', () => {
    const builds = ciCommands().flatMap((l) => Array(buildsOf(l)).fill(l) as string[]);
    assert.equal(builds.length, 1, `builds: ${JSON.stringify(builds)}`);
  });
  it('a developer’s `npm test` still builds first', () => assert.match(pkg.scripts.pretest ?? '', BUILD));
  it('runs the test runner and prints its time table at the end', () => {
    const lines = ciCommands();
    assert.ok(lines.some((l) => /node scripts\/run-tests\.mjs/.test(l)));
    assert.ok(lines.some((l) => /PUSHPULL_TEST_TIMES=/.test(l)));
    assert.ok(lines.some((l) => /cat "\$PUSHPULL_TEST_TIMES"/.test(l)));
  });
});
