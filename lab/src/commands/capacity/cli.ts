import { join } from 'node:path';
import { formatHelp } from '@pushpull/common';
import { CAPACITY_FLAGS, parseCapacityFlags } from '../../capacity/flags.ts';
import { renderCapacityTerminal, writeCapacityReports } from '../../capacity/report.ts';
import { clockText, runCapacity } from '../../capacity/run.ts';
import { type CliIo, EXIT, withInterrupts } from '../../core/cli.ts';
import { prepareOutDir } from '../../core/outdir.ts';
import { paths, repoRoot } from '../../core/paths.ts';
import { makeRunId } from '../../core/workdir.ts';
import { heldStack } from '../../runtime/held.ts';
import { defaultSelect, type SelectFn } from '../../runtime/select.ts';
import { readState } from '../../runtime/stack-state.ts';

// `pushpull-lab capacity`: the largest fleet each collection path holds at the incident's per-pod load,
// and what the full fleet would need (an extrapolation). Exit 0 when it finished (whatever it found),
// 1 lab error, 2 bad usage, 130 interrupted (capacity.json written with what was measured).

export const CAPACITY_USAGE =
  'pushpull-lab capacity [--runtime process|docker] [--paths pull,push,pushgateway] [--budget 20m] [--out DIR] [flags]\n' +
  'Searches the largest fleet each path holds (×2 from --start-pods until a trial fails, then bisect to ±10 %),\n' +
  'each path alone, within a hard time budget; writes capacity.json, capacity.md, capacity.html and every trial.';

export interface CapacityCommandDeps {
  select?: SelectFn;
  signals?: NodeJS.EventEmitter;
  root?: string;
}

function keptRuns(stateDir: string): string[] {
  try {
    const st = readState(stateDir);
    return st ? [st.stack.runId] : [];
  } catch {
    return [];
  }
}

export async function capacityCommand(
  argv: string[],
  io: CliIo,
  deps: CapacityCommandDeps = {},
): Promise<number> {
  const { config, help } = parseCapacityFlags(argv, io.env);
  if (help) {
    io.out(`${formatHelp(CAPACITY_USAGE, CAPACITY_FLAGS)}\n`);
    return EXIT.ok;
  }
  const root = deps.root ?? repoRoot(io.env);
  const outDir = prepareOutDir(config.out ?? join(paths(root).runsDir, `capacity-${makeRunId()}`));
  const sel = await (deps.select ?? defaultSelect)(config.runtime, root);
  const held = heldStack();
  io.out(
    `capacity: ${config.paths.join(', ')} on the ${sel.factory.kind} runtime, budget ${clockText(config.budgetMs)} → ${outDir}\n`,
  );
  return withInterrupts(deps.signals ?? process, io, held, async (signal) => {
    const result = await runCapacity(config, outDir, {
      root,
      factory: sel.factory,
      selectionReasons: sel.reasons,
      keepRunIds: keptRuns(config.stateDir ?? paths(root).stateDir),
      signal,
      onRuntime: (rt, wd) => {
        held.runtime = rt;
        held.workDir = wd;
      },
      clock: { now: () => Date.now() },
      out: (s) => io.out(s),
      runtimeKind: sel.factory.kind,
    });
    const files = writeCapacityReports(outDir, result);
    io.out(
      `\n${renderCapacityTerminal(result)}\n\nwrote ${[join(outDir, 'capacity.json'), ...files].join(', ')}\n`,
    );
    if (result.interrupted) {
      io.err(`interrupted: capacity.json in ${outDir} holds what was measured; torn down\n`);
      return EXIT.interrupted;
    }
    return EXIT.ok;
  });
}
