import { LabError } from '@pushpull/common';
import { readComposeDocument } from '../compose-file.ts';

export { interpolate } from '../compose-file.ts';

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
  return readComposeDocument(repoRoot, env) as ComposeFile;
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
