import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '@pushpull/common';
import { PULL_REPLICA_COMPONENTS, replicaLabel } from '../../core/record-replicas.ts';
import type { ComponentResources } from '../../core/resources.ts';
import {
  type BaseComponent,
  containerAddress,
  containerCommand,
  renderArgs,
  STORE_CONFIG_FILE,
  type StoreComponent,
  stackComponents,
} from '../components.ts';
import { waitHttp } from '../engine.ts';
import { containerPrometheusConfig, type StoreRole, storeRoles } from '../prometheus-config.ts';
import { pushBudgets } from '../push-agent-args.ts';
import { shareOf } from '../resource-limits.ts';
import type { StackEndpoints, StackOptions } from '../types.ts';
import { pullBudgets } from './agents.ts';
import { loopbackUrl, startService } from './containers.ts';
import { missingImages, pingEngine } from './engine.ts';
import { runLabels } from './labels.ts';
import type { DockerStack } from './state.ts';

// The base stack: a network of its own for the run, then the collector (node-exporter in its namespace),
// the Pushgateway and Prometheus with a config derived for the run, then their loopback endpoints.

/** Fails with LAB_ERR_DOCKER_UNREACHABLE / LAB_ERR_IMAGE_MISSING before anything is created. */
export async function preflight(s: DockerStack): Promise<void> {
  await pingEngine(s.docker);
  const missing = await missingImages(s.docker, s.compose);
  if (missing.length > 0) {
    throw new LabError(
      'LAB_ERR_IMAGE_MISSING',
      `images not present locally: ${missing.join(', ')}; build them with \`bash scripts/airgap-images.sh\``,
    );
  }
}

/** Creates the network and starts the base containers; the endpoints once all answer. */
export async function startBaseStack(s: DockerStack, opts: StackOptions): Promise<StackEndpoints> {
  s.networkName = `pushpull-${opts.runId}`;
  await s.docker.createNetwork({ Name: s.networkName, Driver: 'bridge', Labels: runLabels(opts.runId) });
  const { promDir, sdDir } = writePrometheusDir(s, opts);
  opts.signal?.throwIfAborted();
  const specs = stackComponents(opts);
  const cmd = (name: BaseComponent) => ({ cmd: containerCommand(specs[name]) });
  const collector = await startService(s, 'collector', {}, true, {
    ...cmd('collector'),
    ...centralCollectorBudget(s, opts),
  });
  if (opts.withNodeExporter) {
    // Same network namespace as the collector: its Udp counters are the collector's.
    await startService(
      s,
      'node-exporter',
      { NetworkMode: `container:${collector.id}` },
      false,
      cmd('node-exporter'),
    );
  }
  await startService(s, 'pushgateway', {}, true, cmd('pushgateway'));
  // One Prometheus per store (#24): both read the same mounted directory, each its own config file.
  const stores = storeRoles(opts.store);
  const binds = { Binds: [`${promDir}:/etc/prometheus:ro`, `${sdDir}:/sd:ro`] };
  const pair = pairShare(s, opts);
  for (const { component } of stores)
    await startService(s, component, binds, true, {
      ...cmd(component as BaseComponent),
      ...centralBudget(s, opts, component),
      ...(pair && component === 'prometheus' ? { resources: pair.resources } : {}),
    });
  // #28: pull's second replica, the prometheus image with its own config file (its `replica` label).
  if (pair)
    await startService(s, PAIR_REPLICA, binds, true, {
      cmd: renderArgs(specs.prometheus, containerAddress, [
        `--config.file=/etc/prometheus/${PAIR_REPLICA}.yml`,
        '--storage.tsdb.path=/prometheus',
      ]),
      service: 'prometheus',
      resources: pair.resources,
    });
  opts.signal?.throwIfAborted();
  const pushStore = stores.length > 1 ? await loopbackUrl(s, 'prometheus-push', '9090/tcp') : null;
  const prometheusUrl = await loopbackUrl(s, 'prometheus', '9090/tcp');
  const replica2 = pair ? await loopbackUrl(s, PAIR_REPLICA, '9090/tcp') : null;
  const endpoints: StackEndpoints = {
    prometheusUrl,
    ...(pushStore ? { pushPrometheusUrl: pushStore } : {}),
    ...(replica2 ? { pullReplicaUrls: [prometheusUrl, replica2] } : {}),
    pushgatewayUrl: await loopbackUrl(s, 'pushgateway', '9091/tcp'),
    collectorHttpUrl: await loopbackUrl(s, 'collector', '9102/tcp'),
    nodeExporterUrl: opts.withNodeExporter ? await loopbackUrl(s, 'collector', '9100/tcp') : null,
  };
  await waitHttp(`${endpoints.collectorHttpUrl}/healthz`, 60_000, 'collector /healthz', opts.signal);
  await waitHttp(`${endpoints.pushgatewayUrl}/-/ready`, 60_000, 'pushgateway /-/ready', opts.signal);
  await waitHttp(`${endpoints.prometheusUrl}/-/ready`, 60_000, 'prometheus /-/ready', opts.signal);
  if (pushStore) await waitHttp(`${pushStore}/-/ready`, 60_000, 'prometheus-push /-/ready', opts.signal);
  if (replica2) await waitHttp(`${replica2}/-/ready`, 60_000, `${PAIR_REPLICA} /-/ready`, opts.signal);
  return endpoints;
}

const PAIR_REPLICA = PULL_REPLICA_COMPONENTS[1];

/**
 * #28: with the Prometheus pair, each replica's budget — half of pull's each (two containers cannot share one
 * cgroup here), so the pair's total is pull's budget, equal to push's; null without the pair.
 */
function pairShare(s: DockerStack, opts: StackOptions): { resources: ComponentResources | null } | null {
  if ((opts.prometheusReplicas ?? 1) < 2) return null;
  return { resources: s.resources ? shareOf(s.resources.prometheus, 2) : null };
}

/** The run's Prometheus directory (derived config, the repo's rules) and discovery directory, bind-mounted. */
function writePrometheusDir(s: DockerStack, opts: StackOptions): { promDir: string; sdDir: string } {
  const promDir = join(opts.workDir, 'prometheus');
  const sdDir = join(opts.workDir, 'sd');
  mkdirSync(join(promDir, 'rules'), { recursive: true });
  mkdirSync(sdDir, { recursive: true });
  // The producer image runs as nobody (65534): it must be able to write its discovery file here.
  chmodSync(sdDir, 0o1777);
  const pair = (opts.prometheusReplicas ?? 1) > 1;
  const label = (i: number) => (pair ? { externalLabels: { replica: replicaLabel(i) } } : {});
  const stores = storeRoles(opts.store);
  for (const [i, { component, role }] of stores.entries())
    writeFileSync(
      join(promDir, STORE_CONFIG_FILE[component as StoreComponent]),
      prometheusConfig(s.repoRoot, { ...opts, role, ...centralScrape(opts), ...(i === 0 ? label(0) : {}) }),
    );
  if (pair)
    writeFileSync(
      join(promDir, `${PAIR_REPLICA}.yml`),
      prometheusConfig(s.repoRoot, { ...opts, role: stores[0]!.role, ...label(1) }),
    );
  for (const f of readdirSync(join(s.repoRoot, 'prometheus/rules'))) {
    copyFileSync(join(s.repoRoot, 'prometheus/rules', f), join(promDir, 'rules', f));
  }
  return { promDir, sdDir };
}

/** The compose Prometheus config for this run; node-exporter runs inside the collector's network namespace. */
export function prometheusConfig(
  repoRoot: string,
  opts: StackOptions & { role?: StoreRole; externalLabels?: Record<string, string> },
): string {
  const source = readFileSync(join(repoRoot, 'prometheus/prometheus.yml'), 'utf8');
  return containerPrometheusConfig(source, opts, opts.withNodeExporter ? 'collector:9100' : null).yaml;
}

/** #29: with pull agents the central store discovers the pods but scrapes none (the agents do). */
function centralScrape(opts: StackOptions): Pick<StackOptions, 'producerScrape'> {
  return opts.pullTopology === 'agent' ? { producerScrape: { ...opts.producerScrape, off: true } } : {};
}

/** #29: with pull agents the central store runs on half of pull's budget (agents.ts pullBudgets). */
function centralBudget(
  s: DockerStack,
  opts: StackOptions,
  component: string,
): { resources?: ComponentResources } {
  if (opts.pullTopology !== 'agent' || component !== 'prometheus' || !s.resources) return {};
  return { resources: pullBudgets(s.resources.prometheus, 1).central };
}

/** #27: with push agents the central collector runs on half of push's budget (pushBudgets), the agents on the rest. */
function centralCollectorBudget(s: DockerStack, opts: StackOptions): { resources?: ComponentResources } {
  if (opts.pushTopology !== 'agent' || !s.resources) return {};
  return { resources: pushBudgets(s.resources.collector, 1).central };
}
