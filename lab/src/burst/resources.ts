import { type ConditionInput, conditionOf } from '../analysis/conditions.ts';
import { generatorShortfall, resourceRecords } from '../analysis/resources.ts';
import type {
  FirstFailure,
  PathAccount,
  PathBudget,
  PathName,
  ProbeSample,
  RunRecord,
} from '../core/record.ts';
import { DEFAULT_THROTTLED_SHARE, RESOURCE_COMPONENTS } from '../core/resources.ts';
import type { RunContext } from './context.ts';

// run@3 for one burst: each component's budget and use (`resources`), the generator against the profile
// (`generator.shortfall`), and the resource behind every loss cause and first failure (`condition`).

export interface ResourceFacts {
  resources: RunRecord['resources'];
  generator: RunRecord['generator'];
  /** Components that had a budget nobody enforced. */
  unenforced: string[];
}

export function resourceFacts(
  ctx: RunContext,
  samples: readonly ProbeSample[],
  t0: number,
  paths: Record<PathName, PathAccount>,
  firstFailures: FirstFailure[],
  extra: { budgets: Record<PathName, PathBudget>; rcvbufBytes: number | null },
): ResourceFacts {
  const { config } = ctx;
  const untilMs = ctx.collected.quiesceAtMs || Date.now();
  const window = { fromMs: t0, toMs: untilMs };
  const shortfall = generatorShortfall(samples, config, t0, untilMs);
  const plan = config.resources ?? null;
  if (!plan) return { resources: undefined, generator: { shortfall }, unenforced: [] };
  const enforcement = ctx.runtime.enforcement?.() ?? null;
  // Only the shared store puts push's series on pull's budget; per-path, each store is in its own pipeline.
  if ((config.store ?? 'shared') === 'shared')
    ctx.notes.push(
      "resources: --store shared: push's data lands in pull's Prometheus (one store for both paths, on Prometheus' budget)",
    );
  const resources = resourceRecords(plan, enforcement, samples, window);
  const input: ConditionInput = {
    samples,
    plan,
    enforcement,
    threshold: config.throttledShare ?? DEFAULT_THROTTLED_SHARE,
    rcvbufBytes: extra.rcvbufBytes,
    scrapeTimeoutSeconds: ctx.scrapeTimeoutMs / 1000,
    budgets: extra.budgets,
    window,
    pushAgents: config.pushTopology === 'agent',
  };
  for (const path of ['pull', 'push'] as const)
    for (const c of paths[path].causes ?? []) c.condition = conditionOf(c.cause, path, input);
  for (const f of firstFailures) f.condition = conditionOf(f.signal, f.path, input);
  const unenforced = RESOURCE_COMPONENTS.filter((c) => {
    const r = plan[c];
    return (
      resources[c].enforcedBy === 'unenforced' &&
      (r.cpus !== null || r.memoryBytes !== null || r.cpuset !== null)
    );
  });
  return { resources, generator: { shortfall }, unenforced };
}
