import { CAUSE_TEXT } from '../analysis/causes.ts';
import type { LossCause } from '../core/record.ts';

// #29: a drill cell's orders lost by cause (the run record's LossCause: the causes sum to the cell's loss
// exactly), in the grid's few words and in drill.html's sentences. The burst's cause names keep their words
// (analysis/causes.ts); the drill's own — what only a fault the drill injects can cause — are listed here.

/** Causes only a drill fault produces (a pull agent SIGKILLed while its host's pods keep running). */
export const DRILL_CAUSE_TEXT: Readonly<Record<string, string>> = {
  'agent-killed-unsent':
    "generated before its host's agent was killed and never in the central store: died in the agent's remote-write queue (WAL), or after its last scrape", // #29
  'agent-dead-unscraped': "generated after its host's agent was killed: nothing scraped its pods", // #29
};

export function causeWords(cause: string): string {
  return (CAUSE_TEXT as Record<string, string>)[cause] ?? DRILL_CAUSE_TEXT[cause] ?? cause;
}

/** "remote-write-pending 1,234, scrape-failed 56" — the causes that took orders (an empty unexplained is left out). */
export function causesShort(causes: readonly LossCause[]): string {
  return causes
    .filter((c) => c.orders > 0)
    .map((c) => `${c.cause} ${c.orders.toLocaleString('en-US')}`)
    .join(', ');
}
