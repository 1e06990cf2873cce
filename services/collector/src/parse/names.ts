// Name and label sanitising compatible with prometheus/statsd_exporter's EscapeMetricName (default mapping):
// every character (code point, not byte) outside [a-zA-Z0-9_] becomes '_', a run of '-' after the first '-'
// is dropped ("a--b" -> "a_b"), and a leading digit gets a '_' prefix. Used for metric names and label names.

function isValid(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

export function escapeMetricName(name: string): string {
  if (name.length === 0) return '';
  const c0 = name.charCodeAt(0);
  const digitFirst = c0 >= 48 && c0 <= 57;
  let clean = true;
  for (let i = 0; i < name.length; i++) {
    if (!isValid(name.charCodeAt(i))) {
      clean = false;
      break;
    }
  }
  if (clean) return digitFirst ? `_${name}` : name;
  let out = digitFirst ? '_' : '';
  let prev = -1;
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (isValid(c)) out += ch;
    else if (!(c === 45 && prev === 45)) out += '_';
    prev = c;
  }
  return out;
}

/** Escapes a label value for the Prometheus text format. */
export function escapeLabelValue(v: string): string {
  let needs = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 92 || c === 34 || c === 10) {
      needs = true;
      break;
    }
  }
  if (!needs) return v;
  return v.replace(/[\\"\n]/g, (m) => (m === '\n' ? '\\n' : `\\${m}`));
}

/** Escapes HELP text for the Prometheus text format. */
export function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (m) => (m === '\n' ? '\\n' : '\\\\'));
}
