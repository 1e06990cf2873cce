import { LabError, parseBytes, parseDurationMs } from '@pushpull/common';

// Reads one level of a scenario document: rejects keys it was not told about and names the file and the
// field path (e.g. variants[1].push.flushInterval) in every error, so a bad scenario fails at load time.

/** A range bound as people write it in a scenario: 100ms, 1s, 5m, 1h. */
export function formatMs(ms: number): string {
  if (ms > 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms > 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Inclusive bounds, in the field's unit (ms for durations, bytes for sizes). */
export interface Range {
  min: number;
  max: number;
}

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export class Reader {
  constructor(
    private readonly file: string,
    private readonly path: string,
    private readonly obj: Obj,
    allowed: readonly string[],
  ) {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) this.fail(k, `unknown key (allowed: ${allowed.join(', ') || 'none'})`);
    }
  }
  fail(key: string, why: string): never {
    throw new LabError('LAB_ERR_SCENARIO', `${this.file}: ${this.path}${key}: ${why}`, {
      field: this.path + key,
      ...(this.obj[key] !== undefined ? { value: this.obj[key] } : {}),
    });
  }
  /** The value as the file wrote it, for messages ("0s", 99999). */
  private shown(key: string, dflt?: unknown): string {
    return JSON.stringify(this.obj[key] ?? dflt);
  }
  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }
  str(key: string, dflt?: string): string {
    const v = this.obj[key] ?? dflt;
    if (typeof v !== 'string' || v === '')
      this.fail(key, `must be a non-empty string (got ${JSON.stringify(v)})`);
    return v;
  }
  choice<T extends string>(key: string, choices: readonly T[], dflt?: T): T {
    const v = this.str(key, dflt);
    if (!choices.includes(v as T)) this.fail(key, `"${v}" is not one of ${choices.join(', ')}`);
    return v as T;
  }
  int(key: string, min: number, max: number, dflt?: number): number {
    const v = this.obj[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      this.fail(key, `must be an integer in [${min}, ${max}] (got ${JSON.stringify(v)})`);
    return v;
  }
  num(key: string): number {
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v))
      this.fail(key, `must be a number (got ${JSON.stringify(v)})`);
    return v;
  }
  duration(key: string, dflt?: string): number {
    const v = this.obj[key] ?? dflt;
    if (typeof v === 'number' && v >= 0) return v * 1000;
    if (typeof v !== 'string') this.fail(key, `must be a duration like 15s (got ${JSON.stringify(v)})`);
    try {
      return parseDurationMs(v, key);
    } catch {
      this.fail(key, `"${v}" is not a duration (e.g. 800ms, 15s, 2m)`);
    }
  }
  /** Duration, or off/0 → 0. */
  durationOrOff(key: string, dflt: string): number {
    const v = this.obj[key] ?? dflt;
    if (v === 'off' || v === false || v === 0) return 0;
    return this.duration(key, dflt);
  }
  /** A duration within `range` (ms): caught here, not mid-drill by a producer flag or a zero interval. */
  durationIn(key: string, range: Range, dflt?: string): number {
    const ms = this.duration(key, dflt);
    if (ms < range.min || ms > range.max)
      this.fail(
        key,
        `${this.shown(key, dflt)} is out of range (${formatMs(range.min)}..${formatMs(range.max)})`,
      );
    return ms;
  }
  /** off (any zero) → 0, else a duration within `range`. */
  durationOrOffIn(key: string, range: Range, dflt: string): number {
    const ms = this.durationOrOff(key, dflt);
    if (ms !== 0 && (ms < range.min || ms > range.max))
      this.fail(
        key,
        `${this.shown(key, dflt)} is out of range (off, or ${formatMs(range.min)}..${formatMs(range.max)})`,
      );
    return ms;
  }
  /** A finite number within [min, max]. */
  numIn(key: string, min: number, max: number): number {
    const v = this.num(key);
    if (v < min || v > max) this.fail(key, `${v} is out of range (${min}..${max})`);
    return v;
  }
  /** A size (120KB, 8MiB, 65536) within `range` (bytes). */
  sizeIn(key: string, range: Range): number {
    const v = this.obj[key];
    if (typeof v !== 'string' && typeof v !== 'number')
      this.fail(key, `must be a size like 120KB (got ${JSON.stringify(v)})`);
    let bytes: number;
    try {
      bytes = parseBytes(String(v), key);
    } catch {
      this.fail(key, `${JSON.stringify(v)} is not a size (e.g. 120KB, 8MiB, 65536)`);
    }
    if (bytes < range.min || bytes > range.max)
      this.fail(key, `${JSON.stringify(v)} is out of range (${range.min}..${range.max} bytes)`);
    return bytes;
  }
  bool(key: string, dflt: boolean): boolean {
    const v = this.obj[key] ?? dflt;
    if (v === 'on') return true;
    if (v === 'off') return false;
    if (typeof v !== 'boolean') this.fail(key, `must be on/off (got ${JSON.stringify(v)})`);
    return v;
  }
  child(key: string, allowed: readonly string[]): Reader {
    const v = this.obj[key] ?? {};
    if (!isObj(v)) this.fail(key, 'must be a mapping');
    return new Reader(this.file, `${this.path}${key}.`, v, allowed);
  }
  list(key: string): Obj[] {
    const v = this.obj[key] ?? [];
    if (!Array.isArray(v)) this.fail(key, 'must be a list');
    return v.map((x, i) => {
      if (!isObj(x)) this.fail(`${key}[${i}]`, 'must be a mapping');
      return x;
    });
  }
  at(key: string, i: number, obj: Obj, allowed: readonly string[]): Reader {
    return new Reader(this.file, `${this.path}${key}[${i}].`, obj, allowed);
  }
  raw(key: string): unknown {
    return this.obj[key];
  }
}
