import type { LossCause } from './record.ts';

// #28, the Prometheus pair: pull as the incident ran it — two identical Prometheus servers scraping every pod,
// differing only by an external `replica` label. What the record keeps of it (record.ts extends these parts).

/** `--prometheus-replicas`: how many pull Prometheus servers scrape every pod. */
export const PROMETHEUS_REPLICA_CHOICES = ['1', '2'] as const;

/** The pull replicas' components, in order: replica 1 is pull's store (`prometheus`), replica 2 beside it. */
export const PULL_REPLICA_COMPONENTS = ['prometheus', 'prometheus-2'] as const;

/** The external `replica` label of replica i (0-based) when the stack runs more than one. */
export const replicaLabel = (i: number): string => String(i + 1);

export interface ReplicasConfig {
  /** #28: pull's Prometheus servers, each scraping every pod (2 = the Prometheus pair). Absent = 1. */
  prometheusReplicas?: number;
}

/** One further pull replica's targets at one probe tick (/api/v1/targets, as the pull probe reads replica 1). */
export interface ReplicaTargets {
  targets: number | null;
  targetsUp: number | null;
  scrapeP50: number | null;
  scrapeP99: number | null;
  scrapeMax: number | null;
}

export interface ReplicaSamplePart {
  /** #28: each further pull replica's targets this tick, by component (`prometheus-2`). */
  replicas?: Record<string, ReplicaTargets>;
}

/** How far apart the two replicas' scrapes of one target land within the interval (their hashed offsets). */
export interface ScrapeOffsetSpread {
  /** Targets both replicas had scraped when read. */
  targets: number;
  intervalMs: number;
  /** Circular distance between the two replicas' last scrapes of a target, 0 … interval/2. */
  p50Ms: number | null;
  minMs: number | null;
  maxMs: number | null;
  /** Targets whose two scrapes landed within 10% of the interval of each other. */
  within10Pct: number;
  readAtMs: number;
  from: string;
}

/** One replica's view of pull's delivered orders. */
export interface ReplicaAccount {
  /** Its external `replica` label. */
  replica: string;
  component: string;
  delivered: number;
  lost: number;
  lossPct: number | null;
  /** Its loss by cause, summing exactly to `lost` (pull's causes). */
  causes: LossCause[];
  /** The component stopped running during the run. */
  died: boolean;
  /** Producers whose pods this replica did not answer for (down, or over the accounting budget). */
  unanswered: string[];
  /** Orders this replica lost that the merged view has (the other replica held them): its gap, covered. */
  coveredByOther: { pods: number; orders: number };
  /** Every pod's stored total in this replica (null = not answered). */
  podsStored: Record<string, number | null>;
}

/** What the producers and the scrapes cost at the open (the peak window), for 1 vs 2 replicas. */
export interface OpenCost {
  /** The window, seconds after the open: ramp and hold. */
  fromS: number;
  toS: number;
  /** Producers' mean CPU over the window, cores (null = not measured). */
  producerCores: number | null;
  /** Per pull replica: scrape durations of the pods in the window (median of p50s, max of p99s and maxima). */
  scrape: { component: string; p50: number | null; p99: number | null; max: number | null; ticks: number }[];
}

export interface PullReplicasRecord {
  replicas: number;
  /** How the merged view is computed (what a deduplicating querier would answer). */
  merge: string;
  /** Present with 2 replicas: each replica's account; `paths.pull` is then the merged view. */
  perReplica?: ReplicaAccount[];
  merged?: { delivered: number; lost: number; lossPct: number | null; causes: LossCause[] };
  /** One sentence: whether a gap in one replica was covered by the other. */
  gaps?: string;
  scrapeOffset?: ScrapeOffsetSpread | null;
  atOpen: OpenCost | null;
}

export interface ReplicasRecordPart {
  /** #28: the pull replicas (`--prometheus-replicas`): per replica and merged delivered, offsets, cost. */
  pullReplicas?: PullReplicasRecord;
}
