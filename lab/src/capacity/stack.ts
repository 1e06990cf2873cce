import type { SharedStack } from '../burst/run.ts';
import { makeRunId, newWorkDir, removeWorkDir } from '../core/workdir.ts';
import type { Runtime, RuntimeFactory } from '../runtime/types.ts';

// One stack per search (#25): the trials of a search (one path, one resource plan) share Prometheus, the
// collector and the Pushgateway; each trial starts its own fleet and stops it at its end (burst/reuse.ts says
// how a trial reads only what it produced). A trial that could not run, or after which a base component is
// dead, retires the stack: the next trial brings up a fresh one. `--fresh-stack` keeps one stack per trial.

export interface TrialStackDeps {
  factory: RuntimeFactory;
  keepRunIds: string[];
  log(msg: string): void;
  onRuntime?: (rt: Runtime, workDir: string) => void;
}

export class TrialStack {
  private shared: Omit<SharedStack, 'reused'> | null = null;
  /** Trials run on the current stack (0 = the next one brings it up). */
  private runs = 0;
  /** Stacks brought up so far (capacity.json: how often a search had to start over). */
  stacks = 0;

  constructor(private readonly deps: TrialStackDeps) {}

  /** The stack for the next trial, and whether it was already up (false = this trial brings it up). */
  async next(): Promise<{ stack: SharedStack; reused: boolean }> {
    if (!this.shared) {
      const reaped = await this.deps.factory.reap(this.deps.keepRunIds).catch(() => []);
      if (reaped.length > 0) this.deps.log(`removed leftovers of earlier runs: ${reaped.join(', ')}`);
      const runId = makeRunId();
      const workDir = newWorkDir(runId);
      const runtime = this.deps.factory.create();
      this.deps.onRuntime?.(runtime, workDir);
      this.shared = { runtime, workDir, runId };
      this.runs = 0;
      this.stacks++;
    }
    this.runs++;
    const reused = this.runs > 1;
    return { stack: { ...this.shared, reused }, reused };
  }

  /** After a trial: keep the stack while every base component runs and the trial ran; else retire it. */
  async after(ran: boolean): Promise<void> {
    if (!this.shared) return;
    const dead = ran ? await this.shared.runtime.dead().catch((e: Error) => [String(e.message)]) : ['trial'];
    if (dead.length === 0) return;
    this.deps.log(
      `the shared stack is retired (${dead.join(', ')} not running): the next trial starts a fresh one`,
    );
    await this.close();
  }

  /** Tears the stack down (safe to call twice). */
  async close(): Promise<void> {
    const s = this.shared;
    this.shared = null;
    if (!s) return;
    await s.runtime.down().catch((e: Error) => this.deps.log(`teardown: ${e.message}`));
    removeWorkDir(s.workDir);
  }
}
