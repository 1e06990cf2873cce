export * from './clock.ts';
export * from './errors.ts';
export * from './flags.ts';
export * from './ledger.ts';
export * from './log.ts';
export * from './units.ts';
