export interface FileTime {
  file: string;
  ms: number;
  ok: boolean;
}
export interface RunShape {
  wallMs: number;
  jobs: number;
  concurrent: number;
  serial: number;
}
export type Counts = Record<'tests' | 'pass' | 'fail' | 'skipped' | 'todo', number>;
export function isSerial(file: string): boolean;
export function formatTimes(rows: readonly FileTime[], shape: RunShape): string;
export function parseCounts(outputs: readonly string[]): Counts;
export function skippedTests(output: string): string[];
export function slowTests(output: string, limitMs: number): string[];
export function failureSummary(output: string, maxLines?: number): string[];
