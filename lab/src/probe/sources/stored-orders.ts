import { storedOrdersExpression, storedPushOrdersExpression } from '../prom.ts';
import { emptyPull } from '../sample.ts';
import { type ProbeSource, type ProbeTargets, TICK_MS } from './source.ts';

// What Prometheus has stored of each path's orders: the pods' orders_total (pull) and the collector's
// orders (push), one combined query. Stored counts change once per scrape, and summing every order series
// is the costly query: twice per interval (at least every 5 s), backing off when Prometheus is slow. The
// exact totals are taken at the end anyway; these readings give each path's time-to-visibility.

export function storedOrdersSource(t: ProbeTargets): ProbeSource {
  return {
    name: 'prometheus-orders',
    periodMs: Math.max(5 * TICK_MS, t.scrapeIntervalMs / 2),
    duty: 3,
    async read(s, { signal }) {
      const v = await t.promSlow.combined(
        {
          pull: storedOrdersExpression(t.scrapeIntervalMs),
          push: storedPushOrdersExpression(t.scrapeIntervalMs, t.ordersFamily ?? 'orders'),
        },
        signal,
      );
      s.pull = s.pull ?? emptyPull();
      s.pull.storedOrders = v.pull ?? null;
      s.pull.storedPushOrders = v.push ?? null;
    },
  };
}
