import type { StackOptions } from '../../runtime/types.ts';
import type { Cell } from '../grid.ts';
import type { Stack } from '../harness.ts';
import type { Scenario } from '../scenario.ts';

export interface ModeOutcome {
  cells: Cell[];
  metrics: Record<string, number>;
  series: Record<string, [number, number][]>;
  notes: string[];
}

export interface DrillMode {
  /** Scrape limits for the producers job (body balloon). */
  producerScrape?(s: Scenario): StackOptions['producerScrape'];
  /** Extra collector flags for the scenario's stack (e.g. a smaller OTLP in-flight budget). */
  collectorFlags?(s: Scenario): string[];
  run(stack: Stack): Promise<ModeOutcome>;
  /** Scenario-level facts from every variant's outcome (e.g. the jitter-off / jitter-on peak ratio). */
  combine?(outcomes: ReadonlyMap<string, ModeOutcome>): Record<string, number>;
}

export const emptyOutcome = (): ModeOutcome => ({ cells: [], metrics: {}, series: {}, notes: [] });
