import { removeWorkDir } from '../../core/workdir.ts';
import type { RunContext } from '../context.ts';

// Teardown: everything the run started goes, whatever happened (also on Ctrl-C).

export async function teardown(ctx: RunContext): Promise<void> {
  const { progress } = ctx;
  await ctx.probe?.stop();
  ctx.pushAgents?.stop();
  progress.note('tearing down');
  await ctx.runtime.down().catch((e: Error) => progress.note(`teardown: ${e.message}`));
  removeWorkDir(ctx.workDir);
  progress.close();
}
