import { TRANSPORTS, type Transport } from '@pushpull/common';

export type { Transport };

// One descriptor per push transport: everything the lab needs to know about a transport — where a producer
// sends it, how the report names it, how its loss is accounted and which failure signals it has — in one
// place beside common's TRANSPORTS (the single list). Code elsewhere asks the descriptor; it never compares
// a transport's name. A new transport is one entry here (plus its producer and collector code).

export interface TransportDescriptor {
  readonly name: Transport;
  /** How the report's config table and labels name it. */
  readonly title: string;
  /** The drill grid's column for this path. */
  readonly column: 'push-udp' | 'push-tcp' | 'push-otlp';
  /** The collector's port for it inside the stack's network (docker, swarm: `collector:PORT`). */
  readonly collectorPort: number;
  /** Which of the collector's listeners it uses (process runtime); TCP falls back to UDP's port. */
  readonly listener: (c: CollectorListeners | null) => string | undefined;
  /** The producer sends through the OpenTelemetry SDK: no StatsD push mode, a temporality, one export per interval. */
  readonly sdk: boolean;
  /** Connectionless datagrams: the process runtime's partition relay is a datagram relay, not a stream relay. */
  readonly datagrams: boolean;
  /** What one send is, in the producer's ledger (`datagrams`, `writes`, `exports`). */
  readonly sendUnit: string;
  /**
   * How its loss is accounted: `statsd-lines` (send errors, kernel drops where datagrams, collector refusals
   * by reason, in flight) or `otlp-points` (failed exports by temporality, refused points, in flight).
   */
  readonly accounting: 'statsd-lines' | 'otlp-points';
  /**
   * Its kernel receive-buffer drops can be counted exactly: datagrams sent (ledgers) − send errors −
   * the collector's `collector_packets_total{transport=NAME}`.
   */
  readonly kernelDrops: boolean;
  /** The first signals of its failure the lab watches. */
  readonly failureSignals: readonly string[];
}

/** The collector's listen addresses (HOST:PORT) by transport, as the process runtime records them. */
export interface CollectorListeners {
  udp?: string | null;
  tcp?: string | null;
  otlp?: string | null;
}

const DESCRIPTORS: { readonly [T in Transport]: TransportDescriptor & { name: T } } = {
  udp: {
    name: 'udp',
    title: 'UDP',
    column: 'push-udp',
    collectorPort: 8125,
    listener: (c) => c?.udp ?? undefined,
    sdk: false,
    datagrams: true,
    sendUnit: 'datagrams',
    accounting: 'statsd-lines',
    kernelDrops: true,
    failureSignals: [
      'kernel receive-buffer drops (node_netstat_Udp_RcvbufErrors, datagrams sent but not received)',
      'send errors in the ledgers',
      'collector refusals by reason',
    ],
  },
  tcp: {
    name: 'tcp',
    title: 'TCP',
    column: 'push-tcp',
    collectorPort: 8125,
    listener: (c) => c?.tcp ?? c?.udp ?? undefined,
    sdk: false,
    datagrams: false,
    sendUnit: 'writes',
    accounting: 'statsd-lines',
    kernelDrops: false,
    failureSignals: ['send errors and connection resets in the ledgers', 'collector refusals by reason'],
  },
  otlp: {
    name: 'otlp',
    title: 'OTLP/HTTP',
    column: 'push-otlp',
    collectorPort: 4318,
    listener: (c) => c?.otlp ?? undefined,
    sdk: true,
    datagrams: false,
    sendUnit: 'exports',
    accounting: 'otlp-points',
    kernelDrops: false,
    failureSignals: [
      'failed exports at the producer (the SDK retries)',
      'points the receiver refused (429/413)',
    ],
  },
};

/** Every transport's descriptor, in common's TRANSPORTS order. */
export const TRANSPORT_DESCRIPTORS: readonly TransportDescriptor[] = TRANSPORTS.map((t) => DESCRIPTORS[t]);

/** The descriptor of a transport. */
export function transportOf(t: Transport): TransportDescriptor {
  return DESCRIPTORS[t];
}

/** A collector label value (`transport="udp"`) as a descriptor, or undefined when it names none. */
export function transportNamed(label: string | undefined): TransportDescriptor | undefined {
  return TRANSPORT_DESCRIPTORS.find((d) => d.name === label);
}

/** The push path's label in the verdict and tables. */
export function pushLabel(c: {
  pushMode: string;
  transport: Transport;
  flushIntervalMs: number;
  pushTopology?: string;
}): string {
  // #27: pods push StatsD to an agent on their host, which forwards OTLP/HTTP to the central collector.
  if (c.pushTopology === 'agent') return 'push (agent → OTLP/HTTP)';
  const d = transportOf(c.transport);
  // An SDK transport has no StatsD push mode: the SDK aggregates and exports once per interval.
  if (d.sdk) return `push (${d.title}, ${c.flushIntervalMs / 1000} s export)`;
  return `push (${c.pushMode} ${d.title})`;
}
