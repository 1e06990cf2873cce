import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// The command line every long fuzz run shares: `--runs N` (default 100,000) and `--seed S` (default: from the
// clock, printed in the result so a failure can be replayed), and where its result is written.

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

export function fuzzRunArgs(): { runs: number; seed: number } {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '100000' },
      seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    },
  });
  return { runs: Number(values.runs), seed: Number(values.seed) };
}
