import { LabError } from './errors.ts';

// A small, strict flag parser shared by every CLI. Each flag is declared once with its env var;
// unknown flags and bad values are errors that name the flag and the value. Precedence: flag > env > default.

export type FlagKind = 'string' | 'int' | 'number' | 'bool';

export interface FlagSpec {
  kind: FlagKind;
  env?: string;
  default?: string | number | boolean;
  help: string;
  /** Allowed values for string flags. */
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** The value's name in help (`--pods N`); derived from kind/choices when absent. */
  placeholder?: string;
  /** What help prints as the default when `default` is absent or not the whole truth (e.g. "profile length, 121 s"). */
  defaultText?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type FlagValues = Record<string, string | number | boolean | undefined>;

export interface ParsedArgs {
  flags: FlagValues;
  positionals: string[];
}

function convert(name: string, spec: FlagSpec, raw: string, source: string): string | number | boolean {
  const where = source === 'flag' ? `--${name}` : `${spec.env} (for --${name})`;
  switch (spec.kind) {
    case 'bool': {
      const v = raw.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new LabError('LAB_ERR_FLAG_VALUE', `${where}: "${raw}" is not a boolean (on/off, true/false)`);
    }
    case 'int':
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || (spec.kind === 'int' && !Number.isInteger(n))) {
        throw new LabError(
          'LAB_ERR_FLAG_VALUE',
          `${where}: "${raw}" is not ${spec.kind === 'int' ? 'an integer' : 'a number'}`,
        );
      }
      if (spec.min !== undefined && n < spec.min)
        throw new LabError('LAB_ERR_FLAG_VALUE', `${where}: ${n} is below the minimum ${spec.min}`);
      if (spec.max !== undefined && n > spec.max)
        throw new LabError('LAB_ERR_FLAG_VALUE', `${where}: ${n} is above the maximum ${spec.max}`);
      return n;
    }
    default:
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new LabError(
          'LAB_ERR_FLAG_VALUE',
          `${where}: "${raw}" is not one of ${spec.choices.join(', ')}`,
        );
      }
      return raw;
  }
}

export function parseArgs(
  argv: readonly string[],
  specs: FlagSpecs,
  env: NodeJS.ProcessEnv = {},
): ParsedArgs {
  const flags: FlagValues = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      // `-h` is the one short flag: every command that has --help answers it the same way.
      if (arg === '-h' && specs.help?.kind === 'bool') {
        flags.help = true;
        continue;
      }
      if (arg.startsWith('-') && arg.length > 1)
        throw new LabError('LAB_ERR_FLAG_UNKNOWN', `unknown flag "${arg}" (flags are --long-form)`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let spec = specs[name];
    if (!spec && name.startsWith('no-') && specs[name.slice(3)]?.kind === 'bool' && value === undefined) {
      name = name.slice(3);
      spec = specs[name];
      value = 'false';
    }
    if (!spec)
      throw new LabError(
        'LAB_ERR_FLAG_UNKNOWN',
        `unknown flag "--${name}"; known: ${Object.keys(specs)
          .map((k) => `--${k}`)
          .join(' ')}`,
      );
    if (value === undefined) {
      const next = argv[i + 1];
      if (
        spec.kind === 'bool' &&
        (next === undefined || next.startsWith('--') || !/^(on|off|true|false|yes|no|1|0)$/i.test(next))
      ) {
        value = 'true';
      } else {
        if (next === undefined) throw new LabError('LAB_ERR_FLAG_VALUE', `--${name}: missing value`);
        value = next;
        i++;
      }
    }
    flags[name] = convert(name, spec, value, 'flag');
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (flags[name] !== undefined) continue;
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') flags[name] = convert(name, spec, fromEnv, 'env');
    else if (spec.default !== undefined) flags[name] = spec.default;
  }
  return { flags, positionals };
}

/** The value a flag takes, as help shows it: `auto|docker|process`, `N`, or the spec's own placeholder. */
export function flagPlaceholder(s: FlagSpec): string {
  if (s.kind === 'bool') return '';
  if (s.placeholder) return s.placeholder;
  if (s.choices) return s.choices.join('|');
  return s.kind === 'string' ? 'VALUE' : 'N';
}

function defaultText(s: FlagSpec): string | null {
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.default === undefined || s.default === false) return null;
  if (s.default === true) return 'on';
  return String(s.default);
}

/** Greedy word wrap; a word longer than the width stays whole on its own line. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The first line of every help text: `Usage: <synopsis>`, then the rest of `usage` (what the command does).
 * `usage` is the synopsis on its first line (without a `Usage:` of its own) and any description after it.
 */
export function formatUsage(usage: string): string {
  const [synopsis = '', ...about] = usage.split('\n');
  return [`Usage: ${synopsis.replace(/^usage:\s*/i, '')}`, ...about].join('\n');
}

/**
 * The help of every command (one generator for all of them): formatUsage's lines, then one aligned row per
 * flag: `--name PLACEHOLDER` in the left column, then the help, its default and its env var, wrapped to
 * `width` columns. A left column wider than `maxLeft` pushes its help to the
 * next line, so one long flag does not push every other row to the right.
 */
export function formatHelp(usage: string, specs: FlagSpecs, width = 100): string {
  const maxLeft = 36;
  // -h/--help last, wherever a composed spec set put it.
  const entries = Object.entries(specs).sort(([a], [b]) => Number(a === 'help') - Number(b === 'help'));
  const rows = entries.map(([name, s]) => {
    const ph = flagPlaceholder(s);
    const left = `${name === 'help' ? '-h, ' : ''}--${name}${ph ? ` ${ph}` : ''}`;
    const d = defaultText(s);
    const tail = [d === null ? '' : `default: ${d}`, s.env ? `env ${s.env}` : ''].filter(Boolean).join('; ');
    return { left, text: tail ? `${s.help} (${tail})` : s.help };
  });
  const col = Math.min(maxLeft, Math.max(0, ...rows.map((r) => r.left.length))) + 4;
  const lines = [formatUsage(usage), '', 'Flags:'];
  for (const r of rows) {
    const body = wrap(r.text, Math.max(30, width - col));
    const first = `  ${r.left}`;
    if (first.length + 2 > col) lines.push(first);
    else lines.push(`${first.padEnd(col)}${body.shift() ?? ''}`);
    for (const b of body) lines.push(`${' '.repeat(col)}${b}`);
  }
  return lines.join('\n');
}

function flagMissing(name: string, value: unknown, want: string): LabError {
  return new LabError('LAB_ERR_FLAG_VALUE', `--${name}: ${JSON.stringify(value)} is not ${want}`, {
    flag: name,
    value,
  });
}

/** A parsed number flag (parseArgs applied its default and limits): typed, without a cast or a second default. */
export function numberFlag(flags: FlagValues, name: string): number {
  const v = flags[name];
  if (typeof v !== 'number') throw flagMissing(name, v, 'a number');
  return v;
}

/** A parsed string flag, or null when it has no value and no default. */
export function stringFlag(flags: FlagValues, name: string): string | null {
  const v = flags[name];
  return typeof v === 'string' ? v : null;
}

/** A parsed choice flag, narrowed to its choices (parseArgs checked them against the spec). */
export function choiceFlag<T extends string>(flags: FlagValues, name: string, choices: readonly T[]): T {
  const v = flags[name];
  const found = choices.find((c) => c === v);
  if (found === undefined) throw flagMissing(name, v, `one of ${choices.join(', ')}`);
  return found;
}
