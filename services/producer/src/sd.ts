import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { formatHostPort } from '@pushpull/common';

// Self-registration for Prometheus file_sd: DIR/<name>.json, one entry per pod, written atomically
// (temporary file in the same directory + rename, so Prometheus never reads half a file) and removed on a
// clean exit. Shape: docs/contracts.md "--sd-dir".

export interface SdEntry {
  targets: string[];
  labels: { __metrics_path__: string; pod: string; container: string };
}

export function sdEntries(advertise: string, name: string, podIds: readonly string[]): SdEntry[] {
  return podIds.map((id) => ({
    targets: [advertise],
    labels: { __metrics_path__: `/pods/${id}/metrics`, pod: id, container: name },
  }));
}

export function sdFilePath(dir: string, name: string): string {
  return join(dir, `${name}.json`);
}

export async function writeSdFile(dir: string, name: string, entries: SdEntry[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const final = sdFilePath(dir, name);
  const tmp = join(dir, `.${name}.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, `${JSON.stringify(entries, null, 1)}\n`, { mode: 0o644 });
    await rename(tmp, final);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return final;
}

export async function removeSdFile(dir: string, name: string): Promise<void> {
  await rm(sdFilePath(dir, name), { force: true });
}

/** First non-internal IPv4 address of this host, or null. */
export function firstExternalIPv4(): string | null {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

/**
 * The address Prometheus should scrape. Explicit --advertise wins. Otherwise: listening on a wildcard
 * address (0.0.0.0 / ::) -> the first non-internal IPv4 (what another container can reach); listening on
 * a specific address (e.g. 127.0.0.1 in the process runtime) -> that address, since nothing else answers.
 */
export function defaultAdvertise(listenHost: string, port: number, external = firstExternalIPv4()): string {
  const wildcard = listenHost === '0.0.0.0' || listenHost === '::' || listenHost === '';
  const host = wildcard ? (external ?? '127.0.0.1') : listenHost;
  return formatHostPort({ host, port });
}
