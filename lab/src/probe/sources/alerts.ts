import { type ProbeSource, type ProbeTargets, TICK_MS } from './source.ts';

// Which Prometheus alerts are pending or firing: every 2 s is enough for the report's timeline.

export function alertsSource(t: ProbeTargets): ProbeSource {
  return {
    name: 'alerts',
    periodMs: 2 * TICK_MS,
    duty: 4,
    async read(s, { signal }) {
      s.alerts = await t.prom.alerts(signal);
    },
  };
}
