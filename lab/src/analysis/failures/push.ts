import type { ProbeSample } from '../../core/record.ts';
import { collectorDropCounter, udpDropCounter } from '../series.ts';
import type { Detection } from './detection.ts';
import { firstIncrease, fmt, secs } from './scan.ts';

// The push path's failure detectors: datagrams lost on the way, dropped by the kernel or the collector,
// or never sent.

/** This run's own datagrams went missing between the producers' sockets and the collector. */
export function datagramLoss({ own, add }: Detection): void {
  if (own)
    add(
      'push',
      'datagram-loss',
      own.sample,
      `${fmt(own.deficit)} of this run's datagrams sent but not received by the collector (beyond the in-flight allowance of ${fmt(Math.round(own.tolerance))})`,
    );
}

const buf = (c: ProbeSample['collector']) =>
  c?.rcvbufBytes ? `; socket receive buffer ${fmt(c.rcvbufBytes)} B` : '';

/**
 * The kernel dropped datagrams before the collector read them: the collector's own socket drops when it
 * exposes them, else the namespace's counters from where this run can be losing (kernel.ts).
 */
export function kernelDrops(d: Detection): void {
  const { samples, t0, opts, kernel: k } = d;
  const kernelAll = firstIncrease(samples, udpDropCounter);
  const discountHostDrops = () =>
    d.discount(
      'kernel-udp-drop',
      `${k.sharedReason} (first seen ${secs(kernelAll!.sample, t0).toFixed(1)} s after the open)`,
    );
  if (k.socket) {
    d.add(
      'push',
      'kernel-udp-drop',
      k.socket.sample,
      `+${fmt(k.socket.delta)} datagrams dropped by the kernel on the collector's socket (collector_udp_socket_drops_total)${buf(k.socket.sample.collector)}`,
    );
    if (opts.sharedNetns && kernelAll && kernelAll.sample.tMs < k.socket.sample.tMs) discountHostDrops();
    return;
  }
  const kernel = k.hasSocketDrops ? null : firstIncrease(samples, udpDropCounter, k.kernelFrom);
  if (kernelAll && (!kernel || kernelAll.sample !== kernel.sample)) discountHostDrops();
  if (!kernel) return;
  const n = kernel.sample.node;
  const src =
    n && (n.inErrors !== null || n.rcvbufErrors !== null)
      ? 'node_netstat_Udp_InErrors/RcvbufErrors'
      : 'collector_kernel_udp_*_errors_total';
  d.add(
    'push',
    'kernel-udp-drop',
    kernel.sample,
    `+${fmt(kernel.delta)} UDP datagrams dropped by the kernel (${src})${buf(kernel.sample.collector)}`,
  );
}

/** #27: the kernel dropped datagrams on the agents' sockets (each agent's /proc/net/udp drops, summed). */
export function agentKernelDrops({ samples, add }: Detection): void {
  const hit = firstIncrease(samples, (s) => s.pushAgentDrops ?? null);
  if (hit)
    add(
      'push',
      'agent-udp-drop',
      hit.sample,
      `+${fmt(hit.delta)} datagrams dropped by the kernel on the agents' sockets (/proc/net/udp)`,
    );
}

/** The collector dropped lines it had read (parse errors, cardinality limit, queues). */
export function collectorDrops({ samples, add }: Detection): void {
  const coll = firstIncrease(samples, collectorDropCounter);
  if (!coll) return;
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

/** The producers' sends failed (EAGAIN/ENOBUFS, TCP errors): counted in the ground-truth ledger. */
export function sendErrors({ samples, add }: Detection): void {
  const send = firstIncrease(samples, (s) => s.ledger?.sendErrors ?? null);
  if (send)
    add('push', 'send-error', send.sample, `+${fmt(send.delta)} push send errors in the producers' ledgers`);
}

/** OTLP: exports that finally failed (after the exporter's own retries), counted in the ledger. */
export function exportFailures({ samples, add }: Detection): void {
  const f = firstIncrease(samples, (s) => s.ledger?.otlpExportsFailed ?? null);
  if (f)
    add(
      'push',
      'export-failed',
      f.sample,
      `+${fmt(f.delta)} OTLP exports failed after the exporter's retries (producers' ledgers)`,
    );
}

/** OTLP: the receiver answered 429/503 (back-pressure: the exporter backs off and retries). */
export function exportThrottled({ samples, add }: Detection): void {
  const f = firstIncrease(samples, (s) => s.ledger?.otlpRequestsRetryable ?? null);
  if (f)
    add(
      'push',
      'export-throttled',
      f.sample,
      `+${fmt(f.delta)} OTLP requests answered 429/502/503/504 (retryable: the exporter backs off and retries)`,
    );
}

const refusedPoints = (s: ProbeSample) => {
  const r = s.collector?.otlpRefusedByReason;
  return r ? Object.values(r).reduce((a, b) => a + b, 0) : null;
};

/** OTLP: the receiver refused data points (partial_success), by reason in the collector's self-metrics. */
export function receiverRefusals({ samples, add }: Detection): void {
  const f = firstIncrease(samples, refusedPoints);
  if (!f) return;
  const reasons = Object.entries(f.sample.collector?.otlpRefusedByReason ?? {})
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${fmt(v)} ${k}`)
    .join(', ');
  add(
    'push',
    'otlp-refused',
    f.sample,
    `+${fmt(f.delta)} OTLP points refused by the receiver (so far: ${reasons})`,
  );
}
