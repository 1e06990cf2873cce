import type { CapacityConfig, CapacityPath } from './flags.ts';
import type { SearchOptions } from './search.ts';

// A path's search options from the capacity config (pure): its loads, the precision, K replicates and the
// measure each level reports the median and spread of.

/** The measure whose median and spread each level reports: the one that decides most trials of the path. */
export const PATH_CRITERION: Record<CapacityPath, string> = {
  pull: 'scrapeP99S',
  push: 'lossPct',
  pushgateway: 'latencyP99S',
};

export function searchOptions(c: CapacityConfig, path: CapacityPath, deadlineMs: number): SearchOptions {
  const common = { min: 1, precision: c.precision, deadlineMs, replicates: c.replicates };
  return path === 'pushgateway'
    ? {
        ...common,
        start: c.pushgateway.startRate,
        max: c.pushgateway.maxRate,
        criterion: PATH_CRITERION[path],
      }
    : { ...common, start: c.startPods, max: c.maxPods, criterion: PATH_CRITERION[path] };
}
