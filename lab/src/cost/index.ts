export { COST_FLAGS, runCostCommand } from './cli.ts';
export * from './collector.ts';
export * from './events.ts';
export { formatCostTable } from './format.ts';
export * from './measure.ts';
export * from './promtext.ts';
export * from './pull.ts';
export * from './push.ts';
export * from './run.ts';
