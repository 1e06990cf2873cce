import { hostname } from 'node:os';
import type { Clock, Logger } from '@pushpull/common';
import { K_COUNTER, type Store } from '../aggregate/store.ts';
import type { CollectorConfig } from '../options.ts';
import { escapeMetricName } from '../parse/names.ts';
import { toBatches } from './batches.ts';
import { AgentBooks, renderAgent } from './books.ts';
import { type Attempt, Forwarder } from './forwarder.ts';
import { DeltaTracker } from './points.ts';

// Agent mode, wired: every --flush-interval the store's news become OTLP delta points, batched within the
// central receiver's limits and queued for the forwarder. The collector's receive side (UDP, parse, store,
// self-metrics) is unchanged; the agent only reads the store and adds its books to the self-metrics.

/** Longest a clean stop waits for the queue to empty before it exits (what is left stays `queued`). */
const DRAIN_MS = 5000;

export interface Agent {
  readonly books: AgentBooks;
  readonly forwarder: Forwarder;
  /** Takes one flush now (the ticker calls it; tests may too). */
  flush(): void;
  start(): void;
  /** A last flush, then up to 5 s for the queue to empty; then sending stops. */
  stop(): Promise<void>;
  /** The books as exposition text. */
  render(): string;
}

export interface AgentDeps {
  clock: Clock;
  log: Logger;
  /** Replaces the HTTP POST (unit tests only). */
  post?: (body: Buffer, nowMs: number) => Promise<Attempt>;
}

type AgentOptions = Pick<
  CollectorConfig,
  | 'forwardOtlp'
  | 'forwardMaxPoints'
  | 'forwardMaxBytes'
  | 'forwardQueuePoints'
  | 'forwardTimeout'
  | 'forwardMaxElapsed'
  | 'forwardTally'
  | 'flushInterval'
>;

export function createAgent(store: Store, config: AgentOptions, deps: AgentDeps): Agent {
  const books = new AgentBooks();
  const tallied = new Set(config.forwardTally.map((n) => escapeMetricName(n)));
  const tracker = new DeltaTracker(tallied);
  const forwarder = new Forwarder(
    {
      url: config.forwardOtlp,
      timeoutMs: config.forwardTimeout,
      maxElapsedMs: config.forwardMaxElapsed,
      queuePoints: config.forwardQueuePoints,
      clock: deps.clock,
    },
    books,
    deps.post,
  );
  const resource = [
    { key: 'service.name', value: { stringValue: 'pushpull-collector-agent' } },
    { key: 'host.name', value: { stringValue: hostname() } },
  ];
  let ticker: NodeJS.Timeout | null = null;
  const flush = () => {
    const f = tracker.take(store, deps.clock.now());
    books.flushes++;
    books.seriesSkipped += f.skipped;
    if (f.points.length === 0) return;
    const b = toBatches(f.points, {
      maxPoints: config.forwardMaxPoints,
      maxBytes: config.forwardMaxBytes,
      resource,
    });
    books.pointsAggregated += f.points.length;
    books.tallyAggregated += f.points.reduce((a, p) => a + p.tally, 0);
    if (b.tooLarge.points > 0) books.drop('too_large', b.tooLarge.points, b.tooLarge.tally);
    if (!forwarder.enqueue(b.batches))
      deps.log.warn('forward queue full: flush dropped', { points: f.points.length });
  };
  const tallyReceived = () => {
    let n = 0;
    for (const name of tallied) {
      const fam = store.families.get(name);
      if (fam?.kind === K_COUNTER) for (const s of fam.series.values()) n += s.value;
    }
    return n;
  };
  return {
    books,
    forwarder,
    flush,
    start() {
      ticker = setInterval(flush, config.flushInterval);
      ticker.unref();
    },
    async stop() {
      if (ticker !== null) clearInterval(ticker);
      ticker = null;
      flush();
      await forwarder.drain(DRAIN_MS);
      forwarder.close();
    },
    render: () =>
      renderAgent(books, {
        queuePoints: forwarder.queuePoints,
        queueBatches: forwarder.queueBatches,
        queueTally: forwarder.queueTally,
        tallyReceived: tallyReceived(),
      }),
  };
}
