import { encodeRequest } from '../src/parse/otlp.ts';

// OTLP requests shared by the hostile-input tests and the collector bench.

/** A legitimate large export: 100 pods × 30 metrics × 10 points = 30,000 cumulative points, timestamped now. */
export function bigExport(): Buffer {
  const t = String(BigInt(Date.now()) * 1_000_000n);
  return encodeRequest({
    resourceMetrics: Array.from({ length: 100 }, (_, pod) => ({
      resource: { attributes: [{ key: 'pod', value: { stringValue: `pod-${pod}` } }] },
      scopeMetrics: [
        {
          metrics: Array.from({ length: 30 }, (_, m) => ({
            name: `orders.m${m}`,
            sum: {
              aggregationTemporality: 2,
              isMonotonic: true,
              dataPoints: Array.from({ length: 10 }, (_, v) => ({
                timeUnixNano: t,
                asInt: 1,
                attributes: [{ key: 'venue', value: { stringValue: `v${v}` } }],
              })),
            },
          })),
        },
      ],
    })),
  });
}
