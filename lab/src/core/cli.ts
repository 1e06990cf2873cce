import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, isLabError, LabError } from '@pushpull/common';

// The plumbing every command shares: its I/O, its exit codes, and Ctrl-C. Exit codes: 0 ok, 1 the lab
// failed (LAB_ERR_*), 2 bad usage (unknown flag, bad value), 3 --fail-on condition met (burst) / no stack
// up (status), 130 interrupted (Ctrl-C / SIGTERM: everything started was torn down first).

export interface CliIo {
  out(s: string): void;
  err(s: string): void;
  isTTY: boolean;
  columns?: number;
  env: NodeJS.ProcessEnv;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, failOn: 3, notUp: 3, interrupted: 130 } as const;

/** The lab's version: lab/package.json's, read at run time so the bundle and the sources agree. */
export function labVersion(root: string): string {
  const file = join(root, 'lab', 'package.json');
  try {
    const v = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    if (typeof v === 'string' && v) return v;
  } catch {
    // fall through to the one error below
  }
  throw new LabError('LAB_ERR_CONFIG', `cannot read the version from ${file}`);
}

/** The exit code for an error that ended a command (and its message on stderr). */
export function exitFor(e: unknown, io: Pick<CliIo, 'err'>): number {
  if (isLabError(e, 'LAB_ERR_INTERRUPTED')) {
    io.err(`${describeError(e)}; torn down\n`);
    return EXIT.interrupted;
  }
  io.err(`${describeError(e)}\n`);
  if (isLabError(e, 'LAB_ERR_FLAG_UNKNOWN') || isLabError(e, 'LAB_ERR_FLAG_VALUE')) return EXIT.usage;
  return EXIT.failed;
}

/** What a second Ctrl-C must stop at once (set by the command once it has started something). */
export interface Held {
  killNow?: () => void;
}

/**
 * SIGINT/SIGTERM → abort the run (every wait wakes up, `finally` tears down, exit 130). A second signal
 * while tearing down → `held.killNow()` (SIGKILL everything right away) and exit 130.
 */
export function interrupts(
  signals: NodeJS.EventEmitter,
  io: Pick<CliIo, 'err'>,
  held: Held,
): { signal: AbortSignal; dispose(): void } {
  const ctl = new AbortController();
  // Every in-flight request listens to this signal (dozens at a time with a large fleet).
  setMaxListeners(0, ctl.signal);
  let count = 0;
  const onSignal = (sig: string) => {
    count++;
    if (count === 1) {
      io.err(`\n${sig}: stopping — tearing down everything this run started (again to force)\n`);
      ctl.abort(new LabError('LAB_ERR_INTERRUPTED', `interrupted by ${sig}`));
      return;
    }
    io.err(`${sig} again: killing now\n`);
    held.killNow?.();
    process.exit(EXIT.interrupted);
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  signals.on('SIGINT', onInt);
  signals.on('SIGTERM', onTerm);
  return {
    signal: ctl.signal,
    dispose() {
      signals.off('SIGINT', onInt);
      signals.off('SIGTERM', onTerm);
    },
  };
}

/** Runs `fn` with Ctrl-C wired to an AbortSignal, and unwires it afterwards. */
export async function withInterrupts<T>(
  signals: NodeJS.EventEmitter,
  io: Pick<CliIo, 'err'>,
  held: Held,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const intr = interrupts(signals, io, held);
  try {
    return await fn(intr.signal);
  } finally {
    intr.dispose();
  }
}
