import {
  DROP_REASONS,
  type DropReason,
  R_OK,
  type StatsdType,
  T_SET,
  TAG_ERROR_REASONS,
  type TagErrorReason,
  TYPE_NAMES,
} from './codes.ts';
import { decodeKey } from './decode.ts';
import { LineScan, scanLine, validateLine, viewOf } from './scan.ts';

// A convenience, allocation-happy view of the parser for tests and tools: one line in, one verdict out.
// It runs exactly the functions the collector's hot path runs (scanLine, then on a new key validateLine
// and decodeKey).

export interface ParsedLine {
  name: string;
  type: StatsdType;
  /** Numeric values (several for a multi-value line; timers converted to seconds); empty for sets. */
  values: number[];
  /** The member of a set line (type s), else null. */
  member: string | null;
  rate: number;
  relative: boolean;
  labels: Record<string, string>;
  tagErrors: number;
  /** Tags ignored by reason (only reasons that occurred). */
  tagErrorReasons: Partial<Record<TagErrorReason, number>>;
}

export type LineVerdict = { ok: true; line: ParsedLine } | { ok: false; reason: DropReason };

export function parseLine(line: string | Buffer, maxLineSize = 8192): LineVerdict {
  const buf = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
  const s = new LineScan(Math.floor(maxLineSize / 2) + 1);
  const r = scanLine(buf, viewOf(buf), 0, buf.length, s, maxLineSize);
  if (r !== R_OK) return { ok: false, reason: DROP_REASONS[r]! };
  if (!validateLine(buf, s)) return { ok: false, reason: 'invalid_utf8' };
  const d = decodeKey(buf, s);
  if (typeof d === 'number') return { ok: false, reason: DROP_REASONS[d]! };
  return {
    ok: true,
    line: {
      name: d.name,
      type: TYPE_NAMES[s.type]!,
      values: s.type === T_SET ? [] : Array.from(s.values.subarray(0, s.nValues)),
      member: s.type === T_SET ? buf.toString('utf8', s.valueStart, s.valueEnd) : null,
      rate: s.rate,
      relative: s.relative,
      labels: Object.fromEntries(d.labels),
      tagErrors: d.tagErrors,
      tagErrorReasons: reasons(d.tagReasons),
    },
  };
}

function reasons(by: Uint32Array | null): Partial<Record<TagErrorReason, number>> {
  const out: Partial<Record<TagErrorReason, number>> = {};
  if (by === null) return out;
  for (let i = 0; i < by.length; i++) if (by[i]! > 0) out[TAG_ERROR_REASONS[i]!] = by[i]!;
  return out;
}
