import type { FirstFailure, ProbeSample } from '../core/record.ts';
import { centralRefused, remoteWriteBehind, shardsAtMax } from './failures/agents.ts';
import { alertsFiring } from './failures/alerts.ts';
import { collectorUnresponsive, componentsDied, prometheusUnresponsive } from './failures/components.ts';
import type { Detection, Detector, FailureOptions } from './failures/detection.ts';
import { firstOwnDatagramLoss, kernelScope } from './failures/kernel.ts';
import { failedScrapes, intervalStretch, sampleLimit, slowScrapes } from './failures/pull.ts';
import {
  agentKernelDrops,
  collectorDrops,
  datagramLoss,
  exportFailures,
  exportThrottled,
  kernelDrops,
  receiverRefusals,
  sendErrors,
} from './failures/push.ts';
import { secs } from './failures/scan.ts';
import { ruleEvaluationMissed } from './failures/stores.ts';

// "What failed first": the first occurrence of each failure signal in the probe time series, ordered by
// time. Pure: a function of the samples and the burst instant only (tested with hand-made series). Each
// signal has its own detector (failures/); this file runs them and orders what they found.

export { ALERT_PATH } from './failures/alerts.ts';
export type { FailureOptions } from './failures/detection.ts';
export { firstOwnDatagramLoss } from './failures/kernel.ts';

/** Signals that read the kernel's UDP counters (host-wide on the process runtime). */
export const KERNEL_UDP_SIGNALS = ['kernel-udp-drop', 'alert:UdpReceiveErrors'] as const;

/**
 * Every failure signal, one detector each. The order is the tie-break among signals seen at the same tick
 * (after the causes-before-symptoms rule below) and the order of `discounted`.
 */
const DETECTORS: readonly Detector[] = [
  datagramLoss,
  kernelDrops,
  agentKernelDrops, // #27
  collectorDrops,
  sendErrors,
  exportThrottled,
  exportFailures,
  receiverRefusals,
  slowScrapes,
  failedScrapes,
  sampleLimit,
  intervalStretch,
  remoteWriteBehind, // #29: the pull agents' remote write
  shardsAtMax,
  centralRefused,
  ruleEvaluationMissed,
  prometheusUnresponsive,
  collectorUnresponsive,
  componentsDied,
  alertsFiring,
];

/** Same tick: causes before symptoms (kernel drop before the datagram deficit), alerts last. */
const signalOrder = (f: FirstFailure) =>
  f.signal.startsWith('alert:') ? 2 : f.signal === 'datagram-loss' ? 1 : 0;

export function deriveFirstFailures(all: readonly ProbeSample[], opts: FailureOptions): FirstFailure[] {
  const t0 = opts.burstAtMs;
  const samples = opts.untilMs === undefined ? all : all.filter((s) => s.tMs < opts.untilMs!);
  const out: FirstFailure[] = [];
  const own = firstOwnDatagramLoss(samples);
  const detection: Detection = {
    samples,
    t0,
    opts,
    own,
    kernel: kernelScope(samples, opts.sharedNetns, own),
    add: (path, signal, s, detail) => out.push({ path, signal, secondsAfterBurst: secs(s, t0), detail }),
    discount: (signal, reason) => opts.discounted?.push({ signal, reason }),
  };
  for (const detect of DETECTORS) detect(detection);
  return out.sort((a, b) => a.secondsAfterBurst - b.secondsAfterBurst || signalOrder(a) - signalOrder(b));
}
