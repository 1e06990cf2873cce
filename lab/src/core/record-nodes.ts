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
}
