import type { LabError } from '@pushpull/common';
import type { ProbeSample } from '../../core/record.ts';
import type { ProducerMember, PullAgentInfo } from '../../runtime/types.ts';
import type { PromClient } from '../prom.ts';

// What every probe source is: a name (its key in a sample's probeMs and failedProbes), how often it may
// run, how hard it backs off when it gets slow, and a read that fills its part of a scratch sample.

export const TICK_MS = 1000;
/** Default back-off: a source runs again only after DUTY × its last duration (when that beats its period). */
export const DUTY = 8;
export const PROBE_TIMEOUT_MS = 3000;

export interface ProbeTargets {
  prom: PromClient;
  /** Same Prometheus, longer timeout, for the costly stored-orders query. */
  promSlow: PromClient;
  /** #24: push's own store (`--store per-path`); absent = the shared `prom` stores both paths. */
  pushProm?: PromClient;
  collectorUrl: string;
  nodeExporterUrl: string | null;
  members: () => ProducerMember[];
  /** Cumulative CPU seconds per component (runtime.cpuSeconds()). */
  cpuSeconds: () => Promise<Record<string, number>>;
  /** Resident memory per component (runtime.rssBytes()), when the runtime reports it. */
  rssBytes?: () => Promise<Record<string, number>>;
  /** run@3: each budgeted component's counters (runtime.resourceCounters()), when the runtime reads them. */
  resourceCounters?: () => Promise<ProbeSample['resources']>;
  /** Stop the run when the host's MemAvailable falls below this (bytes): before the kernel OOM-kills something. */
  minHostMemAvailable?: number;
  /** Base-stack components or producers no longer running (runtime.dead()). */
  dead: () => Promise<string[]>;
  /** Last output of a component (runtime.logs), for the error naming a dead one. */
  logs?: (name: string) => Promise<string>;
  scrapeIntervalMs: number;
  ordersFamily?: string;
  /** #29: the pull agents (`--pull-topology agent`): their targets stand in for the central store's. */
  agents?: () => PullAgentInfo[];
}

/** What a source may see and do besides filling its sample. */
export interface ProbeContext {
  /** The loop's signal: aborted when the loop stops. */
  readonly signal: AbortSignal;
  /** The error the run is being stopped with, if a source already found one (read live). */
  readonly fatal: LabError | null;
  /** Stops the run with this error (the orchestrator throws it at its next check). */
  stopRun(error: LabError): void;
}

export interface ProbeSource {
  name: string;
  periodMs: number;
  /** Back-off factor on the last duration: high for sources that cost their target work (renders). */
  duty: number;
  /** Writes what it measured into `sample` (a scratch sample the loop merges); throws when the probe failed. */
  read(sample: ProbeSample, ctx: ProbeContext): Promise<void>;
}
