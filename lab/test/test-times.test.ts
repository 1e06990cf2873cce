// scripts/run-tests.mjs's pure parts: unit files run concurrently, integration/e2e serially; the per-file
// time table is sorted slowest first and marks failures; the totals add up every file's footer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  failureSummary,
  formatTimes,
  isSerial,
  parseCounts,
  skippedTests,
  slowTests,
} from '../../scripts/test-times.mjs';

describe('run-tests: which files run serially', () => {
  const cases: [string, boolean][] = [
    ['lab/test/drill.int.test.ts', true],
    ['lab/test/burst.docker.test.ts', true],
    ['services/collector/test/parser.test.ts', false],
    ['lab/test/interval.test.ts', false],
    ['lab/test/docker-runtime.test.ts', false],
  ];
  for (const [file, serial] of cases)
    it(`${file} → ${serial ? 'serial' : 'concurrent'}`, () => assert.equal(isSerial(file), serial));
});

describe('run-tests: the time table', () => {
  const table = formatTimes(
    [
      { file: 'a.test.ts', ms: 1200, ok: true },
      { file: 'slow.int.test.ts', ms: 95_000, ok: false },
      { file: 'b.test.ts', ms: 4000, ok: true },
    ],
    { wallMs: 99_000, jobs: 2, concurrent: 2, serial: 1 },
  );
  const rows = table.split('\n').filter((l) => /\.ts/.test(l));
  it('lists every file, slowest first', () =>
    assert.deepEqual(
      rows.map((l) => l.trim().split(/\s+/)[0]),
      ['slow.int.test.ts', 'b.test.ts', 'a.test.ts'],
    ));
  it('gives seconds and marks the failed file', () => {
    assert.match(rows[0]!, /95\.0 {2}FAILED$/);
    assert.match(rows[2]!, /1\.2$/);
  });
  it('says how it ran and the wall time against the sum', () => {
    assert.match(table, /2 unit file\(s\) 2 at a time, 1 integration\/e2e file\(s\) one at a time/);
    assert.match(table, /wall 99\.0 s \(sum over files 100\.2 s\)/);
  });
});

describe('run-tests: totals from the spec reporter footers', () => {
  const footer = (t: number, p: number, f: number, s: number) =>
    `✔ x (1ms)\nℹ tests ${t}\nℹ suites 1\nℹ pass ${p}\nℹ fail ${f}\nℹ cancelled 0\nℹ skipped ${s}\nℹ todo 0\nℹ duration_ms 12\n`;
  const cases: { name: string; outputs: string[]; want: Record<string, number> }[] = [
    { name: 'none', outputs: [], want: { tests: 0, pass: 0, fail: 0, skipped: 0, todo: 0 } },
    {
      name: 'two files',
      outputs: [footer(3, 3, 0, 0), footer(5, 3, 1, 1)],
      want: { tests: 8, pass: 6, fail: 1, skipped: 1, todo: 0 },
    },
    {
      name: 'a crashed file without a footer counts nothing',
      outputs: ['Error: boom', footer(2, 2, 0, 0)],
      want: { tests: 2, pass: 2, fail: 0, skipped: 0, todo: 0 },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(parseCounts(c.outputs), c.want));
});

describe('run-tests: skipped tests are listed with their reason', () => {
  const cases: { name: string; output: string; want: string[] }[] = [
    { name: 'none', output: '✔ a (1ms)\nℹ skipped 0\n', want: [] },
    {
      name: 'a nested skip with its reason',
      output:
        '▶ d\n  \uFE63 are valid PromQL (1.15ms) # promtool not on PATH\n  ✔ y (0.2ms)\n✔ d (3ms)\n\uFE63 top (0ms) # no binaries\n',
      want: ['are valid PromQL — promtool not on PATH', 'top — no binaries'],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(skippedTests(c.output), c.want));
});

describe('run-tests: tests over the end-to-end budget', () => {
  const output = [
    '▶ burst --runtime docker',
    '  ✔ runs a burst in containers (74521.1ms)',
    '  ✖ Ctrl-C during warm-up (200000.5ms)',
    '  ▶ nested suite',
    '    ✔ slow leaf (190000ms)',
    '  ✔ nested suite (190001ms)',
    '✔ burst --runtime docker (464522.6ms)',
  ].join('\n');
  it('names the slow tests, slowest first, never a suite', () =>
    assert.deepEqual(slowTests(output, 180_000), ['Ctrl-C during warm-up (200 s)', 'slow leaf (190 s)']));
  it('nothing over a higher limit', () => assert.deepEqual(slowTests(output, 300_000), []));
});

describe('run-tests: what failed and why, for the end of the log', () => {
  // A real spec-reporter output: a file with a passing test and two failing ones, one with a long message.
  const dir = mkdtempSync(join(tmpdir(), 'pushpull-failing-'));
  const file = join(dir, 'f.test.mjs');
  writeFileSync(
    file,
    [
      "import { it } from 'node:test';",
      "import assert from 'node:assert/strict';",
      "it('fine', () => {});",
      "it('round 2 settled', () => assert.equal(3, 2, 'round 2: one export per pod'));",
      "it('long', () => { throw new Error(Array.from({ length: 40 }, (_, i) => 'line ' + i).join('\\n')); });",
    ].join('\n'),
  );
  // Without the runner's NODE_TEST_CONTEXT, which would make the child report to us rather than print.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const run = spawnSync(process.execPath, ['--test', '--test-reporter=spec', file], {
    encoding: 'utf8',
    env,
  });
  rmSync(dir, { recursive: true, force: true });
  const summary = failureSummary(run.stdout, 14);

  it('one entry per failing test, named, with its message and without stack frames', () => {
    assert.equal(summary.length, 2, run.stdout);
    assert.match(summary[0]!, /^\u2716 round 2 settled/);
    assert.match(summary[0]!, /round 2: one export per pod/);
    assert.match(summary[0]!, /3 !== 2/);
    assert.doesNotMatch(summary.join('\n'), /^\s+at /m);
  });
  it('a long failure is capped', () => {
    const lines = summary[1]!.split('\n');
    assert.equal(lines.length, 15);
    assert.equal(lines.at(-1), '  …');
  });
  it('nothing for a passing output', () => assert.deepEqual(failureSummary('\u2714 fine (1ms)\n'), []));
});
