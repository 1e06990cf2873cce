// Fixtures of the swarm spec tests: the default plan on this machine's shape (2 cores, 24 GiB), a spec
// context carrying it, and a service's Resources.Limits read back.
import { defaultPlan, type ResourcePlan } from '../src/core/resources.ts';
import { composeServices } from '../src/runtime/swarm/specs.ts';
import { ROOT } from './cli-helpers.ts';

export const GiB = 2 ** 30;
export const plan: ResourcePlan = defaultPlan({ cores: 2, memoryBytes: 24 * GiB });

/** A swarm spec context for run `runId` with the plan above (observer constraints as given). */
export const specContext = (runId: string, observerConstraints: string[] = []) => ({
  runId,
  networkId: 'net1',
  compose: composeServices(ROOT),
  observerConstraints,
  resources: plan,
});

export type Limits = { NanoCPUs?: number; MemoryBytes?: number } | undefined;
export const limitsOf = (s: { TaskTemplate?: unknown }): Limits =>
  (s.TaskTemplate as { Resources?: { Limits?: Limits } }).Resources?.Limits;
