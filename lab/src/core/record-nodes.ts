// One swarm node in the run record (environment.nodes).

export interface RecordNode {
  name: string;
  /** Swarm node id (nodes made on one machine share a hostname); absent in records before 2026-12-07. */
  id?: string;
  /** The node's pushpull.role label (observer | producer), or null; absent before 2026-12-07. */
  role?: string | null;
  cores: number;
  memoryBytes: number;
  /** Node clock − manager clock, ms (null: not measured). */
  clockOffsetMs: number | null;
  /** Producers and virtual pods placed on the node when the record was written; absent before 2026-12-07. */
  producers?: number;
  pods?: number;
  /** Services with a task placed on the node (producers by name, observers by component). */
  tasks?: string[];
  /** Images the node needs for those tasks (checked on it before deploying). */
  images?: string[];
  /** Declared CPU (cores) and memory (bytes) of those tasks summed (null: none declared); tasks without any limit. */
  budget?: { cpus: number | null; memoryBytes: number | null; unlimited?: string[] };
  /** Median clock offset of the node's producers as the lab measured them at the open, ms. */
  producerClockOffsetMs?: number | null;
}

/**
 * The open as it happened on every producer (run.open): the offsets the lab measured, the instant each was
 * told (in its own clock) and the instant it actually opened (in the lab's clock), and their spread.
 */
export interface RecordOpen {
  /** T0 in the lab's clock. */
  scheduledAtMs: number;
  /** --clock-compensation: each producer told T0 + its measured offset (true) or T0 itself (false). */
  compensation: boolean;
  /** Latest − earliest actual open across producers, ms (null: fewer than two measured). */
  spreadMs: number | null;
  /**
   * The clocks' part of it: latest − earliest instant each producer was due to open (its told instant in the
   * lab's clock, by its offset measured after the open); the rest is producers opening late (a busy node).
   */
  clockSpreadMs: number | null;
  /** The latest producer's lateness: its first tick after the instant it was told, in its own clock, ms. */
  maxLateMs: number | null;
  /** Spread over which the lab warns (50 ms). */
  warnAboveMs: number;
  /** The warning the lab printed (null: within the limit). */
  warning: string | null;
  producers: RecordOpenProducer[];
}

export interface RecordOpenProducer {
  name: string;
  /** Swarm node id the producer ran on (null: not a swarm, or not known). */
  node: string | null;
  /** Producer clock − lab clock before the open, ms (smallest-round-trip exchange; null: not measured). */
  clockOffsetMs: number | null;
  /** Half that exchange's round trip: the offset's error bound, ms. */
  errorMs: number | null;
  /** The instant it was told, in its own clock. */
  startAtMs: number;
  /** When it actually opened, in the lab's clock (its own reading − its offset measured after the open). */
  openedAtMs: number | null;
  /** When it was due to open, in the lab's clock (startAtMs − its offset measured after the open). */
  dueAtMs: number | null;
  /** The error bound of the offset measured after the open (half its round trip), ms. */
  errorAfterMs: number | null;
  /** TEST ONLY: the skew injected into it (PUSHPULL_TEST_CLOCK_SKEW_MS), when any. */
  testClockSkewMs?: number;
}

/** The burst config's part about the open across clocks (BurstConfig extends it). */
export interface OpenConfig {
  /** --clock-compensation: each producer told the open in its own clock (absent in older records = off). */
  clockCompensation?: boolean;
  /** TEST ONLY --test-clock-skew NODE:MS: a clock skew injected into the producers on one swarm node. */
  testClockSkew?: { node: string; ms: number } | null;
}

/** The run record's part about the open (RunRecord extends it). */
export interface OpenRecordPart {
  /** The open on every producer: offsets, actual instants, spread (absent before 2026-12-07). */
  open?: RecordOpen;
}
