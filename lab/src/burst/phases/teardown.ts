import { removeWorkDir } from '../../core/workdir.ts';
import type { RunContext } from '../context.ts';
import { producerOptions } from './start.ts';

// Teardown: everything the run started goes, whatever happened (also on Ctrl-C).

export async function teardown(ctx: RunContext): Promise<void> {
  const { progress } = ctx;
  await ctx.probe?.stop();
  ctx.pushAgents?.stop();
  if (ctx.deps.stack) {
    // A shared stack stays up for the next run: only this run's fleet goes (its owner tears the rest down).
    progress.note('stopping the fleet (the stack stays up)');
    await ctx.runtime
      .scale(0, producerOptions(ctx.config))
      .catch((e: Error) => progress.note(`teardown: ${e.message}`));
    ctx.members = [];
    progress.close();
    return;
  }
  progress.note('tearing down');
  await ctx.runtime.down().catch((e: Error) => progress.note(`teardown: ${e.message}`));
  removeWorkDir(ctx.workDir);
  progress.close();
}
