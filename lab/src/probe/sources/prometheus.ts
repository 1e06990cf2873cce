import { httpJson, httpText } from '../../core/http.ts';
import type { StoreComponentName } from '../../core/record.ts';
import type { PromClient } from '../prom.ts';
import { storeExpressions } from '../prom.ts';
import { emptyPull } from '../sample.ts';
import { type ActiveTarget, storeSelfSnapshot, targetFields } from '../stores.ts';
import { agentsSource } from './agents.ts';
import { PROBE_TIMEOUT_MS, type ProbeSource, type ProbeTargets, TICK_MS } from './source.ts';

// The stores, each question from its cheapest endpoint (#24), every second:
// - `targets`: /api/v1/targets of pull's store — every pod target's health and last scrape duration;
// - `<store>-self`: each store's own /metrics — interval stretch, rule evaluations missed and their duration;
// - `prometheus` (and `prometheus-push` with a store per path): one combined PromQL query for what only
//   PromQL answers (samples stored, body sizes, the recording rules' rates and stored orders).
// None of them scans the order series: the costly query is gone from the live probe.

/** The PromQL probe of one store: `prometheus` reads pull's (or the shared) store, `prometheus-push` push's. */
export function promqlSource(name: string, prom: PromClient, store: 'pull' | 'push' | 'shared'): ProbeSource {
  const exprs = storeExpressions(store);
  return {
    name,
    periodMs: TICK_MS,
    duty: 3,
    async read(s, { signal }) {
      const v = await prom.combined(exprs, signal);
      const pull = emptyPull();
      for (const [k, val] of Object.entries(v)) (pull as unknown as Record<string, number | null>)[k] = val;
      s.pull = pull;
    },
  };
}

/** Pull's targets from /api/v1/targets (no PromQL): how many, how many up, how long their last scrapes took. */
export function targetsSource(prom: PromClient): ProbeSource {
  return {
    name: 'targets',
    periodMs: TICK_MS,
    duty: 3,
    async read(s, { signal }) {
      s.pull = { ...emptyPull(), ...(await podTargets(prom.baseUrl, signal)) };
    },
  };
}

/** A store's pod targets from its /api/v1/targets: how many, how many up, their last scrape durations. */
export async function podTargets(
  baseUrl: string,
  signal: AbortSignal,
): Promise<ReturnType<typeof targetFields>> {
  const r = await httpJson<{ status: string; data?: { activeTargets?: ActiveTarget[] } }>(
    `${baseUrl}/api/v1/targets?state=active`,
    { timeoutMs: PROBE_TIMEOUT_MS, signal },
  );
  return targetFields(r.data?.activeTargets ?? [], 'producers');
}

/** A store's own /metrics: interval stretch and rule evaluation, answered without its query engine. */
export function storeSelfSource(
  component: StoreComponentName,
  prom: PromClient,
  /** #29: false with pull agents (the central store scrapes no pod: the agents' interval is pull's). */
  pullInterval = true,
): ProbeSource {
  return {
    name: `${component}-self`,
    periodMs: TICK_MS,
    duty: 3,
    async read(s, { signal }) {
      const text = await httpText(`${prom.baseUrl}/metrics`, { timeoutMs: PROBE_TIMEOUT_MS, signal });
      const self = storeSelfSnapshot(text);
      s.stores = { [component]: self };
      // The pull probe's interval stretch comes from pull's (or the shared) store.
      if (component === 'prometheus' && pullInterval)
        s.pull = { ...emptyPull(), intervalP99: self.intervalP99 };
    },
  };
}

/** Every store source of this stack: one store (shared) or one per path. */
export function storeSources(t: ProbeTargets): ProbeSource[] {
  const perPath = t.pushProm !== undefined && t.pushProm.baseUrl !== t.prom.baseUrl;
  const agents = t.agents;
  const out = [
    promqlSource('prometheus', t.prom, perPath ? 'pull' : 'shared'),
    // #29: with pull agents the pods' targets are the agents' (agents.ts), not the central store's.
    agents ? agentsSource({ ...t, agents }) : targetsSource(t.prom),
    storeSelfSource('prometheus', t.prom, !agents),
  ];
  if (perPath && t.pushProm)
    out.push(
      promqlSource('prometheus-push', t.pushProm, 'push'),
      storeSelfSource('prometheus-push', t.pushProm),
    );
  return out;
}
