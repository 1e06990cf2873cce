// Run-record parts that summarise a burst: the limits each path ran under, how densely pull stored the burst,
// and the peaks. Pure data (core/record.ts re-exports them; split out to keep that file readable).

/** A limit in force on one path: what the lab or the user configured, and how it fails when reached. */
export interface PathBudget {
  /** Series the path held: collector_series at the end; for pull the most its landed scrapes stored at once. */
  seriesStored: number | null;
  /** The series limit in force (null = unlimited) and who set it. */
  seriesLimit: number | null;
  setBy: 'default' | 'lab' | 'user';
  /** How reaching it fails on this path. */
  failsBy: string;
}

/** Pull resolution in the burst window: successful scrapes stored per pod vs the interval's expectation. */
export interface PullResolution {
  expectedPerPod: number;
  medianPerPod: number | null;
  minPerPod: number | null;
  /** Pods with no successful scrape stored in the window. */
  podsWithNone: number | null;
}

export interface Peaks {
  pullEmittedPerSec: number | null;
  pullDeliveredPerSec: number | null;
  pushEmittedPerSec: number | null;
  pushDeliveredPerSec: number | null;
  collectorPacketsPerSec: number | null;
  udpDropsPerSec: number | null;
  scrapeP99Seconds: number | null;
  scrapeMaxSeconds: number | null;
  bodyBytesMax: number | null;
  samplesPerScrapeMax: number | null;
  /** Largest resident memory seen per component group (bytes). */
  rssMax?: Record<string, number>;
  /** Lowest MemAvailable of the host during the run (bytes). */
  hostMemAvailableMin?: number | null;
  /** From lab/src/model when it is available: the model's predicted flush peak for this fleet. */
  model: { name: string; value: number; unit: string; measured: number | null; note: string } | null;
}
