// @pushpull/producer: builders and the pure workload model (docs/contracts.md "Programmatic builders").
export {
  DEFAULTS,
  maxConnectionsFor,
  type ProducerConfig,
  parseStatsdTarget,
  podIds,
  type ResolvedConfig,
  resolveConfig,
} from './config.ts';
export { type ControlState, nextBoundary, ProducerCore, type PushSettings } from './core.ts';
export { parsePushRequest, parseScheduleRequest } from './http/control.ts';
export { buildServer, DEFAULT_HTTP_LIMITS, type HttpLimits } from './http/server.ts';
export { type JobOptions, type JobResult, runJob } from './job.ts';
export { CostHistogram, type CostSummary, LEDGER_KEYS, type Ledger, type LedgerCounts } from './ledger.ts';
export { LabelSets } from './model/labels.ts';
export { BUILTIN_PROFILES, loadProfile, type Profile, validateProfile } from './model/profile.ts';
export { fleetOrdersBetween, fleetRateAt, instrumentsAt, type Phase, phaseAt } from './model/rate.ts';
export {
  instrumentName,
  type Order,
  PodGenerator,
  REGIONS,
  REJECT_REASONS,
  SIDES,
  WorkloadModel,
} from './model/workload.ts';
export { createProducer, type Producer, type ProducerDeps } from './producer.ts';
export { LATENCY_BUCKETS_SECONDS, PodRegistry } from './pull/pod-registry.ts';
export { formatLine, PodAggregator, rateRoundTrips, splitCount } from './push/aggregator.ts';
export { PodPusher, PUSH_BUFFER_BYTES, PUSH_MODES, type PushMode } from './push/pusher.ts';
export { createTransport, PodStream, type SharedTransport, type TransportKind } from './push/transport.ts';
export { defaultAdvertise, sdEntries, sdFilePath } from './sd.ts';
