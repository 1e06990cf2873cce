import type { RuntimeKind } from '../core/record.ts';

// What each runtime can do, asked by code outside runtime/ instead of comparing runtime names: a new runtime
// (or a changed one) is one row here, and every caller follows. Pure data, no concrete runtime imported.

export interface RuntimeCapabilities {
  /**
   * How a `partition` fault cuts a producer off: `network` (the engine takes it off the stack's network:
   * scrapes, pushes and exports all stop at the kernel) or `relay` (the process runtime: the producer's
   * traffic goes through the lab's loopback relays, which the fault cuts).
   */
  partition: 'network' | 'relay';
  /**
   * Every component has a network namespace of its own, so the collector's kernel UDP counters are its own;
   * false = the host's namespace, shared with every process on the machine (a drop elsewhere counts too).
   */
  ownNetworkNamespace: boolean;
  /** node-exporter can run in the collector's network namespace (swarm cannot share one: no `service:x`). */
  nodeExporter: boolean;
  /** How Prometheus discovers the producers' pods. */
  discovery: 'file_sd' | 'http_sd';
  /**
   * After a partition is healed the producer is back in the stack's DNS (docker). Swarm: a partitioned task
   * leaves the overlay's DNS and the heal does not put it back (measured).
   */
  healRestoresDns: boolean;
  /** What a component's handle is: an OS pid or an engine object id (containers, services). */
  handle: 'pid' | 'engine-id';
  /** The run's work dir holds files the stack's containers wrote as another user (left for the engine). */
  workDirHoldsContainerFiles: boolean;
  /** #28: the most pull Prometheus replicas (`--prometheus-replicas`) this runtime starts. */
  prometheusReplicas: number;
  /** #28: the runtime faults a pull replica (`Runtime.faultComponent`) and wires the pair's peer scrape. */
  pairDrill: boolean;
  /** #29 drill: faults on pull's own tier — stop the central store, kill an agent, cut an agent's remote write. */
  pullTierFaults: boolean;
}

export const CAPABILITIES: Readonly<Record<RuntimeKind, Readonly<RuntimeCapabilities>>> = Object.freeze({
  docker: {
    partition: 'network',
    ownNetworkNamespace: true,
    nodeExporter: true,
    discovery: 'file_sd',
    healRestoresDns: true,
    handle: 'engine-id',
    workDirHoldsContainerFiles: true,
    prometheusReplicas: 2,
    pairDrill: false,
    pullTierFaults: false, // #29
  },
  process: {
    partition: 'relay',
    ownNetworkNamespace: false,
    nodeExporter: true,
    discovery: 'file_sd',
    healRestoresDns: true,
    handle: 'pid',
    workDirHoldsContainerFiles: false,
    prometheusReplicas: 2,
    pairDrill: true,
    pullTierFaults: true, // #29
  },
  swarm: {
    partition: 'network',
    ownNetworkNamespace: true,
    nodeExporter: false,
    discovery: 'http_sd',
    healRestoresDns: false,
    handle: 'engine-id',
    workDirHoldsContainerFiles: false,
    prometheusReplicas: 1,
    pairDrill: false,
    pullTierFaults: false, // #29
  },
});

export function capabilitiesOf(kind: RuntimeKind): Readonly<RuntimeCapabilities> {
  return CAPABILITIES[kind];
}
