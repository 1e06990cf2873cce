// One Runtime interface, two implementations (docker, process), chosen by a strategy chain in select.ts.
// Everything the burst run, probes and faults need from "the stack" goes through this interface,
// so scenarios never know whether they run on containers or local processes.

export type RuntimeKind = 'docker' | 'process';

export interface StackOptions {
  runId: string;
  /** Directory for this run's temp data (process runtime) or generated files. */
  workDir: string;
  scrapeIntervalMs: number;
  /** Extra Prometheus scrape settings for the producers job (e.g. sample_limit, body_size_limit). */
  producerScrape?: { sampleLimit?: number; bodySizeLimit?: string; scrapeTimeoutMs?: number };
  withNodeExporter: boolean;
  log: (msg: string) => void;
}

export interface ProducerOptions {
  podsPerProducer: number;
  seed: number;
  pushMode: 'per-event' | 'buffered' | 'aggregated' | 'off';
  jitter: boolean;
  transport: 'udp' | 'tcp';
  heartbeatMs: number;
  flushIntervalMs: number;
  fleetPods: number;
}

/** Where the lab (on the host) reaches each component. Always loopback URLs. */
export interface StackEndpoints {
  prometheusUrl: string;
  pushgatewayUrl: string;
  collectorHttpUrl: string;
  nodeExporterUrl: string | null;
}

export interface ProducerMember {
  /** Producer instance name (the `container` label). */
  name: string;
  /** Loopback base URL of its HTTP server (control API, /pods/<id>/metrics). */
  baseUrl: string;
  podIds: string[];
  /** OS pid (process runtime) or container id (docker runtime). */
  handle: string;
}

export type FaultKind = 'kill' | 'pause' | 'resume' | 'partition' | 'heal' | 'restart';

export interface Runtime {
  readonly kind: RuntimeKind;
  /** Brings the base stack up (prometheus, pushgateway, collector, node-exporter). Idempotent. */
  up(opts: StackOptions): Promise<StackEndpoints>;
  /** Scales the producer fleet to `producers` instances; returns the current members. */
  scale(producers: number, opts: ProducerOptions): Promise<ProducerMember[]>;
  members(): ProducerMember[];
  fault(kind: FaultKind, member: ProducerMember): Promise<void>;
  /** CPU seconds consumed so far per component name (for the report's CPU chart). */
  cpuSeconds(): Promise<Record<string, number>>;
  /** Tears down everything this runtime started. Safe to call twice and after a partial up(). */
  down(): Promise<void>;
}
