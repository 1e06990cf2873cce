import { LabError } from '@pushpull/common';
import { type ProbeSource, type ProbeTargets, TICK_MS } from './source.ts';

// Liveness: a base-stack component or producer that stopped running ends the run, with the last output
// of (up to three of) them in the error so the user sees why.

export function healthSource(t: ProbeTargets): ProbeSource {
  return {
    name: 'health',
    // Every second (#24: coverage is measured at 1 s); runtime.dead() is cheap (pids or one engine list).
    periodMs: TICK_MS,
    duty: 1,
    async read(s, ctx) {
      const dead = await t.dead();
      s.dead = dead;
      // #27: a host's collector agent that dies is a push-path failure the run measures (agent-died), not
      // the lab failing: the run goes on.
      const fatal = dead.filter((n) => !/^agent-\d+$/.test(n));
      if (fatal.length > 0 && !ctx.fatal) ctx.stopRun(await componentsStopped(t, fatal));
    },
  };
}

async function componentsStopped(t: ProbeTargets, dead: string[]): Promise<LabError> {
  const tails: string[] = [];
  for (const name of dead.slice(0, 3)) {
    const out = t.logs ? await t.logs(name).catch(() => '') : '';
    if (out) tails.push(`--- last output of ${name}:\n${out}`);
  }
  return new LabError(
    'LAB_ERR_CHILD_EXIT',
    `component(s) stopped running during the run: ${dead.join(', ')}${tails.length ? `\n${tails.join('\n')}` : ''}`,
    { components: dead },
  );
}
