import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '@pushpull/common';
import { parse as parseYaml } from 'yaml';

// The repo's docker-compose.yml as compose itself reads it — with compose's variable substitution, so
// `PUSHPULL_*_IMAGE` picks the same images for every container runtime of the lab (docker, swarm) as for
// `docker compose up`. Each runtime then reads the fields it needs.

/** The parsed docker-compose.yml with every string value interpolated from `env`. */
export function readComposeDocument(repoRoot: string, env: NodeJS.ProcessEnv = process.env): unknown {
  const file = join(repoRoot, 'docker-compose.yml');
  return interpolateValues(parseYaml(readFileSync(file, 'utf8')), env, file);
}

const VAR = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * Compose's substitution in one string: `$$` → `$`, `${VAR}` / `$VAR`, `${VAR:-default}` (unset or empty),
 * `${VAR-default}` (unset), `${VAR:?message}` / `${VAR?message}` (required). Unset without a default is "".
 */
export function interpolate(text: string, env: NodeJS.ProcessEnv, where = 'docker-compose.yml'): string {
  return text.replace(
    VAR,
    (whole, braced?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === '$$') return '$';
      const name = braced ?? bare ?? '';
      const value = env[name];
      const missing = value === undefined || (colon === ':' && value === '');
      if (!missing || op === undefined) return value ?? '';
      if (op === '-') return arg ?? '';
      throw new LabError('LAB_ERR_CONFIG', `${where}: ${name} is required: ${arg || 'set it'}`);
    },
  );
}

/** Every string in a parsed compose document, interpolated (keys are left alone, as compose does). */
export function interpolateValues(v: unknown, env: NodeJS.ProcessEnv, where: string): unknown {
  if (typeof v === 'string') return interpolate(v, env, where);
  if (Array.isArray(v)) return v.map((x) => interpolateValues(x, env, where));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolateValues(x, env, where)]));
  return v;
}
