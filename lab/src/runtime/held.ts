import { removeWorkDir } from '../core/workdir.ts';
import type { Runtime } from './types.ts';

// What a verb holds while a stack is up, so an interrupt (core/cli.ts withInterrupts) can kill it at once:
// the runtime it started and the run's work dir. Set as the run starts them; killNow() is the second
// Ctrl-C's "stop everything now".

export interface HeldStack {
  runtime: Runtime | null;
  workDir: string | null;
  killNow(): void;
}

export function heldStack(): HeldStack {
  return {
    runtime: null,
    workDir: null,
    killNow() {
      this.runtime?.killNow?.();
      if (this.workDir) removeWorkDir(this.workDir);
    },
  };
}
