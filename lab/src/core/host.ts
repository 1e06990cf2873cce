import { readFileSync } from 'node:fs';

// Facts about the host the lab runs on, read from /proc (Linux). Null when unreadable, never a throw:
// the lab uses them to stop before the machine gives out and to describe the environment.

/** MemAvailable and MemTotal of the host in bytes (/proc/meminfo), null when unreadable. */
export function hostMemory(): { availableBytes: number; totalBytes: number } | null {
  try {
    const t = readFileSync('/proc/meminfo', 'utf8');
    const avail = /^MemAvailable:\s+(\d+) kB/m.exec(t);
    const total = /^MemTotal:\s+(\d+) kB/m.exec(t);
    return avail && total
      ? { availableBytes: Number(avail[1]) * 1024, totalBytes: Number(total[1]) * 1024 }
      : null;
  } catch {
    return null;
  }
}

/** net.core.rmem_max: the cap on any socket's SO_RCVBUF request (null when unreadable). */
export function readRmemMax(): number | null {
  try {
    const n = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}
