import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { LabError } from '@pushpull/common';

// Where a run writes its record and reports, checked before anything starts: a bad --out must fail in a
// second, not after a three-minute run. An existing empty directory is fine; a file, a directory that
// already holds something (another run's record) or a path we cannot write is a usage error (exit 2).

export function prepareOutDir(path: string, flag = '--out'): string {
  const dir = resolve(path);
  if (existsSync(dir)) {
    const st = statSync(dir);
    if (!st.isDirectory())
      throw new LabError('LAB_ERR_FLAG_VALUE', `${flag}: ${dir} is a file, not a directory`, {
        flag: flag.replace(/^--/, ''),
        value: dir,
      });
    const entries = readdirSync(dir);
    if (entries.length > 0)
      throw new LabError(
        'LAB_ERR_FLAG_VALUE',
        `${flag}: ${dir} is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); give a new or empty directory so no earlier record is overwritten`,
        { flag: flag.replace(/^--/, ''), value: dir },
      );
  } else {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new LabError('LAB_ERR_FLAG_VALUE', `${flag}: cannot create ${dir}: ${(e as Error).message}`, {
        flag: flag.replace(/^--/, ''),
        value: dir,
      });
    }
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new LabError('LAB_ERR_FLAG_VALUE', `${flag}: ${dir} is not writable`, {
      flag: flag.replace(/^--/, ''),
      value: dir,
    });
  }
  return dir;
}
