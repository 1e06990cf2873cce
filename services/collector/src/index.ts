// @pushpull/collector: builders and the pure core, for tests, tools and lab:cost.
export { Ingest, IngestStats } from './aggregate/ingest.ts';
export { Store } from './aggregate/store.ts';
export {
  type Collector,
  type CollectorAddresses,
  type CollectorDeps,
  type CollectorSummary,
  createCollector,
} from './collector.ts';
export {
  type CollectorConfig,
  type CollectorConfigInput,
  DEFAULT_BUCKETS,
  flagSpecs,
  inputFromFlags,
  OPTIONS,
  resolveConfig,
} from './config.ts';
export {
  parseProcNetSnmp,
  parseProcNetUdpDrops,
  readUdpKernelCounters,
  readUdpSocketDrops,
  type UdpKernelCounters,
} from './expose/kernel.ts';
export { exposition, formatValue, SELF_METRIC_NAMES } from './expose/render.ts';
export {
  DROP_REASONS,
  type DropReason,
  REFUSAL_REASONS,
  type RefusalReason,
  type StatsdType,
  TAG_ERROR_REASONS,
  type TagErrorReason,
  TYPE_NAMES,
} from './parse/codes.ts';
export { type LineVerdict, type ParsedLine, parseLine } from './parse/line.ts';
export { escapeLabelValue, escapeMetricName } from './parse/names.ts';
export { parseDecimal } from './parse/number.ts';
export { LineFramer } from './transport/tcp.ts';
