import { httpText } from '../../core/http.ts';
import { collectorSnapshot } from '../exposition.ts';
import { DUTY, PROBE_TIMEOUT_MS, type ProbeSource, type ProbeTargets, TICK_MS } from './source.ts';

// The collector's body grows with every series it holds (megabytes at the open); every 2 s is plenty
// and keeps the lab from adding much render work to the component it is measuring.

export function collectorSource(t: ProbeTargets): ProbeSource {
  return {
    name: 'collector',
    periodMs: Math.max(2 * TICK_MS, t.scrapeIntervalMs / 4),
    duty: DUTY,
    async read(s, { signal }) {
      const text = await httpText(`${t.collectorUrl}/metrics`, { timeoutMs: PROBE_TIMEOUT_MS, signal });
      s.collector = collectorSnapshot(text, t.ordersFamily ?? 'orders');
    },
  };
}
