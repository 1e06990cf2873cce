import {
  R_EMPTY_NAME,
  R_MIXED_TAGS,
  TAG_REASON_COUNT,
  TE_COLLISION,
  TE_DUPLICATE,
  TE_MALFORMED,
  TE_RESERVED,
} from './codes.ts';
import { escapeMetricName } from './names.ts';
import type { LineScan } from './scan.ts';

// The slow path, run once per distinct series key: turns the name region and tag components found by
// scanLine into a sanitised metric name and a sorted label list. Tag styles (statsd_exporter-compatible):
//   DogStatsD  name:1|c|#k:v,k2:v2   (also #k:v,#k2:v2; a value may contain ':'; a tag without value is ignored)
//   InfluxDB   name,k=v,k2=v2:1|c
//   Librato    name#k=v,k2=v2:1|c
//   SignalFx   name.[k=v,k2=v2]rest:1|c
// Two styles in one line drop the line (R_MIXED_TAGS).
// Every tag, whatever its style, goes through addTag(): one place decides which label names may be exposed,
// so no tag syntax can smuggle a reserved ("__"-prefixed) or collector-owned label into the exposition.

export interface DecodedKey {
  /** Sanitised metric name (before the --strict-names suffix). */
  name: string;
  /** Sanitised label names with raw values, sorted by name, names unique. */
  labels: [string, string][];
  /** Tags ignored, all reasons together. */
  tagErrors: number;
  /** Tags ignored, by reason (index = TE_* code); null when none. */
  tagReasons: Uint32Array | null;
}

/** The label the collector sets from DogStatsD's |c:<id> component. */
export const CONTAINER_LABEL = 'container_id';

interface Ctx {
  labels: Map<string, string>;
  out: DecodedKey;
  container: boolean;
}

function tagError(out: DecodedKey, reason: number): void {
  out.tagErrors++;
  if (out.tagReasons === null) out.tagReasons = new Uint32Array(TAG_REASON_COUNT);
  out.tagReasons[reason]!++;
}

function addTag(c: Ctx, rawKey: string, value: string): void {
  const k = escapeMetricName(rawKey);
  // Checked after sanitising: "..x" or "-_x" become "__x" too.
  if (k.charCodeAt(0) === 95 && k.charCodeAt(1) === 95) tagError(c.out, TE_RESERVED);
  // "le" and "quantile" mean histogram buckets and summary quantiles to Prometheus (histogram_quantile,
  // promtool's lint): the collector sets "le" on its histograms and never exposes them on anything else.
  else if (k === 'le' || k === 'quantile' || (c.container && k === CONTAINER_LABEL))
    tagError(c.out, TE_COLLISION);
  else {
    if (c.labels.has(k)) tagError(c.out, TE_DUPLICATE);
    c.labels.set(k, value);
  }
}

export function decodeKey(b: Buffer, s: LineScan): DecodedKey | number {
  const region = b.toString('utf8', s.lineStart, s.keyEnd);
  const out: DecodedKey = { name: '', labels: [], tagErrors: 0, tagReasons: null };
  const c: Ctx = {
    labels: new Map<string, string>(),
    out,
    container: s.contStart >= 0,
  };
  let name = region;
  let nameStyle = false;

  const open = region.indexOf('[');
  const close = region.indexOf(']');
  if (open >= 0 && close > open) {
    name = region.slice(0, open) + region.slice(close + 1);
    if (name.includes(',') || name.includes('#')) return R_MIXED_TAGS;
    parseNameTags(region.slice(open + 1, close), c);
    nameStyle = true;
  } else if (open >= 0 || close >= 0) {
    // One bracket (or "]...["): not SignalFx tags; keep the name as sent, like statsd_exporter.
    tagError(out, TE_MALFORMED);
  } else {
    for (let i = 0; i < region.length; i++) {
      const ch = region.charCodeAt(i);
      if (ch === 44 /* , */ || ch === 35 /* # */) {
        name = region.slice(0, i);
        parseNameTags(region.slice(i + 1), c);
        nameStyle = true;
        break;
      }
    }
  }

  if (s.tagsStart >= 0) {
    if (nameStyle) return R_MIXED_TAGS;
    const text = b.toString('utf8', s.tagsStart, s.tagsEnd);
    for (const comp of text.split('|')) {
      if (comp.charCodeAt(0) !== 35) continue; // a @rate or T component between two tag components
      for (const raw of comp.slice(1).split(',')) {
        const tag = raw.charCodeAt(0) === 35 ? raw.slice(1) : raw;
        if (tag.length === 0) continue; // "|#" or a trailing comma: nothing to ignore loudly
        const colon = tag.indexOf(':');
        if (colon <= 0 || colon === tag.length - 1) {
          tagError(out, TE_MALFORMED);
          continue;
        }
        addTag(c, tag.slice(0, colon), tag.slice(colon + 1));
      }
    }
  }
  if (c.container) c.labels.set(CONTAINER_LABEL, b.toString('utf8', s.contStart, s.contEnd));

  out.name = escapeMetricName(name);
  if (out.name.length === 0) return R_EMPTY_NAME;
  out.labels = [...c.labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return out;
}

function parseNameTags(text: string, c: Ctx): void {
  if (text.length === 0) {
    tagError(c.out, TE_MALFORMED);
    return;
  }
  for (const tag of text.split(',')) {
    const eq = tag.indexOf('=');
    if (eq <= 0 || eq === tag.length - 1) {
      tagError(c.out, TE_MALFORMED);
      continue;
    }
    addTag(c, tag.slice(0, eq), tag.slice(eq + 1));
  }
}
