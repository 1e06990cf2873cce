import {
  type FlagSpecs,
  type FlagValues,
  formatHostPort,
  LabError,
  parseBytes,
  parseDurationMs,
  parseHostPort,
} from '@pushpull/common';
import {
  type CollectorConfig,
  type CollectorConfigInput,
  DEFAULT_BUCKETS,
  OPTIONS,
  type OptionDef,
} from './options.ts';
import { escapeMetricName } from './parse/names.ts';

export { type CollectorConfig, type CollectorConfigInput, DEFAULT_BUCKETS, OPTIONS };

// The collector's configuration: one table declares every option once (flag, env var, default, help,
// how to validate). The CLI and createCollector() both go through resolveConfig(), which rejects unknown
// keys and bad values (LabError naming the flag and the value) and returns a frozen object.

const KEYS = Object.keys(OPTIONS) as (keyof CollectorConfig)[];

/** Flag specs for @pushpull/common parseArgs (plus --help). */
export function flagSpecs(): FlagSpecs {
  const specs: FlagSpecs = {};
  for (const key of KEYS) {
    const o = OPTIONS[key];
    specs[o.flag] = {
      kind: o.kind === 'bool' ? 'bool' : o.kind === 'int' ? 'int' : 'string',
      env: o.env,
      default: o.default,
      help: o.help,
      ...(o.kind === 'int' ? { min: o.min, max: o.max } : {}),
    };
  }
  specs.help = { kind: 'bool', help: 'print this help and exit' };
  return specs;
}

/** Maps parsed flag values (by flag name) to config input (by key). */
export function inputFromFlags(flags: FlagValues): CollectorConfigInput {
  const input: Record<string, unknown> = {};
  for (const key of KEYS) {
    const v = flags[OPTIONS[key].flag];
    if (v !== undefined) input[key] = v;
  }
  return input as CollectorConfigInput;
}

function bad(o: OptionDef, value: unknown, why: string): LabError {
  return new LabError('LAB_ERR_FLAG_VALUE', `--${o.flag}: "${String(value)}" ${why}`, {
    flag: o.flag,
    value,
  });
}

function checkRange(o: OptionDef, raw: unknown, n: number): number {
  if (o.min !== undefined && n < o.min) throw bad(o, raw, `is below the minimum ${o.min}`);
  if (o.max !== undefined && n > o.max) throw bad(o, raw, `is above the maximum ${o.max}`);
  return n;
}

function convert(o: OptionDef, raw: unknown): CollectorConfig[keyof CollectorConfig] {
  switch (o.kind) {
    case 'address':
    case 'address-or-off': {
      if (typeof raw !== 'string') throw bad(o, raw, 'is not HOST:PORT');
      if (o.kind === 'address-or-off' && raw.trim().toLowerCase() === 'off') return 'off';
      return formatHostPort(parseHostPort(raw, `--${o.flag}`));
    }
    case 'bytes': {
      let n: number;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string') n = parseBytes(raw, `--${o.flag}`);
      else throw bad(o, raw, 'is not a size (e.g. 8MiB, 65536)');
      if (!Number.isInteger(n)) throw bad(o, raw, 'is not a whole number of bytes');
      return checkRange(o, raw, n);
    }
    case 'int': {
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw bad(o, raw, 'is not an integer');
      return checkRange(o, raw, n);
    }
    case 'duration': {
      let n: number;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string') n = parseDurationMs(raw, `--${o.flag}`);
      else throw bad(o, raw, 'is not a duration (e.g. 30s, 1h)');
      if (!Number.isFinite(n)) throw bad(o, raw, 'is not a duration (e.g. 30s, 1h)');
      return checkRange(o, raw, n);
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const v = typeof raw === 'string' ? raw.toLowerCase() : '';
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw bad(o, raw, 'is not a boolean (on/off, true/false)');
    }
    case 'tag': {
      if (typeof raw !== 'string' || raw.length === 0 || raw.length > 200)
        throw bad(o, raw, 'is not a tag name');
      return escapeMetricName(raw);
    }
    case 'buckets': {
      const list =
        typeof raw === 'string'
          ? raw
              .split(',')
              .map((x) => x.trim())
              .filter((x) => x !== '')
              .map((x) => (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(x) ? Number(x) : Number.NaN))
          : raw;
      if (!Array.isArray(list) || list.length === 0 || list.length > 200)
        throw bad(o, raw, 'is not a list of 1 to 200 bucket bounds (e.g. 0.005,0.01,0.1,1)');
      for (let i = 0; i < list.length; i++) {
        const b = list[i];
        if (typeof b !== 'number' || !Number.isFinite(b))
          throw bad(o, raw, `has a bound that is not a number`);
        if (i > 0 && b <= (list[i - 1] as number)) throw bad(o, raw, 'is not strictly ascending');
      }
      return Object.freeze([...(list as number[])]);
    }
    case 'choice':
      return choiceOf(o, raw);
    case 'url-or-off':
      return typeof raw === 'string' && raw.trim().toLowerCase() === 'off' ? 'off' : forwardUrl(o, raw);
    case 'list': {
      const list = typeof raw === 'string' ? raw.split(',') : raw;
      if (!Array.isArray(list) || list.length > 100)
        throw bad(o, raw, 'is not a comma-separated list (≤ 100 keys)');
      const keys = list.map((x) => (typeof x === 'string' ? x.trim() : '')).filter((x) => x !== '');
      if (
        keys.length !== list.filter((x) => String(x).trim() !== '').length ||
        keys.some((k) => k.length > 200)
      )
        throw bad(o, raw, 'has a key that is not a string of 1 to 200 characters');
      return Object.freeze(keys);
    }
  }
}

/** Validates once, fills defaults, freezes. Throws LabError (LAB_ERR_CONFIG / LAB_ERR_FLAG_VALUE). */
export function resolveConfig(input: CollectorConfigInput = {}): Readonly<CollectorConfig> {
  if (input === null || typeof input !== 'object')
    throw new LabError('LAB_ERR_CONFIG', `collector config must be an object, got ${String(input)}`);
  for (const k of Object.keys(input)) {
    if (!(k in OPTIONS))
      throw new LabError('LAB_ERR_CONFIG', `unknown collector option "${k}"; known: ${KEYS.join(', ')}`, {
        key: k,
      });
  }
  const out: Record<string, unknown> = {};
  for (const key of KEYS) {
    const o = OPTIONS[key];
    const given = (input as Record<string, unknown>)[key];
    out[key] = convert(o, given === undefined ? o.default : given);
  }
  const cfg = out as unknown as CollectorConfig;
  checkAgent(cfg);
  if (cfg.sourceActiveWindow > cfg.sourceTtl)
    throw bad(
      OPTIONS.sourceActiveWindow,
      cfg.sourceActiveWindow,
      `ms is longer than --source-ttl (${cfg.sourceTtl} ms)`,
    );
  return Object.freeze(cfg);
}

function choiceOf(o: OptionDef, raw: unknown): string {
  const v = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if (!o.choices?.includes(v)) throw bad(o, raw, `is not one of ${o.choices?.join(', ')}`);
  return v;
}

/** http://HOST:PORT[/path] (the path defaults to OTLP's /v1/metrics); https is refused (no TLS here). */
function forwardUrl(o: OptionDef, raw: unknown): string {
  if (typeof raw !== 'string') throw bad(o, raw, 'is not a URL');
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw bad(o, raw, 'is not a URL (http://HOST:PORT[/path])');
  }
  if (u.protocol !== 'http:' || u.hostname === '' || u.username !== '' || u.search !== '')
    throw bad(o, raw, 'is not http://HOST:PORT[/path]');
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/metrics';
  return u.toString();
}

/** Agent mode needs somewhere to forward to; forwarding is only agent mode's. */
function checkAgent(cfg: CollectorConfig): void {
  if (cfg.mode === 'agent' && cfg.forwardOtlp === 'off')
    throw bad(OPTIONS.forwardOtlp, cfg.forwardOtlp, 'must be a URL with --mode agent');
  if (cfg.mode !== 'agent' && cfg.forwardOtlp !== 'off')
    throw bad(OPTIONS.forwardOtlp, cfg.forwardOtlp, `needs --mode agent (mode is ${cfg.mode})`);
}
