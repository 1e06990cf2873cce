import { LabError } from '@pushpull/common';
import { ROLE_LABEL } from './labels.ts';
import type { SwarmNode } from './nodes.ts';

// Placement for a staging rehearsal: the producers spread over the producer nodes (weighted by cores),
// Prometheus, the collector, the Pushgateway and the discovery service kept on the observer node(s) when the
// swarm has more than one node, so the load generators never steal the observers' CPU. The observers are
// chosen by the node label `pushpull.role=observer` (documented in lab/README.md: `docker node update
// --label-add pushpull.role=observer <node>`); a one-node swarm runs everything on its node. Pure.

export const OBSERVER_ROLE = 'observer';
/** Images each side needs (the proxy and the discovery service run the producer image: it carries node). */
export const OBSERVER_COMPONENTS = ['prometheus', 'pushgateway', 'collector', 'sd'] as const;

/**
 * Memory per pod, measured: Prometheus peaked at 14.8 GiB RSS for 1,400 pods at 240 KB bodies (lab/README.md,
 * 2026-11-25); one 50-pod producer held 65 MiB RSS at the steady rate (2026-12-01, `serve --pods 50`).
 */
export const PROMETHEUS_BYTES_PER_POD = (14.8 * 2 ** 30) / 1400;
export const PRODUCER_BYTES_PER_POD = (65 * 2 ** 20) / 50;

export interface ProducerSlot {
  index: number;
  name: string;
  pods: number;
  nodeId: string;
  node: string;
}

export interface Placement {
  /** Node ids the observers are constrained to (all usable nodes on a one-node swarm). */
  observerNodes: SwarmNode[];
  producerNodes: SwarmNode[];
  producers: ProducerSlot[];
  /** Swarm placement constraints of the observer services. */
  observerConstraints: string[];
}

export interface PlacementInput {
  nodes: readonly SwarmNode[];
  /** Pods of each producer, in order (the last one may hold the remainder). */
  podsPerProducer: readonly number[];
}

export function place({ nodes, podsPerProducer }: PlacementInput): Placement {
  const usable = nodes.filter((n) => n.usable);
  if (usable.length === 0)
    throw new LabError('LAB_ERR_SWARM', `no usable swarm node (ready and active) among ${nodes.length}`);
  let observerNodes: SwarmNode[];
  let producerNodes: SwarmNode[];
  let observerConstraints: string[];
  if (usable.length === 1) {
    observerNodes = usable;
    producerNodes = usable;
    observerConstraints = [];
  } else {
    observerNodes = usable.filter((n) => n.labRole === OBSERVER_ROLE);
    if (observerNodes.length === 0)
      throw new LabError(
        'LAB_ERR_SWARM',
        `a ${usable.length}-node swarm needs an observer node for Prometheus and the collector: label one with \`docker node update --label-add ${ROLE_LABEL}=${OBSERVER_ROLE} <node>\` (nodes: ${usable.map((n) => n.name).join(', ')})`,
      );
    producerNodes = usable.filter((n) => n.labRole !== OBSERVER_ROLE);
    if (producerNodes.length === 0)
      throw new LabError(
        'LAB_ERR_SWARM',
        `every usable node is labelled ${ROLE_LABEL}=${OBSERVER_ROLE}: leave at least one for the producers`,
      );
    observerConstraints = [`node.labels.${ROLE_LABEL}==${OBSERVER_ROLE}`];
  }
  return {
    observerNodes,
    producerNodes,
    producers: spread(producerNodes, podsPerProducer),
    observerConstraints,
  };
}

/** Each producer to the node with the fewest pods per core so far (ties: node order): deterministic. */
function spread(nodes: readonly SwarmNode[], podsPerProducer: readonly number[]): ProducerSlot[] {
  const load = new Map(nodes.map((n) => [n.id, 0]));
  return podsPerProducer.map((pods, index) => {
    let best = nodes[0]!;
    for (const n of nodes) {
      const per = (x: SwarmNode) => (load.get(x.id)! + pods) / Math.max(x.cores, 0.001);
      if (per(n) < per(best)) best = n;
    }
    load.set(best.id, load.get(best.id)! + pods);
    return { index, name: `producer-${index}`, pods, nodeId: best.id, node: best.name };
  });
}

/**
 * The swarm constraints of producer slot `p`: pinned to its node; or, when swarm may reschedule (a
 * restarting policy, node drills), any producer node — every node but the observers on a multi-node swarm.
 */
export function producerConstraints(p: ProducerSlot, reschedulable = false, multiNode = true): string[] {
  if (!reschedulable) return [`node.id==${p.nodeId}`];
  return multiNode ? [`node.labels.${ROLE_LABEL}!=${OBSERVER_ROLE}`] : [];
}

export interface NodeNeeds {
  node: string;
  role: string;
  cores: number;
  memoryBytes: number;
  producers: number;
  pods: number;
  components: string[];
  images: string[];
  estimatedBytes: number;
}

/** What each node must hold: components, images, pods, and an RSS estimate from the measured figures. */
export function nodeNeeds(
  p: Placement,
  images: { producer: string; observer: readonly string[] },
  totalPods: number,
): NodeNeeds[] {
  const all = new Map<string, SwarmNode>();
  for (const n of [...p.observerNodes, ...p.producerNodes]) all.set(n.id, n);
  return [...all.values()].map((n) => {
    const mine = p.producers.filter((s) => s.nodeId === n.id);
    const pods = mine.reduce((a, s) => a + s.pods, 0);
    const observer = p.observerNodes.some((o) => o.id === n.id);
    const producer = p.producerNodes.some((o) => o.id === n.id);
    // Prometheus runs on one observer node: each must be able to hold it (worst case).
    const obsShare = observer ? 1 : 0;
    return {
      node: n.name,
      role: observer && producer ? 'observer+producers' : observer ? 'observer' : 'producers',
      cores: n.cores,
      memoryBytes: n.memoryBytes,
      producers: mine.length,
      pods,
      components: [...(observer ? OBSERVER_COMPONENTS : []), ...(mine.length > 0 ? ['producer'] : [])],
      images: [...new Set([...(observer ? images.observer : []), ...(producer ? [images.producer] : [])])],
      estimatedBytes: pods * PRODUCER_BYTES_PER_POD + obsShare * totalPods * PROMETHEUS_BYTES_PER_POD,
    };
  });
}
