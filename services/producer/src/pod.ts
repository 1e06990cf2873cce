import type { PushSettings, Rng } from '@pushpull/common';
import { emptyCounts, type LedgerCounts } from './ledger.ts';
import type { LabelSets } from './model/labels.ts';
import { PodGenerator, type WorkloadModel } from './model/workload.ts';
import { PodRegistry } from './pull/pod-registry.ts';
import { PodPusher } from './push/pusher.ts';

// One virtual pod of the producer: its generator, registry (pull), push client and ledger, and its periodic
// work on its own jittered grid (queue depth sample, flush boundary, heartbeat). ProducerCore drives them.

export interface Pod {
  id: string;
  gen: PodGenerator;
  reg: PodRegistry;
  pusher: PodPusher;
  ledger: Required<LedgerCounts>;
  /** Per-pod offsets as a fraction of the period (jitter on); 0 with jitter off. */
  flushFrac: number;
  heartbeatFrac: number;
  depthFrac: number;
  nextFlushAt: number;
  nextHeartbeatAt: number;
  nextDepthAt: number;
}

/** First instant strictly after `now` on the grid offset + k * period. */
export function nextBoundary(now: number, period: number, offset: number): number {
  return offset + (Math.floor((now - offset) / period) + 1) * period;
}

/** The pods, each with its own random stream forked from the root by its id (seeded, reproducible). */
export function createPods(
  ids: readonly string[],
  root: Rng,
  labels: LabelSets,
  initialInstruments: number,
): Pod[] {
  return ids.map((id) => {
    const rng = root.fork(id);
    const ledger = emptyCounts();
    const jitterRng = rng.fork('jitter');
    return {
      id,
      gen: new PodGenerator(rng),
      reg: new PodRegistry(labels, initialInstruments),
      pusher: new PodPusher(id, ledger, labels),
      ledger,
      flushFrac: jitterRng.next(),
      heartbeatFrac: jitterRng.next(),
      depthFrac: jitterRng.next(),
      nextFlushAt: 0,
      nextHeartbeatAt: 0,
      nextDepthAt: 0,
    };
  });
}

/** Puts the pod's next flush, heartbeat and depth sample on the grids the settings ask for. */
export function reschedulePod(pod: Pod, now: number, s: PushSettings, depthEvery: number): void {
  pod.nextFlushAt = nextBoundary(now, s.flushIntervalMs, s.jitter ? pod.flushFrac * s.flushIntervalMs : 0);
  pod.nextHeartbeatAt =
    s.heartbeatMs > 0
      ? nextBoundary(now, s.heartbeatMs, s.jitter ? pod.heartbeatFrac * s.heartbeatMs : 0)
      : Infinity;
  pod.nextDepthAt = nextBoundary(now, depthEvery, pod.depthFrac * depthEvery);
}

/** The pod's periodic work due at `now` (once per pod per tick): depth sample, flush, heartbeat. */
export function podPeriodic(pod: Pod, now: number, model: WorkloadModel, s: PushSettings): void {
  const { gen, reg, pusher, ledger } = pod;
  const profile = model.profile;
  if (now >= pod.nextDepthAt) {
    const depth = gen.queueDepth(model.podRate(now), profile);
    reg.setQueueDepth(depth);
    ledger.registryEvents++;
    pusher.queueDepth(depth);
    const every = profile.queueDepthEveryMs;
    pod.nextDepthAt = nextBoundary(now, every, pod.depthFrac * every);
  }
  if (now >= pod.nextFlushAt) {
    pusher.flush();
    pod.nextFlushAt = nextBoundary(now, s.flushIntervalMs, s.jitter ? pod.flushFrac * s.flushIntervalMs : 0);
  }
  if (now >= pod.nextHeartbeatAt) {
    pusher.heartbeat();
    pod.nextHeartbeatAt = nextBoundary(now, s.heartbeatMs, s.jitter ? pod.heartbeatFrac * s.heartbeatMs : 0);
  }
}
