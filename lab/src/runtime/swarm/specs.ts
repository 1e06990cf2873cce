import { LabError } from '@pushpull/common';
import type Docker from 'dockerode';
import { parse as parseYaml, stringify } from 'yaml';
import type { ResourcePlan } from '../../core/resources.ts';
import { type BaseComponent, checkSupported, containerCommand, stackComponents } from '../components.ts';
import { readComposeDocument } from '../compose-file.ts';
import {
  containerPrometheusConfig,
  PRODUCERS_JOB,
  type StoreRole,
  storeRoles,
} from '../prometheus-config.ts';
import { componentOfService, shareOf, swarmLimits } from '../resource-limits.ts';
import type { StackOptions } from '../types.ts';
import { runLabels, serviceName } from './labels.ts';
import type { NodeTask } from './nodes.ts';
import { CLOCK_SCRIPT, SD_SCRIPT } from './scripts.ts';

// The services of one swarm run as Engine API service specs, built from the repo's docker-compose.yml (its
// images and commands) — pure, so the deployment is testable without an engine. What differs from compose,
// each because swarm needs it: endpoint_mode dnsrr (the service VIP does not answer on this kernel, measured;
// names resolve to task IPs), a network alias per component (so the compose addresses `collector:8125`,
// `pushgateway:9091` stay valid inside the run's own overlay), restart `none` (a killed task stays dead, as a
// killed container does), Prometheus' config and rules as swarm configs (a bind mount cannot span nodes), the
// producers discovered over http_sd from the `sd` service instead of a shared file_sd volume, and no
// node-exporter: `network_mode: service:collector` is unsupported in swarm, so the collector's kernel UDP
// counters come from its own namespace (`collector_kernel_udp_*`).

export interface ComposeService {
  image: string;
  command?: string[];
}

/** The compose services, `${PUSHPULL_*_IMAGE:-…}` substituted as compose does (the docker runtime's images). */
export function composeServices(
  repoRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, ComposeService> {
  const doc = readComposeDocument(repoRoot, env) as { services?: Record<string, ComposeService> };
  return doc.services ?? {};
}

export function composeImage(services: Record<string, ComposeService>, name: string): ComposeService {
  const s = services[name];
  if (!s?.image)
    throw new LabError('LAB_ERR_CONFIG', `docker-compose.yml has no service "${name}" with an image`);
  return s;
}

/** Where the sd service answers inside the overlay (Prometheus' http_sd url). */
export const SD_URL = 'http://sd:8080/targets';

/** The derived Prometheus config with the producers job discovered over http_sd from the sd service. */
export function swarmPrometheusConfig(
  sourceYaml: string,
  opts: Pick<StackOptions, 'scrapeIntervalMs' | 'producerScrape'> & { role?: StoreRole },
): string {
  const derived = containerPrometheusConfig(sourceYaml, opts, null);
  const doc = parseYaml(derived.yaml) as { scrape_configs: Record<string, unknown>[] };
  for (const job of doc.scrape_configs) {
    if (job.job_name !== PRODUCERS_JOB) continue;
    delete job.file_sd_configs;
    job.http_sd_configs = [{ url: SD_URL, refresh_interval: '5s' }];
  }
  return `# DERIVED by the lab swarm runtime from prometheus/prometheus.yml — producers via http_sd.\n${stringify(doc)}`;
}

export interface SpecContext {
  runId: string;
  networkId: string;
  compose: Record<string, ComposeService>;
  /** Constraints of the observer services (Prometheus, collector, Pushgateway, sd). */
  observerConstraints: string[];
  /** run@3: CPU and memory per component, as Resources.Limits (swarm has no cpuset). */
  resources?: ResourcePlan | null;
}

interface One {
  component: string;
  alias: string;
  /** Service name suffix (default: the alias). */
  name?: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: string[];
  constraints: string[];
  configs?: Docker.ConfigReference[];
  mode?: Docker.ServiceMode;
  extraLabels?: Record<string, string>;
  /** How many services share the component's budget (default 1: the whole budget is this service's). */
  shares?: number;
  /** Restart condition (default none: a killed task stays dead, as a killed container does). */
  restart?: 'none' | 'on-failure' | 'any';
}

/**
 * The component's budget as Resources.Limits (nothing for components without one, e.g. sd). A budget shared
 * by `shares` services (the producers: one service per producer) is split equally, as docker splits it
 * between containers: each task's limit is its own, so the whole budget would otherwise go to every one.
 */
function limitsOf(
  ctx: SpecContext,
  component: string,
  shares = 1,
): { Resources?: Docker.ResourceRequirements } {
  const c = componentOfService(component);
  const budget = c && ctx.resources ? ctx.resources[c] : null;
  const limits = swarmLimits(budget && shares > 1 ? shareOf(budget, shares) : budget);
  return Object.keys(limits).length > 0 ? { Resources: { Limits: limits } } : {};
}

export function serviceSpec(ctx: SpecContext, o: One): Docker.CreateServiceOptions {
  const labels = { ...runLabels(ctx.runId, o.component), ...o.extraLabels };
  return {
    Name: serviceName(ctx.runId, o.name ?? o.alias),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: o.image,
        Labels: labels,
        ...(o.command ? { Command: o.command } : {}),
        ...(o.args ? { Args: o.args } : {}),
        ...(o.env ? { Env: o.env } : {}),
        ...(o.configs ? { Configs: o.configs } : {}),
      },
      // A restarting policy restarts (or reschedules) after 1 s, not swarm's default 5 s.
      RestartPolicy:
        o.restart && o.restart !== 'none' ? { Condition: o.restart, Delay: 1e9 } : { Condition: 'none' },
      Placement: { Constraints: o.constraints },
      Networks: [{ Target: ctx.networkId, Aliases: [o.alias] }],
      ...limitsOf(ctx, o.component, o.shares),
    },
    Mode: o.mode ?? { Replicated: { Replicas: 1 } },
    EndpointSpec: { Mode: 'dnsrr' },
  };
}

/** Config references: Prometheus' config and rules, mounted read-only where the compose stack binds them. */
export function prometheusConfigRefs(
  configs: { id: string; name: string; file: string }[],
): Docker.ConfigReference[] {
  return configs.map((c) => ({
    ConfigID: c.id,
    ConfigName: c.name,
    File: { Name: `/etc/prometheus/${c.file}`, UID: '0', GID: '0', Mode: 0o444 },
  }));
}

/** The observers: collector, Pushgateway, the sd service, Prometheus (in start order). */
export function observerSpecs(
  ctx: SpecContext,
  promConfigs: Docker.ConfigReference[],
  opts: Pick<
    StackOptions,
    'collectorFlags' | 'pushgatewayFlags' | 'withNodeExporter' | 'store' | 'pushTopology'
  >,
): Docker.CreateServiceOptions[] {
  checkSupported(opts, { runtime: 'swarm', nodeExporter: false });
  const specs = stackComponents(opts);
  const c = ctx.observerConstraints;
  const producer = composeImage(ctx.compose, 'producer');
  return [
    serviceSpec(ctx, {
      component: 'collector',
      alias: 'collector',
      image: composeImage(ctx.compose, 'collector').image,
      args: containerCommand(specs.collector),
      constraints: c,
      // #27: with push agents the central collector gets half of push's budget (push-agent-args.ts pushBudgets).
      ...(opts.pushTopology === 'agent' ? { shares: 2 } : {}),
    }),
    serviceSpec(ctx, {
      component: 'pushgateway',
      alias: 'pushgateway',
      image: composeImage(ctx.compose, 'pushgateway').image,
      args: containerCommand(specs.pushgateway),
      constraints: c,
    }),
    serviceSpec(ctx, {
      component: 'sd',
      alias: 'sd',
      image: producer.image,
      command: ['node', '-e', SD_SCRIPT],
      env: ['SD_DNS=producer', 'SD_PRODUCER_PORT=9100', 'SD_PORT=8080'],
      constraints: c,
    }),
    // One Prometheus per store (#24), the same image; each reads its own file of the mounted configs.
    ...storeRoles(opts.store).map(({ component }) =>
      serviceSpec(ctx, {
        component,
        alias: component,
        image: composeImage(ctx.compose, 'prometheus').image,
        args: containerCommand(specs[component as BaseComponent]),
        configs: promConfigs,
        constraints: c,
      }),
    ),
  ];
}

export function producerSpec(
  ctx: SpecContext,
  name: string,
  args: string[],
  constraints: string[],
  /** The fleet's producer count: each producer's service gets an equal share of the producers' budget. */
  producers = 1,
  env: string[] = [],
  restart: One['restart'] = 'none',
): Docker.CreateServiceOptions {
  return serviceSpec(ctx, {
    restart,
    shares: producers,
    component: 'producer',
    alias: 'producer',
    name,
    image: composeImage(ctx.compose, 'producer').image,
    args,
    ...(env.length > 0 ? { env } : {}),
    constraints,
    extraLabels: { 'pushpull.producer': name },
  });
}

/**
 * The preflight probes: one global one-shot service per image on the nodes that need it. A node without the
 * image rejects its task with "No such image" (that is how the lab knows, through the manager, what each
 * node holds). The producer-image probe also measures the node's clock against the proxy's /clock.
 */
export function probeSpec(
  ctx: SpecContext,
  image: string,
  index: number,
  constraints: string[],
  clock: boolean,
): Docker.CreateServiceOptions {
  return serviceSpec(ctx, {
    component: 'preflight',
    alias: `preflight-${index}`,
    image,
    ...(clock
      ? {
          command: ['node', '-e', CLOCK_SCRIPT],
          env: ['CLOCK_URL=http://proxy:8080/clock', 'CLOCK_NODE={{.Node.ID}}'],
        }
      : { args: ['--version'] }),
    constraints,
    mode: { Global: {} },
    extraLabels: { 'pushpull.image': image },
  });
}

/** A spec's task as environment.nodes lists it (its name, image and Resources.Limits). Pure. */
export function nodeTaskOf(name: string, spec: Docker.CreateServiceOptions): NodeTask {
  const t = spec.TaskTemplate as
    | { ContainerSpec?: { Image?: string }; Resources?: { Limits?: NodeTask['limits'] } }
    | undefined;
  return { name, image: t?.ContainerSpec?.Image ?? '', limits: { ...t?.Resources?.Limits } };
}
