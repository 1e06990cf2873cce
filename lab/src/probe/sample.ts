import type { Phase, ProbeSample, PullProbe } from '../core/record.ts';

// The probe sample's life: a blank one per tick (and per source run, as scratch), and the merge of what a
// source measured into the sample that is current when it completes.

export function newSample(phase: Phase): ProbeSample {
  return {
    tMs: Date.now(),
    phase,
    pull: null,
    collector: null,
    node: null,
    ledger: null,
    ledgerProducers: 0,
    alerts: null,
    cpu: null,
    probeMs: {},
    errors: [],
  };
}

/** Copies what a source measured (non-null fields) into a sample. */
export function mergeInto(target: ProbeSample, from: ProbeSample): void {
  if (from.pull) {
    const merged = { ...(target.pull ?? emptyPull()) };
    for (const [k, v] of Object.entries(from.pull))
      if (v !== null) (merged as Record<string, unknown>)[k] = v;
    target.pull = merged;
  }
  if (from.collector) target.collector = from.collector;
  if (from.node) target.node = from.node;
  if (from.ledger) target.ledger = from.ledger;
  if (from.ledgerProducers) target.ledgerProducers = from.ledgerProducers;
  if (from.alerts) target.alerts = from.alerts;
  if (from.cpu) target.cpu = from.cpu;
  if (from.rss) target.rss = from.rss;
  if (from.resources) target.resources = from.resources;
  if (from.hostMemAvailable !== undefined && from.hostMemAvailable !== null)
    target.hostMemAvailable = from.hostMemAvailable;
  if (from.dead) target.dead = from.dead;
  if (from.stores) target.stores = { ...target.stores, ...from.stores };
  if (from.agents) target.agents = { ...target.agents, ...from.agents };
  if (from.centralReceiver) target.centralReceiver = from.centralReceiver;
  if (from.errors.length > 0) target.errors.push(...from.errors);
}

/** A pull probe with nothing measured yet (null = not measured, so a merge keeps the other values). */
export function emptyPull(): PullProbe {
  return {
    targets: null,
    targetsUp: null,
    scrapeP50: null,
    scrapeP99: null,
    scrapeMax: null,
    scrapeTimeout: null,
    slowTargets: null,
    samplesSum: null,
    samplesMax: null,
    bodyBytesMax: null,
    bodyBytesAvg: null,
    sampleLimitExceeded: null,
    intervalP99: null,
    storedOrders: null,
    storedPushOrders: null,
    storedOrdersRate: null,
    storedPushOrdersRate: null,
    collectorUp: null,
  };
}
