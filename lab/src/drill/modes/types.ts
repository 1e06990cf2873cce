import type { ProducerOptions, StackOptions } from '../../runtime/types.ts';
import type { Cell } from '../grid.ts';
import type { Stack } from '../harness.ts';
import type { Scenario } from '../scenario.ts';

export interface ModeOutcome {
  cells: Cell[];
  metrics: Record<string, number>;
  series: Record<string, [number, number][]>;
  notes: string[];
  /** Node drills: what swarm did, in words (the report's "what swarm did" column). */
  swarm?: string;
}

export interface DrillMode {
  /** Scrape limits for the producers job (body balloon). */
  producerScrape?(s: Scenario): StackOptions['producerScrape'];
  /** Extra collector flags for the scenario's stack (e.g. a smaller OTLP in-flight budget). */
  collectorFlags?(s: Scenario): string[];
  /** Producer settings the mode needs (the node drills: a restart policy that lets swarm reschedule). */
  producerOptions?(s: Scenario): Pick<ProducerOptions, 'restartPolicy'>;
  /** The stack the mode needs — #29: pull through per-host agents, their remote write through cuttable relays; #28: the Prometheus pair (`prometheusReplicas: 2`). */
  stackOptions?(s: Scenario): Pick<StackOptions, 'pullTopology' | 'agentRelays' | 'prometheusReplicas'>;
  run(stack: Stack): Promise<ModeOutcome>;
  /** Scenario-level facts from every variant's outcome (e.g. the jitter-off / jitter-on peak ratio). */
  combine?(outcomes: ReadonlyMap<string, ModeOutcome>): Record<string, number>;
}

export const emptyOutcome = (): ModeOutcome => ({ cells: [], metrics: {}, series: {}, notes: [] });
