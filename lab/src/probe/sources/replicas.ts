import { podTargets } from './prometheus.ts';
import type { ProbeSource, ProbeTargets } from './source.ts';
import { TICK_MS } from './source.ts';

// #28: each further pull replica's pod targets from its /api/v1/targets every second, as `targets` reads
// replica 1: how many are up and how long their last scrapes took (the pods' cost of the second scraper).

export function replicaSources(t: ProbeTargets): ProbeSource[] {
  return (t.pullReplicas ?? []).map(({ component, prom }) => ({
    name: `targets-${component}`,
    periodMs: TICK_MS,
    duty: 3,
    async read(s, { signal }) {
      const f = await podTargets(prom.baseUrl, signal);
      s.replicas = {
        [component]: {
          targets: f.targets,
          targetsUp: f.targetsUp,
          scrapeP50: f.scrapeP50,
          scrapeP99: f.scrapeP99,
          scrapeMax: f.scrapeMax,
        },
      };
    },
  }));
}
