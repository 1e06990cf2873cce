import { TE_COLLISION, TE_MALFORMED, TE_RESERVED } from '../parse/codes.ts';
import type { AnyValue } from '../parse/otlp.ts';

// OTLP attribute values as label text, and the label names the collector will not expose.

/** A number as the text format writes it (also the `le` label). */
export function formatValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * False for text that is not valid Unicode. The decoder marks a protobuf string whose bytes were not valid
 * UTF-8 with a lone surrogate (valid UTF-8 never decodes to one), and OTLP/JSON can spell one as "\ud800":
 * both are refused as `invalid_utf8`, as StatsD refuses such a line.
 */
export function wellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** Text and validity of one attribute value (arrays and maps are checked all the way down). */
export interface ValueText {
  text: string;
  ok: boolean;
}

/**
 * AnyValue → label value: strings as sent, scalars in their usual text form, arrays/maps as JSON, bytes as
 * base64. Presence by own property: decoded protobufjs messages carry defaults ('' , 0) on the prototype.
 */
export function valueText(v: AnyValue | undefined | null, out: ValueText): string {
  if (v === undefined || v === null) return '';
  const has = (k: keyof AnyValue) => Object.hasOwn(v, k) && v[k] !== undefined && v[k] !== null;
  const str = (s: string): string => {
    if (!wellFormed(s)) out.ok = false;
    return s;
  };
  if (has('stringValue')) return str(String(v.stringValue));
  if (has('boolValue')) return v.boolValue ? 'true' : 'false';
  if (has('intValue')) return String(v.intValue);
  if (has('doubleValue')) return formatValue(Number(v.doubleValue));
  if (has('arrayValue')) return JSON.stringify((v.arrayValue?.values ?? []).map((x) => valueText(x, out)));
  if (has('kvlistValue'))
    return JSON.stringify(
      Object.fromEntries(
        (v.kvlistValue?.values ?? []).map((kv) => [str(kv.key ?? ''), valueText(kv.value, out)]),
      ),
    );
  if (has('bytesValue')) return Buffer.from(v.bytesValue as Uint8Array).toString('base64');
  return '';
}

/** TE_* reason for a label name the collector will not expose (-1: fine). */
export function labelError(k: string): number {
  if (k === '') return TE_MALFORMED;
  // Prometheus reserves "__*" (one exposed __name__ fails the whole scrape); "le"/"quantile" mean buckets.
  if (k.charCodeAt(0) === 95 && k.charCodeAt(1) === 95) return TE_RESERVED;
  if (k === 'le' || k === 'quantile') return TE_COLLISION;
  return -1;
}
