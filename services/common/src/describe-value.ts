// Error messages carry the offending value, but a value from a request body can be anything: a string of a
// megabyte, or an array nested 100,000 deep that JSON.stringify cannot print (it recurses and overflows the
// stack, which turned a bad control body into a 500). So a value is described, never serialised whole:
// scalars as JSON (strings cut short), containers by their kind and size. O(1), never recursive.

const MAX_STRING = 60;

export function describeValue(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string')
    return v.length > MAX_STRING
      ? `${JSON.stringify(v.slice(0, MAX_STRING))}... (${v.length} chars)`
      : JSON.stringify(v);
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v;
}
