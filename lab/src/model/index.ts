export * from './burst.ts';
export { type CommandIo, MODEL_FLAGS, modelConfigFromArgs, runModelCommand } from './cli.ts';
export { formatModelTable } from './format.ts';
export * from './stats.ts';
