import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from '@pushpull/common';

// The repository root: where prometheus/, services/*/dist and .lab/ live. Found by walking up from this
// module (works from lab/src under tsx and from the lab/dist bundle); PUSHPULL_ROOT overrides.

export function repoRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PUSHPULL_ROOT) return env.PUSHPULL_ROOT;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'prometheus', 'prometheus.yml')) && existsSync(join(dir, 'package.json')))
      return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new LabError(
    'LAB_ERR_CONFIG',
    `cannot find the repository root (prometheus/prometheus.yml) above ${fileURLToPath(import.meta.url)}; set PUSHPULL_ROOT`,
  );
}

export const paths = (root: string) => ({
  prometheusYml: join(root, 'prometheus', 'prometheus.yml'),
  prometheusDir: join(root, 'prometheus'),
  collectorMain: join(root, 'services', 'collector', 'dist', 'main.js'),
  producerMain: join(root, 'services', 'producer', 'dist', 'main.js'),
  marketOpenProfile: join(root, 'services', 'producer', 'profiles', 'market-open.json'),
  stateDir: join(root, '.lab'),
  runsDir: join(root, 'runs'),
});
