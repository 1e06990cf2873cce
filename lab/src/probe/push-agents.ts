import { httpText } from '../core/http.ts';
import type { PushAgentReading } from '../core/record-push-agents.ts';
import { transportNamed } from '../core/transports.ts';
import { parseExposition } from './exposition.ts';

// #27: reading a collector agent's books (its GET /metrics/self). Pure parse; one fetch per read.

const KEEP = new Set([
  'collector_packets_total',
  'collector_udp_socket_drops_total',
  'collector_parse_errors_total',
  'collector_series_rejected_total',
  'collector_packets_too_large_total',
  'collector_agent_tally_total',
  'collector_agent_tally_queued',
  'collector_agent_points_refused_total',
  'collector_agent_requests_total',
  'collector_agent_retries_total',
  'collector_agent_queue_points',
]);

/** An agent with no reading yet (or never read): every count zero, not alive. */
export function emptyPushReading(name: string): PushAgentReading {
  return {
    name,
    readAtMs: null,
    alive: false,
    datagrams: 0,
    socketDrops: null,
    refusedLines: {},
    orders: {
      received: 0,
      aggregated: 0,
      forwarded: 0,
      queued: 0,
      droppedQueueFull: 0,
      droppedForwardFailed: 0,
      droppedTooLarge: 0,
    },
    pointsRefused: 0,
    requests: {},
    retries: 0,
    queuePeakPoints: 0,
  };
}

/** An agent's books from its self-metrics text, read at `readAtMs`. */
export function pushAgentReadingOf(name: string, text: string, readAtMs: number): PushAgentReading {
  const samples = parseExposition(text, (n) => KEEP.has(n));
  const r: PushAgentReading = { ...emptyPushReading(name), readAtMs, alive: true };
  const stage: Record<string, keyof PushAgentReading['orders']> = {
    received: 'received',
    aggregated: 'aggregated',
    forwarded: 'forwarded',
    dropped_queue_full: 'droppedQueueFull',
    dropped_forward_failed: 'droppedForwardFailed',
    dropped_too_large: 'droppedTooLarge',
  };
  const refuse = (reason: string, v: number) => {
    if (v > 0 && reason !== 'ok') r.refusedLines[reason] = (r.refusedLines[reason] ?? 0) + v;
  };
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    switch (s.name) {
      case 'collector_packets_total':
        if (transportNamed(s.labels.transport)?.kernelDrops) r.datagrams += s.value;
        break;
      case 'collector_udp_socket_drops_total':
        r.socketDrops = s.value;
        break;
      case 'collector_parse_errors_total':
        refuse(s.labels.reason ?? 'parse_error', s.value);
        break;
      case 'collector_series_rejected_total':
        refuse(s.labels.reason ?? 'max_series', s.value);
        break;
      case 'collector_packets_too_large_total':
        refuse('packet_too_large', s.value);
        break;
      case 'collector_agent_tally_total': {
        const k = stage[s.labels.stage ?? ''];
        if (k) r.orders[k] += s.value;
        break;
      }
      case 'collector_agent_tally_queued':
        r.orders.queued = s.value;
        break;
      case 'collector_agent_points_refused_total':
        r.pointsRefused = s.value;
        break;
      case 'collector_agent_requests_total':
        r.requests[s.labels.outcome ?? '?'] = (r.requests[s.labels.outcome ?? '?'] ?? 0) + s.value;
        break;
      case 'collector_agent_retries_total':
        r.retries = s.value;
        break;
      case 'collector_agent_queue_points':
        r.queuePeakPoints = s.value;
        break;
    }
  }
  return r;
}

/** Reads one agent (throws when it does not answer in time). */
export async function readPushAgent(
  name: string,
  url: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<PushAgentReading> {
  const text = await httpText(`${url}/metrics/self`, { timeoutMs, ...(signal ? { signal } : {}) });
  return pushAgentReadingOf(name, text, Date.now());
}
