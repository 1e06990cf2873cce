import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '@pushpull/common';
import { RUNTIME_KINDS } from '../core/record.ts';
import type { StackState } from './types.ts';

// `.lab/state.json`: the stack `up` started, so `status`, `scale` and `down` (later invocations) can
// re-attach to it. Written atomically (tmp + rename). The directory is gitignored.

export interface LabStateFile {
  version: 1;
  savedAt: string;
  stack: StackState;
  selection: string[];
}

export const stateFilePath = (dir: string) => join(dir, 'state.json');

export function readState(dir: string): LabStateFile | null {
  const path = stateFilePath(dir);
  if (!existsSync(path)) return null;
  let parsed: LabStateFile;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as LabStateFile;
  } catch (e) {
    throw new LabError(
      'LAB_ERR_CONFIG',
      `${path} is not valid JSON (${(e as Error).message}); delete it after stopping the stack by hand`,
    );
  }
  if (
    parsed.version !== 1 ||
    !parsed.stack ||
    !(RUNTIME_KINDS as readonly string[]).includes(parsed.stack.kind)
  )
    throw new LabError(
      'LAB_ERR_CONFIG',
      `${path}: unknown state format; delete it after stopping the stack by hand`,
    );
  return parsed;
}

export function writeState(dir: string, stack: StackState, selection: string[]): void {
  mkdirSync(dir, { recursive: true });
  const path = stateFilePath(dir);
  const tmp = `${path}.${process.pid}.tmp`;
  const body: LabStateFile = { version: 1, savedAt: new Date().toISOString(), stack, selection };
  writeFileSync(tmp, `${JSON.stringify(body, null, 1)}\n`);
  renameSync(tmp, path);
}

export function clearState(dir: string): void {
  rmSync(stateFilePath(dir), { force: true });
}
