import { join } from 'node:path';
import { formatHelp } from '@pushpull/common';
import { selfCheckText } from '../../analysis/self-check.ts';
import type { RunPlan } from '../../burst/eta.ts';
import { BURST_FLAGS, parseBurstFlags } from '../../burst/flags.ts';
import { warmupLimitMs } from '../../burst/phases/warmup.ts';
import { loadProfileFile, profileLengthMs } from '../../burst/profile.ts';
import { createProgress } from '../../burst/progress.ts';
import { repeatCommand } from '../../burst/repeat.ts';
import { runBurst } from '../../burst/run.ts';
import { holdLines, holdUntil, watchedFactory } from '../../burst/watch.ts';
import { type CliIo, EXIT, withInterrupts } from '../../core/cli.ts';
import { planHelp } from '../../core/flags.ts';
import { prepareOutDir } from '../../core/outdir.ts';
import { paths, repoRoot } from '../../core/paths.ts';
import type { BurstConfig, RunRecord } from '../../core/record.ts';
import { RUNTIME_CHOICES } from '../../core/record.ts';
import { makeRunId } from '../../core/workdir.ts';
import { renderTerminalSummary, reportFiles, writeReport } from '../../report/render.ts';
import { heldStack } from '../../runtime/held.ts';
import { defaultSelect, type SelectFn } from '../../runtime/select.ts';
import { readState } from '../../runtime/stack-state.ts';

// `pushpull-lab burst`: one market-open run; writes run.json, report.md and report.html. Exit 3 when
// --fail-on holds, 1 when the run failed.

export const BURST_USAGE =
  `pushpull-lab burst [--runtime ${RUNTIME_CHOICES.join('|')}] [--pods N] [--duration D] [--fail-on EXPR] [flags]\n` +
  'One market-open run: warm-up, the open, hold, decay, final scrapes; writes run.json, report.md, report.html.';

/** The default burst window: the market-open profile's length in whole seconds (as the run fits it). */
function profileWindowMs(root: string): number | null {
  try {
    return Math.ceil(profileLengthMs(loadProfileFile(paths(root).marketOpenProfile)) / 1000) * 1000;
  } catch {
    return null; // the run itself reports an unreadable profile
  }
}

/** `burst --help` with the true --duration default: the length of the profile the run would use. */
export function burstHelp(root: string): string {
  const ms = profileWindowMs(root);
  const duration = {
    ...BURST_FLAGS.duration!,
    defaultText: `the profile's ramp+hold+decay${ms === null ? '' : `, ${ms / 1000} s`}`,
  };
  return `${formatHelp(BURST_USAGE, { ...BURST_FLAGS, duration })}\n\n${planHelp()}`;
}

/** The run's planned phases, for the progress ETA. */
function runPlan(config: BurstConfig, root: string): RunPlan {
  return {
    warmupMaxMs: warmupLimitMs(config),
    leadMs: config.leadMs,
    burstMs: config.durationMs || (profileWindowMs(root) ?? 121_000),
    scrapeIntervalMs: config.scrapeIntervalMs,
  };
}

function summaryText(record: RunRecord, outDir: string): string {
  return `${renderTerminalSummary(record)}\n\nrecord and report: ${reportFiles(outDir).join(', ')}`;
}

export interface BurstCommandDeps {
  select?: SelectFn;
  signals?: NodeJS.EventEmitter;
  root?: string;
}

/** Runs that must survive the reaper: the stack `up` recorded (it shares the CPU with this run). */
function keptRuns(stateDir: string, io: CliIo): string[] {
  try {
    const st = readState(stateDir);
    if (!st) return [];
    io.err(
      `note: a stack started by \`up\` is running (run ${st.stack.runId}); it shares the CPU with this run\n`,
    );
    return [st.stack.runId];
  } catch {
    return [];
  }
}

export async function burstCommand(argv: string[], io: CliIo, deps: BurstCommandDeps = {}): Promise<number> {
  const { config, help, stateDir, watch: watchFlags } = parseBurstFlags(argv, io.env);
  if (help) {
    io.out(`${burstHelp(deps.root ?? repoRoot(io.env))}\n`);
    return EXIT.ok;
  }
  const root = deps.root ?? repoRoot(io.env);
  const sel = await (deps.select ?? defaultSelect)(config.runtime, root);
  const held = heldStack();
  const outRoot = config.out ? prepareOutDir(config.out) : null;
  const { factory, watch } = watchedFactory(sel.factory, { grafana: watchFlags.grafana, root, env: io.env });
  return withInterrupts(deps.signals ?? process, io, held, async (signal) => {
    let summarised = false;
    const progress = () =>
      createProgress(
        {
          write: (s) => io.out(s),
          isTTY: io.isTTY,
          ...(io.columns ? { columns: io.columns } : {}),
        },
        { plan: runPlan(config, root) },
      );
    let sink: ReturnType<typeof progress> | null = null;
    const runOnce = (cfg: BurstConfig) => {
      sink = progress();
      return runBurst(cfg, {
        root,
        factory,
        selectionReasons: sel.reasons,
        progress: sink,
        signal,
        keepRunIds: keptRuns(stateDir ?? paths(root).stateDir, io),
        onRuntime: (rt, wd) => {
          held.runtime = rt;
          held.workDir = wd;
        },
        onRecord: async (record, outDir) => {
          writeReport(outDir, record);
          if (!watchFlags.hold || signal.aborted) return;
          // The hold: the record and report are written; the stack stays up until Ctrl-C (the normal end).
          sink?.close(); // the live status line gives way to the summary
          io.out(`\n${summaryText(record, outDir)}\n\n${holdLines(watch).join('\n')}\n`);
          summarised = true;
          await holdUntil(signal);
        },
      });
    };
    if (config.repeat && config.repeat > 1)
      return repeatCommand(
        config,
        outRoot ?? join(paths(root).runsDir, `repeat-${makeRunId()}`),
        runOnce,
        io,
      );
    const { record, outDir, interrupted } = await runOnce(config);
    io.out(summarised ? 'hold ended; torn down\n' : `\n${summaryText(record, outDir)}\n`);
    if (interrupted) {
      io.err(`interrupted: the partial record is in ${outDir}; torn down\n`);
      return EXIT.interrupted;
    }
    if (record.selfCheck && record.selfCheck.length > 0) {
      io.err(`LAB_ERR_SELF_CHECK: ${selfCheckText(record.selfCheck)}\n`);
      return EXIT.failed;
    }
    if (record.error) return EXIT.failed;
    if (record.failOn?.met) return EXIT.failOn;
    return EXIT.ok;
  });
}
