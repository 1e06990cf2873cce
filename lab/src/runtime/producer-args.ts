import { renderProducerArgs } from '@pushpull/common';
import { transportOf } from '../core/transports.ts';
import type { ProducerOptions } from './types.ts';

// The producer's command line, shared by every runtime: the same flags whether it runs as a local process
// or in a container, so a fleet behaves the same on each.

/** Who a producer is and where it sends: everything its command line depends on but the listen address. */
export type ProducerArgs = [name: string, pods: number, opts: ProducerOptions, statsd: string, sdDir: string];

/** Producer CLI flags (every runtime passes the same set), rendered by the producer's options table. */
export function producerArgs(
  ...[name, pods, opts, statsd, sdDir, http = '127.0.0.1:0']: [
    ...ProducerArgs,
    /** Port 0 (process runtime): the producer logs the bound port and advertises it in its sd file. */
    http?: string,
  ]
): string[] {
  return [
    'serve',
    ...renderProducerArgs({
      name,
      pods,
      http,
      statsd: `${opts.transport}://${statsd}`,
      sdDir,
      seed: opts.seed,
      fleetPods: opts.fleetPods,
      pushMode: opts.pushMode,
      jitter: opts.jitter,
      flushInterval: opts.flushIntervalMs,
      heartbeat: opts.heartbeatMs,
      ...(transportOf(opts.transport).sdk ? { otlpTemporality: opts.otlpTemporality ?? 'cumulative' } : {}),
    }),
  ];
}

/**
 * Where a containerised producer sends its push path (docker and swarm: the compose service names). StatsD
 * UDP and TCP share port 8125; OTLP/HTTP is the collector's receiver on the spec's default port 4318.
 */
export function containerCollectorAddress(transport: ProducerOptions['transport']): string {
  return `collector:${transportOf(transport).collectorPort}`;
}

/** Pods for producer i of n: the last one takes the remainder when a total is asked for. */
export function podsForProducer(i: number, n: number, opts: ProducerOptions): number {
  if (opts.totalPods === undefined) return opts.podsPerProducer;
  if (i < n - 1) return opts.podsPerProducer;
  return Math.max(1, opts.totalPods - opts.podsPerProducer * (n - 1));
}

/**
 * How many of the running producers (their pod counts, in order) a resize to `producers` keeps: the leading
 * ones whose pod count is still what podsForProducer wants. The rest stop; the runtime starts the missing
 * ones with the new sizes — so the last producer is resized (restarted) when its share of a total changes,
 * and a former last producer with a remainder is refilled when the fleet grows past it. Every runtime.
 */
export function producersToKeep(
  running: readonly number[],
  producers: number,
  opts: ProducerOptions,
): number {
  const max = Math.min(running.length, producers);
  let keep = 0;
  while (keep < max && running[keep] === podsForProducer(keep, producers, opts)) keep++;
  return keep;
}
