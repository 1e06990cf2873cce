export * from './burst.ts';
export { formatModelTable } from './format.ts';
export * from './stats.ts';
