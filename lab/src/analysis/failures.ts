import type { FirstFailure, PathName, ProbeSample } from '../core/record.ts';
import { collectorDropCounter, type Getter, socketDropCounter, udpDropCounter } from './series.ts';

// "What failed first": the first occurrence of each failure signal in the probe time series, ordered by
// time. Pure: a function of the samples and the burst instant only (tested with hand-made series).

/** Which path an alert belongs to (alert names are fixed by docs/contracts.md). */
export const ALERT_PATH: Record<string, PathName> = {
  InstanceDown: 'pull',
  ScrapeDurationNearTimeout: 'pull',
  SampleLimitHit: 'pull',
  PushHeartbeatAbsent: 'push',
  UdpReceiveErrors: 'push',
  PushgatewayGroupStale: 'push',
};

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

/** Signals that read the kernel's UDP counters (host-wide on the process runtime). */
export const KERNEL_UDP_SIGNALS = ['kernel-udp-drop', 'alert:UdpReceiveErrors'] as const;

/**
 * This run's datagram deficit per tick: Σ ledger datagrams − datagrams the collector received. In-flight
 * datagrams and the time between the two reads (each read lands in the sample current when it completes)
 * make it wobble around 0; the allowance is max(1000, the send rate × (250 ms + both reads' durations)).
 * The first check over the allowance that the next check confirms is where this run started losing
 * datagrams. Exact, and independent of any other process on the host.
 */
export function firstOwnDatagramLoss(
  samples: readonly ProbeSample[],
): { sample: ProbeSample; deficit: number; tolerance: number; previousCheckMs: number | null } | null {
  let prev: { t: number; sent: number } | null = null;
  let rate = 0;
  let previousCheckMs: number | null = null;
  let candidate: {
    sample: ProbeSample;
    deficit: number;
    tolerance: number;
    previousCheckMs: number | null;
  } | null = null;
  for (const s of samples) {
    const sent = s.ledger?.datagrams;
    if (sent === undefined || sent === null) continue;
    if (prev && s.tMs > prev.t) rate = ((sent - prev.sent) * 1000) / (s.tMs - prev.t);
    prev = { t: s.tMs, sent };
    const got = s.collector?.packetsUdp;
    if (got === null || got === undefined) continue;
    const skewMs = (s.probeMs.ledgers ?? 0) + (s.probeMs.collector ?? 0);
    const tolerance = Math.max(1000, rate * (0.25 + skewMs / 1000));
    if (sent - got > tolerance) {
      if (candidate) return candidate;
      candidate = { sample: s, deficit: sent - got, tolerance, previousCheckMs };
    } else candidate = null;
    previousCheckMs = s.tMs;
  }
  return null;
}

const secs = (s: ProbeSample, t0: number) => Math.round((s.tMs - t0) / 100) / 10;

/** First sample at/after `fromMs` at which a cumulative counter increased over the previous value. */
function firstIncrease(
  samples: readonly ProbeSample[],
  get: Getter,
  fromMs = Number.NEGATIVE_INFINITY,
): { sample: ProbeSample; delta: number; value: number } | null {
  let prev: number | null = null;
  for (const s of samples) {
    const v = get(s);
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (prev !== null && v > prev && s.tMs >= fromMs) return { sample: s, delta: v - prev, value: v };
    prev = v; // first value, unchanged, or a counter reset: (re-)baseline
  }
  return null;
}

function firstWhere(
  samples: readonly ProbeSample[],
  pred: (s: ProbeSample) => string | null,
): { sample: ProbeSample; detail: string } | null {
  for (const s of samples) {
    const d = pred(s);
    if (d !== null) return { sample: s, detail: d };
  }
  return null;
}

const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toPrecision(3));

export function deriveFirstFailures(all: readonly ProbeSample[], opts: FailureOptions): FirstFailure[] {
  const t0 = opts.burstAtMs;
  const samples = opts.untilMs === undefined ? all : all.filter((s) => s.tMs < opts.untilMs!);
  const out: FirstFailure[] = [];
  const add = (path: PathName, signal: string, s: ProbeSample, detail: string) =>
    out.push({ path, signal, secondsAfterBurst: secs(s, t0), detail });
  const discount = (signal: string, reason: string) => opts.discounted?.push({ signal, reason });

  // push: this run's own datagrams went missing between the producers' sockets and the collector.
  const own = firstOwnDatagramLoss(samples);
  if (own)
    add(
      'push',
      'datagram-loss',
      own.sample,
      `${fmt(own.deficit)} of this run's datagrams sent but not received by the collector (beyond the in-flight allowance of ${fmt(Math.round(own.tolerance))})`,
    );
  // The collector's own socket drops (sk_drops) are exact and per socket: when it exposes them, they are
  // the kernel-drop signal, whatever the namespace. Otherwise the namespace's counters are used, and on a
  // shared namespace only drops since the last check that found none of this run's datagrams missing can
  // be this run's (the loss happened between that check and the first one that found it).
  const hasSocketDrops = samples.some(
    (s) => s.collector?.socketDrops !== null && s.collector?.socketDrops !== undefined,
  );
  const socket = hasSocketDrops ? firstIncrease(samples, socketDropCounter) : null;
  const kernelFrom = !opts.sharedNetns
    ? Number.NEGATIVE_INFINITY
    : socket
      ? socket.sample.tMs
      : hasSocketDrops
        ? Number.POSITIVE_INFINITY
        : own
          ? (own.previousCheckMs ?? Number.NEGATIVE_INFINITY) + 1
          : Number.POSITIVE_INFINITY;
  const sharedReason = hasSocketDrops
    ? socket
      ? "host-wide kernel UDP counters (process runtime) moved before the collector's own socket dropped anything: another process's drops"
      : "host-wide kernel UDP counters (process runtime) moved, but the collector's own socket dropped nothing: another process's drops"
    : own
      ? "host-wide kernel UDP counters (process runtime) moved while all of this run's datagrams were still reaching the collector: another process's drops"
      : "host-wide kernel UDP counters (process runtime) moved, but none of this run's datagrams was lost: another process's drops";

  // push: the kernel dropped datagrams before the collector read them.
  const buf = (c: ProbeSample['collector']) =>
    c?.rcvbufBytes ? `; socket receive buffer ${fmt(c.rcvbufBytes)} B` : '';
  const kernelAll = firstIncrease(samples, udpDropCounter);
  if (socket) {
    add(
      'push',
      'kernel-udp-drop',
      socket.sample,
      `+${fmt(socket.delta)} datagrams dropped by the kernel on the collector's socket (collector_udp_socket_drops_total)${buf(socket.sample.collector)}`,
    );
    if (opts.sharedNetns && kernelAll && kernelAll.sample.tMs < socket.sample.tMs)
      discount(
        'kernel-udp-drop',
        `${sharedReason} (first seen ${secs(kernelAll.sample, t0).toFixed(1)} s after the open)`,
      );
  } else {
    const kernel = hasSocketDrops ? null : firstIncrease(samples, udpDropCounter, kernelFrom);
    if (kernelAll && (!kernel || kernelAll.sample !== kernel.sample))
      discount(
        'kernel-udp-drop',
        `${sharedReason} (first seen ${secs(kernelAll.sample, t0).toFixed(1)} s after the open)`,
      );
    if (kernel) {
      const n = kernel.sample.node;
      const src =
        n && (n.inErrors !== null || n.rcvbufErrors !== null)
          ? 'node_netstat_Udp_InErrors/RcvbufErrors'
          : 'collector_kernel_udp_*_errors_total';
      add(
        'push',
        'kernel-udp-drop',
        kernel.sample,
        `+${fmt(kernel.delta)} UDP datagrams dropped by the kernel (${src})${buf(kernel.sample.collector)}`,
      );
    }
  }

  // push: the collector dropped lines it had read (parse errors, cardinality limit, queues).
  const coll = firstIncrease(samples, collectorDropCounter);
  if (coll) {
    const i = samples.indexOf(coll.sample);
    const before = samples
      .slice(0, i)
      .reverse()
      .find((x) => x.collector && collectorDropCounter(x) !== null)?.collector;
    const c = coll.sample.collector!;
    const parts = [
      ['parse errors', (c.parseErrors ?? 0) - (before?.parseErrors ?? 0)],
      ['series rejected by the cardinality limit', (c.seriesRejected ?? 0) - (before?.seriesRejected ?? 0)],
      ['other drops (oversized packets, queues)', (c.otherDrops ?? 0) - (before?.otherDrops ?? 0)],
    ] as const;
    add(
      'push',
      'collector-drop',
      coll.sample,
      `+${fmt(coll.delta)} lines dropped by the collector: ${parts
        .filter(([, n]) => n > 0)
        .map(([what, n]) => `${fmt(n)} ${what}`)
        .join(', ')}`,
    );
  }
  // push: the producers' sends failed (EAGAIN/ENOBUFS, TCP errors) — counted in the ground-truth ledger.
  const send = firstIncrease(samples, (s) => s.ledger?.sendErrors ?? null);
  if (send)
    add('push', 'send-error', send.sample, `+${fmt(send.delta)} push send errors in the producers' ledgers`);

  // pull: a scrape slower than half its timeout.
  const slow = firstWhere(samples, (s) => {
    const p = s.pull;
    if (!p || p.scrapeMax === null) return null;
    const timeout = p.scrapeTimeout ?? opts.scrapeTimeoutSeconds;
    if (p.scrapeMax > 0.5 * timeout)
      return `slowest scrape ${p.scrapeMax.toFixed(2)} s > half its ${timeout} s timeout${p.slowTargets ? ` (${p.slowTargets} targets)` : ''}`;
    return null;
  });
  if (slow) add('pull', 'slow-scrape', slow.sample, slow.detail);
  // pull: a failed scrape (up == 0 on a producer target).
  const failed = firstWhere(samples, (s) => {
    const p = s.pull;
    if (!p || p.targets === null || p.targetsUp === null) return null;
    return p.targetsUp < p.targets
      ? `${p.targets - p.targetsUp} of ${p.targets} pod targets failed their last scrape (up == 0)`
      : null;
  });
  if (failed) add('pull', 'failed-scrape', failed.sample, failed.detail);
  // pull: sample_limit exceeded (the whole scrape is discarded).
  const limit = firstIncrease(samples, (s) => s.pull?.sampleLimitExceeded ?? null);
  if (limit)
    add(
      'pull',
      'sample-limit',
      limit.sample,
      `+${fmt(limit.delta)} scrapes exceeded sample_limit and were discarded`,
    );
  // pull: Prometheus itself fell behind (actual scrape interval p99 > 1.5 × configured).
  const stretch = firstWhere(samples, (s) => {
    const v = s.pull?.intervalP99;
    if (v === null || v === undefined) return null;
    return v > 1.5 * opts.scrapeIntervalSeconds
      ? `scrape interval p99 ${v.toFixed(2)} s vs configured ${opts.scrapeIntervalSeconds} s (Prometheus fell behind)`
      : null;
  });
  if (stretch) add('pull', 'interval-stretch', stretch.sample, stretch.detail);

  // a component still running but no longer answering the lab (overloaded): after it had answered before.
  const unresponsive = (probe: string) => {
    let answered = false;
    for (const s of samples) {
      if (s.failedProbes?.includes(probe)) {
        if (answered) return s;
      } else if (s.probeMs[probe] !== undefined) answered = true;
    }
    return null;
  };
  const promGone = unresponsive('prometheus');
  if (promGone)
    add(
      'pull',
      'prometheus-unresponsive',
      promGone,
      "Prometheus stopped answering the lab's probe query in time (its HTTP API is overloaded)",
    );
  const collGone = unresponsive('collector');
  if (collGone)
    add('push', 'collector-unresponsive', collGone, 'the collector stopped answering GET /metrics in time');

  // a component process/container died (e.g. out of memory at a large fleet): the hardest failure.
  const died = new Set<string>();
  for (const s of samples) {
    for (const name of s.dead ?? []) {
      if (died.has(name)) continue;
      died.add(name);
      const paths: PathName[] =
        name === 'collector'
          ? ['push']
          : name === 'prometheus'
            ? ['pull']
            : name.startsWith('producer')
              ? ['pull', 'push']
              : [];
      for (const p of paths)
        add(p, `died:${name}`, s, `${name} stopped running (process exited / container gone)`);
    }
  }

  // alerts: the first time each alert was seen firing.
  const seen = new Set<string>();
  let udpWasFiring = false;
  for (const s of samples) {
    if (s.alerts === null) continue;
    const udpFiring = s.alerts.some((a) => a.name === 'UdpReceiveErrors' && a.state === 'firing');
    const udpStarted = udpFiring && !udpWasFiring;
    udpWasFiring = udpFiring;
    for (const a of s.alerts) {
      if (a.state !== 'firing' || seen.has(a.name)) continue;
      // On a shared namespace the alert is this run's only if it STARTS firing once this run loses datagrams.
      if (opts.sharedNetns && a.name === 'UdpReceiveErrors' && (s.tMs < kernelFrom || !udpStarted)) {
        if (!seen.has('\0udp-discounted'))
          discount(
            'alert:UdpReceiveErrors',
            `${sharedReason} (alert firing ${secs(s, t0).toFixed(1)} s after the open)`,
          );
        seen.add('\0udp-discounted');
        continue;
      }
      seen.add(a.name);
      add(
        ALERT_PATH[a.name] ?? 'pull',
        `alert:${a.name}`,
        s,
        `alert ${a.name} firing (${a.count} instance${a.count === 1 ? '' : 's'})`,
      );
    }
  }
  // Same tick: causes before symptoms (kernel drop before the datagram deficit), alerts last.
  const signalOrder = (f: FirstFailure) =>
    f.signal.startsWith('alert:') ? 2 : f.signal === 'datagram-loss' ? 1 : 0;
  return out.sort((a, b) => a.secondsAfterBurst - b.secondsAfterBurst || signalOrder(a) - signalOrder(b));
}
