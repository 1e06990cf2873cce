// Programmatic entry points of the lab (tests, scenarios, other tools).

export { evalFailOn, factsOf, parseFailOn } from './analysis/failon.ts';
export { runBurst } from './burst/run.ts';
export { runCli } from './cli/commands.ts';
export type * from './core/record.ts';
export { processRuntimeFactory } from './runtime/process/runtime.ts';
export { derivePrometheusConfig } from './runtime/prometheus-config.ts';
export { selectRuntime } from './runtime/select.ts';
export type * from './runtime/types.ts';
