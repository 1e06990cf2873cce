import type { LossCause } from '../core/record.ts';

// The impact of a failure signal: how many lost orders the cause that signal points at accounts for.
// A signal says *that* something broke; the loss-by-cause accounting says how much it cost. Signals that
// point at no loss cause (a slow scrape, an alert, an unresponsive collector) have no impact figure. Pure.

/** The loss cause (or cause family: `collector-refused` matches every `collector-refused:<reason>`) a signal points at. */
export function causeOfSignal(signal: string): string | null {
  if (signal.startsWith('died:agent-')) return 'agent-died'; // #27: a host's collector agent
  if (signal.startsWith('died:')) return 'target-died';
  switch (signal) {
    case 'kernel-udp-drop':
    case 'datagram-loss':
      return 'kernel-rcvbuf';
    case 'agent-udp-drop': // #27
      return 'agent-rcvbuf';
    case 'collector-drop':
      return 'collector-refused';
    case 'send-error':
      return 'send-error';
    case 'export-failed':
      return 'exporter-dropped';
    case 'otlp-refused':
      return 'receiver-refused';
    case 'failed-scrape':
      return 'scrape-failed';
    case 'sample-limit':
      return 'scrape-over-limit';
    case 'interval-stretch':
    case 'prometheus-unresponsive':
      return 'prometheus-overloaded';
    case 'remote-write-behind': // #29
    case 'remote-write-shards-max':
    case 'remote-write-retried':
      return 'remote-write-pending';
    case 'remote-write-failed':
    case 'remote-write-refused':
      return 'remote-write-failed';
    default:
      return null;
  }
}

/**
 * Orders lost to the cause `signal` points at, from the path's causes; null when the signal points at no
 * cause or the record has no cause accounting (run@1). 0 when it points at a cause that lost nothing.
 */
export function signalImpact(signal: string, causes: readonly LossCause[] | undefined): number | null {
  const target = causeOfSignal(signal);
  if (target === null || causes === undefined) return null;
  let orders = 0;
  for (const c of causes) {
    const name = c.cause.split(':', 1)[0];
    if (name === target) orders += c.orders;
  }
  return orders;
}
