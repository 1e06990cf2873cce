import { readFileSync } from 'node:fs';

// The kernel's UDP counters of this network namespace (/proc/net/snmp), so a drop before the socket
// (receive buffer full) is visible without node-exporter. Two lines per protocol: names, then values.

export interface UdpKernelCounters {
  InDatagrams: number;
  InErrors: number;
  RcvbufErrors: number;
  NoPorts: number;
}

/** Parses the "Udp:" header/value line pair of /proc/net/snmp; null when absent or malformed. */
export function parseProcNetSnmp(text: string): UdpKernelCounters | null {
  const lines = text.split('\n').filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return null;
  const names = lines[0]!.trim().split(/\s+/).slice(1);
  const values = lines[1]!.trim().split(/\s+/).slice(1).map(Number);
  const get = (k: string): number | undefined => {
    const i = names.indexOf(k);
    const v = i >= 0 ? values[i] : undefined;
    return v !== undefined && Number.isFinite(v) ? v : undefined;
  };
  const InDatagrams = get('InDatagrams');
  const InErrors = get('InErrors');
  const RcvbufErrors = get('RcvbufErrors');
  const NoPorts = get('NoPorts');
  if (InDatagrams === undefined || InErrors === undefined || RcvbufErrors === undefined) return null;
  return { InDatagrams, InErrors, RcvbufErrors, NoPorts: NoPorts ?? 0 };
}

/** Reads the counters; null where /proc/net/snmp does not exist (not Linux) or cannot be read. */
export function readUdpKernelCounters(path = '/proc/net/snmp'): UdpKernelCounters | null {
  try {
    return parseProcNetSnmp(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Drops counted by the kernel on the sockets bound to `port` (/proc/net/udp{,6}: the last column,
 * sk_drops: datagrams that found the receive buffer full). Unlike the namespace-wide Udp counters this
 * is the collector's own socket. null when no socket on that port is listed.
 */
export function parseProcNetUdpDrops(text: string, port: number): number | null {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let drops: number | null = null;
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
    if (cols.length < 13 || !cols[1]?.endsWith(hex)) continue;
    const d = Number(cols[cols.length - 1]);
    if (Number.isFinite(d)) drops = (drops ?? 0) + d;
  }
  return drops;
}

export function readUdpSocketDrops(port: number, ipv6: boolean, dir = '/proc/net'): number | null {
  try {
    return parseProcNetUdpDrops(readFileSync(`${dir}/${ipv6 ? 'udp6' : 'udp'}`, 'utf8'), port);
  } catch {
    return null;
  }
}
