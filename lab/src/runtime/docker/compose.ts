import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '@pushpull/common';
import { parse as parseYaml } from 'yaml';

// The repo's docker-compose.yml, read for the services' images, commands and ports, so the lab runs exactly
// what users run with compose — including compose's variable substitution, so `PUSHPULL_*_IMAGE` picks the
// same image for the lab as for `docker compose up`.

export interface ComposeService {
  image: string;
  command?: string[];
  network_mode?: string;
  ports?: string[];
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** The services whose images the lab needs (it never pulls). */
export const STACK_SERVICES = ['prometheus', 'pushgateway', 'collector', 'node-exporter', 'producer'];

export function readCompose(repoRoot: string, env: NodeJS.ProcessEnv = process.env): ComposeFile {
  const file = join(repoRoot, 'docker-compose.yml');
  return interpolateValues(parseYaml(readFileSync(file, 'utf8')), env, file) as ComposeFile;
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
function interpolateValues(v: unknown, env: NodeJS.ProcessEnv, where: string): unknown {
  if (typeof v === 'string') return interpolate(v, env, where);
  if (Array.isArray(v)) return v.map((x) => interpolateValues(x, env, where));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolateValues(x, env, where)]));
  return v;
}

export function composeService(compose: ComposeFile, name: string): ComposeService {
  const s = compose.services[name];
  if (!s) throw new LabError('LAB_ERR_CONFIG', `docker-compose.yml has no service "${name}"`);
  return s;
}

/** Container port (e.g. "9090/tcp") of each `127.0.0.1:H:C[/proto]` entry of a compose service. */
export function containerPorts(ports: readonly string[] | undefined): string[] {
  return (ports ?? []).map((p) => {
    const parts = p.split(':');
    const last = parts[parts.length - 1] ?? '';
    return last.includes('/') ? last : `${last}/tcp`;
  });
}
