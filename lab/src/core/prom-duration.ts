import { LabError } from '@pushpull/common';

// Prometheus' duration text, both ways: the configs the lab writes and the ones Prometheus reports back.

/** Prometheus duration text for milliseconds: 2000 → "2s", 1500 → "1500ms". */
export function promDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) throw new LabError('LAB_ERR_CONFIG', `duration ${ms} ms must be > 0`);
  const r = Math.round(ms);
  if (r % 60_000 === 0) return `${r / 60_000}m`;
  if (r % 1000 === 0) return `${r / 1000}s`;
  return `${r}ms`;
}

/** Parses the Prometheus duration subset used in configs ("15s", "1m", "500ms", "1m30s"). */
export function parsePromDuration(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const re = /(\d+)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== text.length)
    throw new LabError('LAB_ERR_CONFIG', `prometheus duration "${text}" is not valid (e.g. 15s, 1m30s)`);
  return total;
}
