import type { PathName, ProbeSample } from '../../core/record.ts';
import type { KernelScope, OwnDatagramLoss } from './kernel.ts';

// What every failure detector is handed. A detector looks for one signal's first occurrence in the series
// and reports it through `add` (or, when the signal is not this run's, through `discount`).

export interface FailureOptions {
  burstAtMs: number;
  /** Configured scrape timeout of the producers job, used when scrape_timeout_seconds is not exposed. */
  scrapeTimeoutSeconds: number;
  scrapeIntervalSeconds: number;
  /**
   * The kernel's UDP counters are shared with other processes (process runtime: the host's namespace).
   * Then a kernel drop counts only near this run's own datagram loss (ledgers vs collector), and the rest
   * is reported in `discounted`.
   */
  sharedNetns?: boolean;
  /** Only samples before this instant count (quiesce: what happens while draining is not the burst's). */
  untilMs?: number;
  /** Receives the signals observed but not counted, with the reason. */
  discounted?: { signal: string; reason: string }[];
}

export interface Detection {
  /** The samples that count (already cut at `untilMs`). */
  readonly samples: readonly ProbeSample[];
  /** The burst instant. */
  readonly t0: number;
  readonly opts: FailureOptions;
  /** This run's own datagram loss, found once: the kernel-drop and alert detectors are scoped by it. */
  readonly own: OwnDatagramLoss | null;
  /** Which kernel UDP drops can be this run's (see kernel.ts). */
  readonly kernel: KernelScope;
  add(path: PathName, signal: string, s: ProbeSample, detail: string): void;
  discount(signal: string, reason: string): void;
}

/** One failure signal: finds its first occurrence and reports it through the detection. */
export type Detector = (d: Detection) => void;
