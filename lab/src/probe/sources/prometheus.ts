import { PULL_EXPRESSIONS, pullProbeFrom } from '../prom.ts';
import { type ProbeSource, type ProbeTargets, TICK_MS } from './source.ts';

// Every pull-path gauge in one combined query per tick (see prom.ts), so probing costs Prometheus one
// query, not fifteen. Stored orders come from their own, slower source: keep what it last wrote.

export function prometheusSource(t: ProbeTargets): ProbeSource {
  return {
    name: 'prometheus',
    periodMs: TICK_MS,
    duty: 3,
    async read(s, { signal }) {
      const v = await t.prom.combined(PULL_EXPRESSIONS, signal);
      s.pull = {
        ...pullProbeFrom(v),
        storedOrders: s.pull?.storedOrders ?? null,
        storedPushOrders: s.pull?.storedPushOrders ?? null,
      };
    },
  };
}
