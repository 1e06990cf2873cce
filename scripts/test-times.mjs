// The pure parts of scripts/run-tests.mjs: which files run serially, the per-file time table, and the
// totals summed from each file's spec-reporter footer. Tested in lab/test/test-times.test.ts.

/** Integration and end-to-end files start real stacks and time real traffic: one at a time. */
export function isSerial(file) {
  return /\.(int|docker)\.test\.ts$/.test(file);
}

/** Each file's wall time, slowest first, with the run's wall time and how it ran. */
export function formatTimes(rows, { wallMs, jobs, concurrent, serial }) {
  const sorted = [...rows].sort((a, b) => b.ms - a.ms || a.file.localeCompare(b.file));
  const width = Math.max(4, ...sorted.map((r) => r.file.length));
  const lines = [
    `Time per test file, slowest first (${concurrent} unit file(s) ${jobs} at a time, ${serial} integration/e2e file(s) one at a time):`,
    `  ${'file'.padEnd(width)}  ${'seconds'.padStart(8)}`,
  ];
  for (const r of sorted)
    lines.push(`  ${r.file.padEnd(width)}  ${(r.ms / 1000).toFixed(1).padStart(8)}${r.ok ? '' : '  FAILED'}`);
  const sum = rows.reduce((a, r) => a + r.ms, 0);
  lines.push(`  wall ${(wallMs / 1000).toFixed(1)} s (sum over files ${(sum / 1000).toFixed(1)} s)`);
  return lines.join('\n');
}

const KEYS = ['tests', 'pass', 'fail', 'skipped', 'todo'];

/** Sums the `ℹ tests N`, `ℹ pass N`, … footer lines of several spec-reporter outputs. */
export function parseCounts(outputs) {
  const total = Object.fromEntries(KEYS.map((k) => [k, 0]));
  for (const out of outputs)
    for (const k of KEYS) {
      const m = out.match(new RegExp(`^\\S+ ${k} (\\d+)$`, 'm'));
      if (m) total[k] += Number(m[1]);
    }
  return total;
}

/** The tests a spec-reporter output marks skipped (`﹣ name (1ms) # reason`), as `name — reason`. */
export function skippedTests(output) {
  const out = [];
  for (const m of output.matchAll(/^\s*\uFE63 (.*?) \([\d.]+m?s\) # (.*)$/gm)) out.push(`${m[1]} — ${m[2]}`);
  return out;
}

/**
 * The tests (not suites) of a spec-reporter output that took longer than `limitMs`, slowest first, as
 * `name (N s)`. A suite prints `▶ name` before its tests and `✔ name (ms)` after them at the same indent.
 */
export function slowTests(output, limitMs) {
  const suites = new Set([...output.matchAll(/^(\s*)\u25B6 (.*)$/gm)].map((m) => `${m[1]}${m[2]}`));
  const slow = [];
  for (const m of output.matchAll(/^(\s*)[\u2714\u2716] (.*) \(([\d.]+)ms\)$/gm))
    if (!suites.has(`${m[1]}${m[2]}`) && Number(m[3]) > limitMs) slow.push({ name: m[2], ms: Number(m[3]) });
  return slow.sort((a, b) => b.ms - a.ms).map((t) => `${t.name} (${(t.ms / 1000).toFixed(0)} s)`);
}

/**
 * The `✖ failing tests:` section a spec-reporter output ends with, stack frames left out and each test's
 * lines capped at `maxLines`: what failed and why, short enough to be printed last, where a CI log's tail
 * (the part that gets read) shows it.
 */
export function failureSummary(output, maxLines = 14) {
  const at = output.lastIndexOf('\u2716 failing tests:');
  if (at < 0) return [];
  const blocks = [];
  let where = '';
  for (const line of output.slice(at).split('\n').slice(1)) {
    if (line.startsWith('test at ')) where = line;
    else if (/^\u2716 /.test(line)) blocks.push(where ? [line, `  (${where})`] : [line]);
    else if (blocks.length > 0 && !/^\s+at /.test(line) && line.trim() !== '') blocks.at(-1).push(line);
  }
  return blocks.map((b) => (b.length > maxLines ? [...b.slice(0, maxLines), '  …'] : b).join('\n'));
}
