// A small, allocation-conscious parser for the Prometheus text exposition format (0.0.4), shared by the
// probes (collector's and node-exporter's /metrics) and the cost command. Pure. The collector's body can be
// megabytes (one `orders` series per pod × instrument × side), so callers pass `keep` to skip families they
// do not need without building label objects for them.

export interface ExpoSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseValue(text: string): number {
  switch (text) {
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    case 'NaN':
      return Number.NaN;
    default:
      return text === '' ? Number.NaN : Number(text);
  }
}

/** Parses `{a="x",b="y\"z"}` starting at `start` (the `{`); returns labels and the index after `}`. */
function parseLabels(
  line: string,
  start: number,
  build: boolean,
): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  const n = line.length;
  while (i < n) {
    while (i < n && (line[i] === ' ' || line[i] === ',')) i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const eq = line.indexOf('=', i);
    if (eq < 0) break;
    const key = line.slice(i, eq).trim();
    i = eq + 1;
    if (line[i] !== '"') break;
    i++;
    let value = '';
    let chunkStart = i;
    while (i < n && line[i] !== '"') {
      if (line[i] === '\\') {
        if (build) {
          value += line.slice(chunkStart, i);
          const c = line[i + 1];
          value += c === 'n' ? '\n' : (c ?? '');
        }
        i += 2;
        chunkStart = i;
        continue;
      }
      i++;
    }
    if (build) labels[key] = value + line.slice(chunkStart, i);
    i++; // closing quote
  }
  return { labels, end: n };
}

/**
 * Parses exposition text. `keep(name)` filters families before their labels are parsed; `withLabels`
 * false skips building label objects (when only values are summed).
 */
export function parseExposition(
  text: string,
  keep: (name: string) => boolean = () => true,
  withLabels: boolean | ((name: string) => boolean) = true,
): ExpoSample[] {
  const out: ExpoSample[] = [];
  let pos = 0;
  const len = text.length;
  while (pos < len) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = len;
    const line = text.slice(pos, nl);
    pos = nl + 1;
    if (line.length === 0 || line[0] === '#') continue;
    let nameEnd = 0;
    while (nameEnd < line.length && line[nameEnd] !== '{' && line[nameEnd] !== ' ' && line[nameEnd] !== '\t')
      nameEnd++;
    const name = line.slice(0, nameEnd);
    if (name === '' || !keep(name)) continue;
    let rest = nameEnd;
    let labels: Record<string, string> = {};
    if (line[nameEnd] === '{') {
      const parsed = parseLabels(
        line,
        nameEnd,
        typeof withLabels === 'function' ? withLabels(name) : withLabels,
      );
      labels = parsed.labels;
      rest = parsed.end;
    }
    const fields = line.slice(rest).trim().split(/\s+/);
    const value = parseValue(fields[0] ?? '');
    if (Number.isNaN(value) && fields[0] !== 'NaN') continue;
    out.push({ name, labels, value });
  }
  return out;
}

/** Sum of every sample of the named families (e.g. all `orders` series). */
export function sumFamilies(samples: readonly ExpoSample[], names: readonly string[]): number | null {
  let found = false;
  let sum = 0;
  for (const s of samples) {
    if (names.includes(s.name) && Number.isFinite(s.value)) {
      sum += s.value;
      found = true;
    }
  }
  return found ? sum : null;
}

/** Sum of every finite sample whose name is one of `names` and whose labels include `match` (0 when none). */
export function sumSamples(
  samples: readonly ExpoSample[],
  names: readonly string[],
  match: Readonly<Record<string, string>> = {},
): number {
  const matching = samples.filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
  return sumFamilies(matching, names) ?? 0;
}
