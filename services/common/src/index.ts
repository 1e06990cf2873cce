export * from './clock.ts';
export * from './control.ts';
export * from './errors.ts';
export * from './flags.ts';
export * from './ledger.ts';
export * from './log.ts';
export * from './profile.ts';
export * from './units.ts';
