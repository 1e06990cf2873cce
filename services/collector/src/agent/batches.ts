import { encodeRequest } from '../parse/otlp.ts';
import { type KeyValue, TEMPORALITY_DELTA } from '../parse/otlp-schema.ts';
import type { OutPoint } from './points.ts';

// Agent mode: a flush's points as OTLP/HTTP protobuf request bodies, each within the central receiver's
// per-request limits (--forward-max-points, --forward-max-bytes). Pure. Encoded with the collector's own
// protobufjs schema of opentelemetry-proto (the one its receiver decodes with).

export interface Batch {
  body: Buffer;
  points: number;
  /** Tallied counter increments it carries. */
  tally: number;
}

export interface BatchLimits {
  maxPoints: number;
  maxBytes: number;
  /** Resource attributes of every request (who sent it). */
  resource: readonly KeyValue[];
}

export interface Batched {
  batches: Batch[];
  /** Points that alone exceed --forward-max-bytes: not sent, counted (too_large). */
  tooLarge: { points: number; tally: number };
}

/** One request's body: the points grouped into metrics, in order of first appearance. */
export function encodeBatch(points: readonly OutPoint[], resource: readonly KeyValue[]): Buffer {
  const metrics = new Map<string, Record<string, unknown>>();
  for (const p of points) {
    const key = `${p.kind}\u0000${p.metric}`;
    let m = metrics.get(key);
    if (m === undefined) {
      const data =
        p.kind === 'sum'
          ? { dataPoints: [], aggregationTemporality: TEMPORALITY_DELTA, isMonotonic: true }
          : p.kind === 'histogram'
            ? { dataPoints: [], aggregationTemporality: TEMPORALITY_DELTA }
            : { dataPoints: [] };
      m = { name: p.metric, [p.kind]: data };
      metrics.set(key, m);
    }
    ((m[p.kind] as { dataPoints: unknown[] }).dataPoints as unknown[]).push(p.point);
  }
  return encodeRequest({
    resourceMetrics: [
      {
        resource: { attributes: resource },
        scopeMetrics: [{ scope: { name: 'pushpull-collector-agent' }, metrics: [...metrics.values()] }],
      },
    ],
  });
}

const tallyOf = (ps: readonly OutPoint[]) => ps.reduce((a, p) => a + p.tally, 0);

/**
 * Chunks of at most maxPoints points whose estimated size stays under maxBytes; a chunk whose encoding is
 * still too large is halved until it fits (a single point that cannot fit is left out and counted).
 */
export function toBatches(points: readonly OutPoint[], lim: BatchLimits): Batched {
  const out: Batched = { batches: [], tooLarge: { points: 0, tally: 0 } };
  let chunk: OutPoint[] = [];
  let est = 0;
  const close = () => {
    if (chunk.length > 0) encodeWithin(chunk, lim, out);
    chunk = [];
    est = 0;
  };
  for (const p of points) {
    if (chunk.length >= lim.maxPoints || (chunk.length > 0 && est + p.bytes > lim.maxBytes * 0.9)) close();
    chunk.push(p);
    est += p.bytes;
  }
  close();
  return out;
}

function encodeWithin(chunk: OutPoint[], lim: BatchLimits, out: Batched): void {
  // Bounded: every split halves the chunk, so at most log2(maxPoints) levels deep.
  const body = encodeBatch(chunk, lim.resource);
  if (body.length <= lim.maxBytes) {
    out.batches.push({ body, points: chunk.length, tally: tallyOf(chunk) });
    return;
  }
  if (chunk.length === 1) {
    out.tooLarge.points += 1;
    out.tooLarge.tally += chunk[0]!.tally;
    return;
  }
  const mid = chunk.length >> 1;
  encodeWithin(chunk.slice(0, mid), lim, out);
  encodeWithin(chunk.slice(mid), lim, out);
}
