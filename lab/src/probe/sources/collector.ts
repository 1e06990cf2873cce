import { httpText } from '../../core/http.ts';
import { collectorSnapshot } from '../exposition.ts';
import { PROBE_TIMEOUT_MS, type ProbeSource, type ProbeTargets, TICK_MS } from './source.ts';

// The collector's own self-metrics only (GET /metrics/self): its whole exposition grows with every series
// it holds (megabytes at the open), and rendering it every few seconds would be load only the push side
// carries. What the push path delivered is read where the pull path's is: in Prometheus.

export function collectorSource(t: ProbeTargets): ProbeSource {
  return {
    name: 'collector',
    // Every second (#24: coverage is measured at a 1 s period); /metrics/self is small, so back off little.
    periodMs: TICK_MS,
    duty: 2,
    async read(s, { signal }) {
      const text = await httpText(`${t.collectorUrl}/metrics/self`, { timeoutMs: PROBE_TIMEOUT_MS, signal });
      s.collector = collectorSnapshot(text, t.ordersFamily ?? 'orders');
    },
  };
}
