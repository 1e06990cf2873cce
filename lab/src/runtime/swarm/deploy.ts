import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '@pushpull/common';
import { checkSupported, STORE_CONFIG_FILE, type StoreComponent } from '../components.ts';
import { waitHttp as waitHttpBounded } from '../engine.ts';
import { podsForProducer } from '../producer-args.ts';
import { storeRoles } from '../prometheus-config.ts';
import { checkSwarmFit } from '../resource-limits.ts';
import type { ProducerOptions, StackEndpoints, StackOptions } from '../types.ts';
import { DEFAULT_POOL, pickSubnet, swarmNodes, usedSubnets } from './engine.ts';
import { runLabels, serviceName } from './labels.ts';
import { environmentNodes, withObservers } from './nodes.ts';
import { place } from './placement.ts';
import { type ImageNeed, preflight } from './preflight.ts';
import { PROXY_SCRIPT } from './scripts.ts';
import {
  composeImage,
  nodeTaskOf,
  observerSpecs,
  prometheusConfigRefs,
  type SpecContext,
  swarmPrometheusConfig,
} from './specs.ts';
import type { SwarmStack } from './state.ts';
import { waitRunning } from './tasks.ts';

// up(): the run's attachable overlay (a /24 from the lab's pool), the proxy on 127.0.0.1, the preflight
// (images on every node, clock offsets), then the observers with Prometheus' config as swarm configs.

/** The ports the proxy forwards per network alias: the compose stack's own. */
const ROUTES = { prometheus: 9090, 'prometheus-push': 9090, pushgateway: 9091, collector: 9102, sd: 8080 };

export function specContext(s: SwarmStack): SpecContext {
  return {
    runId: s.runId,
    networkId: s.networkId,
    compose: s.compose,
    observerConstraints: s.observerConstraints,
    resources: s.resources,
  };
}

export async function deployBase(s: SwarmStack, opts: StackOptions): Promise<StackEndpoints> {
  checkSupported(opts, { runtime: 'swarm', nodeExporter: false });
  const { localNodeId, nodes } = await swarmNodes(s.docker);
  s.localNodeId = localNodeId;
  s.nodes = nodes;
  // Before anything is deployed: a limit no node can give would leave its task pending forever.
  if (s.resources) checkSwarmFit(s.resources, nodes);
  const placement = place({ nodes, podsPerProducer: [] });
  s.observerConstraints = placement.observerConstraints;
  await requireLocalImage(s);
  await createNetwork(s);
  opts.signal?.throwIfAborted();
  await startProxy(s);
  const producerImage = composeImage(s.compose, 'producer').image;
  const observerImages = ['prometheus', 'pushgateway', 'collector'].map(
    (c) => composeImage(s.compose, c).image,
  );
  const needs: ImageNeed[] = [
    {
      image: producerImage,
      nodes: placement.producerNodes.concat(
        placement.observerNodes.filter((n) => !placement.producerNodes.includes(n)),
      ),
      constraints: [],
      clock: true,
    },
    ...observerImages.map((image) => ({
      image,
      nodes: placement.observerNodes,
      constraints: placement.observerConstraints,
      clock: false,
    })),
    ...agentImageNeeds(s, opts, placement),
  ];
  const offsets = await preflight(s, specContext(s), needs, opts.signal);
  const env = environmentNodes(nodes, offsets);
  s.environment = { nodes: env.nodes, notes: env.warnings };
  for (const w of env.warnings) s.log(`warning: ${w}`);
  s.environment.notes.push(
    "swarm runtime: no node-exporter (swarm cannot share the collector's network namespace); kernel UDP drops come from the collector's own collector_kernel_udp_* counters",
  );
  await startObservers(
    s,
    opts,
    placement.observerNodes.map((n) => n.id),
  );
  const base = s.proxyUrl;
  const perPath = storeRoles(opts.store).length > 1;
  const endpoints: StackEndpoints = {
    prometheusUrl: `${base}/prometheus`,
    ...(perPath ? { pushPrometheusUrl: `${base}/prometheus-push` } : {}),
    pushgatewayUrl: `${base}/pushgateway`,
    collectorHttpUrl: `${base}/collector`,
    nodeExporterUrl: null,
  };
  await waitHttp(`${endpoints.collectorHttpUrl}/healthz`, 'collector /healthz', opts.signal);
  await waitHttp(`${endpoints.pushgatewayUrl}/-/ready`, 'pushgateway /-/ready', opts.signal);
  await waitHttp(`${endpoints.prometheusUrl}/-/ready`, 'prometheus /-/ready', opts.signal);
  if (endpoints.pushPrometheusUrl)
    await waitHttp(`${endpoints.pushPrometheusUrl}/-/ready`, 'prometheus-push /-/ready', opts.signal);
  await waitHttp(`${base}/sd/healthz`, 'sd /healthz', opts.signal);
  return endpoints;
}

/** The proxy runs on this engine: the producer image must be here before anything is created. */
async function requireLocalImage(s: SwarmStack): Promise<void> {
  const image = composeImage(s.compose, 'producer').image;
  try {
    await s.docker.getImage(image).inspect();
  } catch {
    const here = s.nodes.find((n) => n.id === s.localNodeId)?.name ?? s.localNodeId;
    throw new LabError(
      'LAB_ERR_IMAGE_MISSING',
      `image ${image} is not on node ${here} (the manager the lab talks to): build it with \`bash scripts/airgap-images.sh\``,
    );
  }
}

async function createNetwork(s: SwarmStack): Promise<void> {
  s.subnet = pickSubnet(process.env.LAB_SWARM_POOL ?? DEFAULT_POOL, await usedSubnets(s.docker));
  s.networkName = serviceName(s.runId, 'net');
  const net = await s.docker.createNetwork({
    Name: s.networkName,
    Driver: 'overlay',
    Attachable: true,
    Labels: runLabels(s.runId),
    IPAM: { Driver: 'default', Config: [{ Subnet: s.subnet }] },
  });
  s.networkId = net.id;
}

/** A plain container on the overlay (attachable), its port published on 127.0.0.1 only. */
async function startProxy(s: SwarmStack): Promise<void> {
  const c = await s.docker.createContainer({
    name: serviceName(s.runId, 'proxy'),
    Image: composeImage(s.compose, 'producer').image,
    Entrypoint: ['node', '-e', PROXY_SCRIPT],
    Cmd: [],
    Env: [`PROXY_ROUTES=${JSON.stringify(ROUTES)}`, `PROXY_SUBNET=${s.subnet}`, 'PROXY_PORT=8080'],
    Labels: runLabels(s.runId, 'proxy'),
    ExposedPorts: { '8080/tcp': {} },
    HostConfig: {
      NetworkMode: s.networkName,
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
    },
    NetworkingConfig: { EndpointsConfig: { [s.networkName]: { Aliases: ['proxy'] } } },
  });
  s.proxyContainerId = c.id;
  await c.start();
  const info = await c.inspect();
  const port = info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
  if (!port) throw new LabError('LAB_ERR_CHILD_EXIT', 'the swarm proxy published no port');
  s.proxyUrl = `http://127.0.0.1:${port}`;
  await waitHttp(`${s.proxyUrl}/clock`, 'swarm proxy /clock');
}

async function startObservers(s: SwarmStack, opts: StackOptions, observerNodeIds: string[]): Promise<void> {
  const source = readFileSync(join(s.repoRoot, 'prometheus/prometheus.yml'), 'utf8');
  const files: { file: string; text: string }[] = [
    ...storeRoles(opts.store).map(({ component, role }) => ({
      file: STORE_CONFIG_FILE[component as StoreComponent],
      text: swarmPrometheusConfig(source, { ...opts, role }),
    })),
    ...readdirSync(join(s.repoRoot, 'prometheus/rules')).map((f) => ({
      file: `rules/${f}`,
      text: readFileSync(join(s.repoRoot, 'prometheus/rules', f), 'utf8'),
    })),
  ];
  const refs = [];
  for (const [i, f] of files.entries()) {
    const name = serviceName(s.runId, `prom-${i}`);
    const created = (await s.docker.createConfig({
      Name: name,
      Labels: runLabels(s.runId),
      Data: Buffer.from(f.text).toString('base64'),
    })) as { id?: string; ID?: string };
    refs.push({ id: created.id ?? created.ID ?? '', name, file: f.file });
  }
  const specs = observerSpecs(specContext(s), prometheusConfigRefs(refs), opts);
  const tasks = specs.map((spec) => nodeTaskOf(spec.Labels?.['pushpull.component'] ?? '', spec));
  s.environment.nodes = withObservers(s.environment.nodes, observerNodeIds, tasks);
  for (const spec of specs) {
    opts.signal?.throwIfAborted();
    const svc = await s.docker.createService(spec);
    s.base.set(spec.Labels?.['pushpull.component'] ?? spec.Name ?? '', svc.id);
  }
  for (const [name, id] of s.base) await waitRunning(s.docker, id, name, 120_000, opts.signal);
}

/** The shared poll with this runtime's defaults: 60 s, each attempt capped again at 3 s (through the proxy). */
export function waitHttp(url: string, what: string, signal?: AbortSignal, timeoutMs = 60_000): Promise<void> {
  return waitHttpBounded(url, timeoutMs, what, signal, 3000);
}

/** Pods of each producer for a fleet of `producers` (the placement's input). */
export function podsList(producers: number, popts: ProducerOptions): number[] {
  return Array.from({ length: producers }, (_, i) => podsForProducer(i, producers, popts));
}

/** #27: the push agents run the collector image on the producer nodes (those not already checked as observers). */
function agentImageNeeds(
  s: SwarmStack,
  opts: StackOptions,
  placement: ReturnType<typeof place>,
): ImageNeed[] {
  const nodes = placement.producerNodes.filter((n) => !placement.observerNodes.includes(n));
  if (opts.pushTopology !== 'agent' || nodes.length === 0) return [];
  return [{ image: composeImage(s.compose, 'collector').image, nodes, constraints: [], clock: false }];
}
