// Programmatic entry points of the lab (tests, scenarios, other tools).

export { runBurst } from './burst/run.ts';
export type * from './burst/types.ts';
export { runCli } from './cli/dispatch.ts';
export { evalFailOn, factsOf, parseFailOn } from './cli/failon.ts';
export { processRuntimeFactory } from './runtime/process.ts';
export { derivePrometheusConfig } from './runtime/prometheus-config.ts';
export { selectRuntime } from './runtime/select.ts';
export type * from './runtime/types.ts';
