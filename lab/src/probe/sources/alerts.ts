import { dedupReplicaAlerts } from '../../analysis/replicas.ts';
import type { AlertObservation } from '../../core/record.ts';
import { type ProbeSource, type ProbeTargets, TICK_MS } from './source.ts';

// Which Prometheus alerts are pending or firing, every second: /api/v1/alerts (no PromQL) of every store —
// each store evaluates the rules over its own path's data.

export function alertsSource(t: ProbeTargets): ProbeSource {
  const stores = [t.prom, ...(t.pushProm && t.pushProm.baseUrl !== t.prom.baseUrl ? [t.pushProm] : [])];
  const replicas = (t.pullReplicas ?? []).map((r) => r.prom);
  return {
    name: 'alerts',
    periodMs: TICK_MS,
    duty: 4,
    async read(s, { signal }) {
      const all = await Promise.all(stores.map((p) => p.alerts(signal)));
      // #28: the rules run on both pull replicas; the same alert from both is one page (a dead replica: none).
      if (replicas.length > 0) {
        const more = await Promise.allSettled(replicas.map((p) => p.alerts(signal)));
        const pair = [all[0]!, ...more.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))];
        all[0] = dedupReplicaAlerts(pair);
      }
      s.alerts = mergeAlerts(all.flat());
    },
  };
}

/** The same alert in the same state from two stores counts its instances together. */
export function mergeAlerts(alerts: readonly AlertObservation[]): AlertObservation[] {
  const by = new Map<string, AlertObservation>();
  for (const a of alerts) {
    const key = `${a.name}\0${a.state}`;
    const cur = by.get(key);
    if (cur) cur.count += a.count;
    else by.set(key, { ...a });
  }
  return [...by.values()].sort((a, b) => a.name.localeCompare(b.name) || a.state.localeCompare(b.state));
}
