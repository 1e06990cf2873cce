import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { type FlagSpecs, formatHelp, LabError, parseArgs } from '@pushpull/common';
import type { CliIo } from '../../core/cli.ts';
import { prepareOutDir } from '../../core/outdir.ts';
import { paths, repoRoot } from '../../core/paths.ts';
import { READABLE_SCHEMAS, type RunRecord } from '../../core/record.ts';
import { makeRunId } from '../../core/workdir.ts';
import { type LabelledRun, renderCompareHtml, renderCompareMarkdown } from '../../report/compare.ts';
import { renderHtml, renderMarkdown, renderTerminalSummary } from '../../report/render.ts';

// `pushpull-lab report DIR` re-renders DIR/report.md and DIR/report.html from DIR/run.json (run@1, run@2
// or run@3), e.g. after the report itself improved; `pushpull-lab compare DIR_A DIR_B …` writes one
// side-by-side report of several runs. Both only read records: nothing is started, nothing measured.

const SCHEMAS = new Set<string>(READABLE_SCHEMAS);

export const REPORT_FLAGS: FlagSpecs = { help: { kind: 'bool', default: false, help: 'show this help' } };
export const COMPARE_FLAGS: FlagSpecs = {
  out: {
    kind: 'string',
    env: 'LAB_OUT',
    help: 'where compare.md and compare.html go (default runs/compare-<timestamp>)',
  },
  help: { kind: 'bool', default: false, help: 'show this help' },
};
export const REPORT_USAGE =
  'pushpull-lab report DIR\nRe-renders DIR/report.md and DIR/report.html from DIR/run.json (record run@1, run@2 or run@3).';
export const COMPARE_USAGE =
  'pushpull-lab compare DIR_A DIR_B [DIR…] [--out DIR]\nOne side-by-side report of several runs: verdicts, loss by cause, peaks, overlaid charts.';

const bad = (msg: string, value: string) => new LabError('LAB_ERR_FLAG_VALUE', msg, { value });

/** DIR/run.json, checked to be a run record this lab can render (both schemas); a usage error otherwise. */
export function readRunRecord(dir: string): RunRecord {
  const file = join(resolve(dir), 'run.json');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw bad(`${dir}: not a directory`, dir);
  if (!existsSync(file)) throw bad(`${dir}: no run.json in it (give a burst's --out directory)`, dir);
  let r: Partial<RunRecord>;
  try {
    r = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunRecord>;
  } catch (e) {
    throw bad(`${file}: not JSON (${(e as Error).message})`, file);
  }
  if (typeof r !== 'object' || r === null || !SCHEMAS.has(String(r.schema)))
    throw bad(
      `${file}: schema "${String((r as { schema?: unknown } | null)?.schema)}" is not a run record this lab reads (${[...SCHEMAS].join(', ')})`,
      file,
    );
  const missing = (['config', 'environment', 'paths', 'series', 'phases', 'firstFailures', 'peaks'] as const)
    .filter((k) => r[k] === undefined || r[k] === null)
    .concat(r.paths && (!r.paths.pull || !r.paths.push) ? ['paths.pull/push' as never] : []);
  if (missing.length > 0) throw bad(`${file}: incomplete record, missing ${missing.join(', ')}`, file);
  return r as RunRecord;
}

export async function reportCommand(argv: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseArgs(argv, REPORT_FLAGS, io.env);
  if (flags.help) {
    io.out(`${formatHelp(REPORT_USAGE, REPORT_FLAGS)}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw bad(`report: give exactly one run directory (got ${positionals.length})`, positionals.join(' '));
  const dir = resolve(positionals[0]!);
  const r = readRunRecord(dir);
  const files = [join(dir, 'report.md'), join(dir, 'report.html')];
  writeFileSync(files[0]!, renderMarkdown(r));
  writeFileSync(files[1]!, renderHtml(r));
  io.out(`${renderTerminalSummary(r)}\n\nwrote ${files.join(', ')}\n`);
  return 0;
}

export async function compareCommand(argv: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseArgs(argv, COMPARE_FLAGS, io.env);
  if (flags.help) {
    io.out(`${formatHelp(COMPARE_USAGE, COMPARE_FLAGS)}\n`);
    return 0;
  }
  if (positionals.length < 2)
    throw bad(
      `compare: give at least two run directories (got ${positionals.length})`,
      positionals.join(' '),
    );
  // Read every record before creating anything, so a bad directory leaves no empty output behind.
  const runs: LabelledRun[] = positionals.map((d) => ({
    label: basename(resolve(d)),
    record: readRunRecord(d),
  }));
  const labels = new Set<string>();
  for (const run of runs) {
    let l = run.label;
    for (let i = 2; labels.has(l); i++) l = `${run.label} (${i})`;
    labels.add(l);
    run.label = l;
  }
  const out =
    typeof flags.out === 'string'
      ? flags.out
      : join(paths(repoRoot(io.env)).runsDir, `compare-${makeRunId()}`);
  const dir = prepareOutDir(out);
  const files = [join(dir, 'compare.md'), join(dir, 'compare.html')];
  writeFileSync(files[0]!, renderCompareMarkdown(runs));
  writeFileSync(files[1]!, renderCompareHtml(runs));
  io.out(`${runs.map((x) => `${x.label}: ${x.record.verdict}`).join('\n')}\n\nwrote ${files.join(', ')}\n`);
  return 0;
}
