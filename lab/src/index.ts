// Programmatic entry points of the lab (tests, scenarios, other tools). Runtimes are reached through the
// selector (defaultCandidates / factoryFor / selectRuntime), never by naming a concrete one.

export { evalFailOn, factsOf, parseFailOn } from './analysis/failon.ts';
export { runBurst } from './burst/run.ts';
export { runCli } from './commands/index.ts';
export type * from './core/record.ts';
export { derivePrometheusConfig } from './runtime/prometheus-config.ts';
export { defaultCandidates, factoryFor, selectRuntime } from './runtime/select.ts';
export type * from './runtime/types.ts';
