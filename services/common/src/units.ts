import { LabError } from './errors.ts';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses "800ms", "15s", "2m", "1.5h", a bare number of seconds, or a sum of parts as the lab prints
 * durations ("6m40s", "1h2m3s", "1m30s500ms") into milliseconds. One parser for every duration flag.
 */
export function parseDurationMs(text: string, what = 'duration'): number {
  const bad = () =>
    new LabError('LAB_ERR_FLAG_VALUE', `${what}: "${text}" is not a duration (e.g. 800ms, 15s, 2m, 6m40s)`);
  const t = text.trim();
  const bare = /^(\d+(?:\.\d+)?)$/.exec(t);
  let value = 0;
  if (bare) value = Number(bare[1]) * 1000;
  else {
    // Parts each once, largest unit first: "6m40s", not "40s6m" or "1m1m".
    if (
      !/^(?:\d+(?:\.\d+)?h)?(?:\d+(?:\.\d+)?m(?!s))?(?:\d+(?:\.\d+)?s)?(?:\d+(?:\.\d+)?ms)?$/.test(t) ||
      t === ''
    )
      throw bad();
    for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) value += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  }
  if (!Number.isFinite(value)) throw new LabError('LAB_ERR_FLAG_VALUE', `${what}: "${text}" is out of range`);
  return Math.round(value);
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1 << 20,
  mb: 1 << 20,
  mib: 1 << 20,
};

/** Parses "8MiB", "212992", "64k" into bytes. */
export function parseBytes(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase() || 'b'];
  if (!m || unit === undefined)
    throw new LabError('LAB_ERR_FLAG_VALUE', `${what}: "${text}" is not a size (e.g. 8MiB, 65536)`);
  return Math.round(Number(m[1]) * unit);
}

export interface HostPort {
  host: string;
  port: number;
}

/** Parses "127.0.0.1:8125", ":8125", "[::1]:8125" or "0.0.0.0:0". Port 0 means "any free port". */
export function parseHostPort(text: string, what = 'address', defaultHost = '127.0.0.1'): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new LabError('LAB_ERR_ADDRESS', `${what}: "${text}" is not HOST:PORT (e.g. 127.0.0.1:8125)`);
  }
  const host = m[1] ?? (m[2] === '' || m[2] === undefined ? defaultHost : m[2]);
  return { host, port };
}

export function formatHostPort(a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
