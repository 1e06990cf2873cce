import type { IngestStats } from '../aggregate/ingest.ts';
import { formatValue } from '../aggregate/otlp.ts';
import {
  K_COUNTER,
  K_GAUGE,
  K_HISTOGRAM,
  K_SET,
  KIND_NAMES,
  ORIGIN_OTLP,
  type Store,
} from '../aggregate/store.ts';
import { renderSelf, type SelfValues } from './self.ts';

export {
  type OtlpSelf,
  RESERVED_NAMES,
  SELF_METRIC_NAMES,
  type SelfValues,
  selfExposition,
} from './self.ts';

// Prometheus text format 0.0.4 from the store and the ingest counters. A generator of chunks: the HTTP
// layer yields to the event loop between chunks, so rendering 100,000 series does not stall the UDP
// socket for the whole render (a stalled socket is exactly where datagrams get lost).

const OTLP_HELP: Record<number, string> = {
  [K_COUNTER]: 'OTLP monotonic sum received by pushpull-collector.',
  [K_GAUGE]: 'OTLP gauge or non-monotonic sum received by pushpull-collector.',
  [K_HISTOGRAM]: 'OTLP explicit-bucket histogram received by pushpull-collector.',
};

const HELP: Record<number, string> = {
  [K_COUNTER]: 'StatsD counter (c) received by pushpull-collector.',
  [K_GAUGE]: 'StatsD gauge (g) received by pushpull-collector.',
  [K_HISTOGRAM]:
    'StatsD timer (ms, in seconds), histogram (h) or distribution (d) received by pushpull-collector.',
  [K_SET]: 'StatsD set (s): distinct values in the last completed flush interval.',
};

export { formatValue };

/**
 * A chunk ends once it holds this many characters: the HTTP layer sends one chunk per read of the client,
 * so this is about what a client that stops reading can pin (and the longest stretch without a yield).
 */
const CHUNK_CHARS = 64 * 1024;
/** The longest text one series may render to (a histogram: every bucket line repeats its labels). */
export const MAX_SERIES_CHARS = 16 * 1024 * 1024;

export function* exposition(
  store: Store,
  stats: IngestStats,
  self: () => SelfValues,
): Generator<string, void, undefined> {
  const names = [...store.families.keys()].sort();
  const les = [...store.bounds].map((b) => `le="${formatValue(b)}"`);
  les.push('le="+Inf"');
  let out = '';
  for (const name of names) {
    const fam = store.families.get(name)!;
    const help = (fam.origin === ORIGIN_OTLP ? OTLP_HELP : HELP)[fam.kind];
    out += `# HELP ${name} ${help}\n# TYPE ${name} ${KIND_NAMES[fam.kind]}\n`;
    for (const s of fam.series.values()) {
      const lt = s.labelsText;
      // One series must never make the whole exposition fail (a string past V8's limit throws): a series
      // whose text would exceed MAX_SERIES_CHARS is left out and counted, the rest is served.
      const lines = fam.kind === K_HISTOGRAM ? s.buckets!.length + 2 : 1;
      if ((name.length + lt.length + 48) * lines > MAX_SERIES_CHARS) {
        store.unrendered++;
        continue;
      }
      if (fam.kind === K_HISTOGRAM) {
        const b = s.buckets!;
        const le = s.les ?? les;
        const pre = lt ? `${name}_bucket{${lt},` : `${name}_bucket{`;
        let cum = 0;
        for (let i = 0; i < b.length; i++) {
          cum += b[i]!;
          out += `${pre}${le[i]}} ${formatValue(cum)}\n`;
        }
        const braces = lt ? `{${lt}}` : '';
        out += `${name}_sum${braces} ${formatValue(s.sum)}\n${name}_count${braces} ${formatValue(s.count)}\n`;
      } else {
        const v = fam.kind === K_SET ? (s.lastWindow >= 0 ? s.lastWindow : s.members!.size) : s.value;
        out += `${name}${lt ? `{${lt}}` : ''} ${formatValue(v)}\n`;
      }
      if (out.length >= CHUNK_CHARS) {
        yield out;
        out = '';
      }
    }
  }
  if (out) yield out;
  yield renderSelf(store, stats, self());
}
