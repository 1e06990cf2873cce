import { storedOrdersExpression } from '../prom.ts';
import { emptyPull } from '../sample.ts';
import { type ProbeSource, type ProbeTargets, TICK_MS } from './source.ts';

// Stored orders change once per scrape, and summing every order series is the costly query: once
// per interval (at least every 5 s), backing off when Prometheus is slow. The exact total is taken
// at the end anyway; the per-second rate comes from the recording rule in the combined query.

export function storedOrdersSource(t: ProbeTargets): ProbeSource {
  return {
    name: 'prometheus-orders',
    periodMs: Math.max(5 * TICK_MS, t.scrapeIntervalMs),
    duty: 3,
    async read(s, { signal }) {
      const v = await t.promSlow.scalar(storedOrdersExpression(t.scrapeIntervalMs), undefined, signal);
      s.pull = s.pull ?? emptyPull();
      s.pull.storedOrders = v;
    },
  };
}
