import { LabError } from '@pushpull/common';
import type { StackOptions } from './types.ts';

// One description per base component, rendered by every runtime. A description holds what an option MEANS
// (the collector's limits, Prometheus' features and retention, the Pushgateway's in-memory store,
// node-exporter's collector set) and the ports it listens on; a runtime adds only WHERE: the bind address
// (127.0.0.1:0 for a local process, 0.0.0.0:<port> in a container) and the paths it mounts. So a flag the lab
// asks for reaches the component on every runtime, or the runtime refuses it (checkSupported) — never
// silently dropped, as the swarm runtime once dropped the collector's limits (#20).
//
// Prometheus' configuration file is the other half of its description: prometheus-config.ts derives it from
// the same StackOptions for every runtime.

export const BASE_COMPONENTS = [
  'collector',
  'pushgateway',
  'node-exporter',
  'prometheus',
  'prometheus-push',
] as const;
export type BaseComponent = (typeof BASE_COMPONENTS)[number];

export interface ListenPort {
  /** The component's listen flag (without dashes). */
  flag: string;
  /** The port inside a container (the compose file's); a local process binds a free one. */
  port: number;
  proto: 'tcp' | 'udp';
}

/** #29: the pull agent on producer host `producer-<i>` (runtime/pull-agents.ts). */
export type AgentComponent = `prometheus-agent-${number}`;

export interface ComponentSpec {
  name: BaseComponent | AgentComponent;
  /** Flags that carry a meaning, identical on every runtime. */
  flags: readonly string[];
  /** Where it listens; each runtime writes the address. */
  listen: readonly ListenPort[];
  /** `--flag VALUE` (our collector) or `--flag=VALUE` (the Prometheus binaries' kingpin style). */
  listenStyle: 'separate' | 'equals';
}

/** The collector's listeners, in the order its compose command names them. */
const COLLECTOR_LISTEN: readonly ListenPort[] = [
  { flag: 'statsd-udp', port: 8125, proto: 'udp' },
  { flag: 'statsd-tcp', port: 8125, proto: 'tcp' },
  { flag: 'http', port: 9102, proto: 'tcp' },
  { flag: 'otlp-http', port: 4318, proto: 'tcp' },
];

/**
 * node-exporter: only what the lab reads — the UDP counters (netstat) and a little context. The default set
 * (filesystems, systemd, textfiles, …) costs CPU on the shared cores at every scrape.
 */
export const NODE_EXPORTER_FLAGS = [
  '--collector.disable-defaults',
  '--collector.netstat',
  '--collector.cpu',
  '--collector.loadavg',
  '--collector.meminfo',
] as const;

/** Prometheus: a day of retention is plenty for a run; scrape_duration etc. need the extra scrape metrics. */
export const PROMETHEUS_FLAGS = [
  '--storage.tsdb.retention.time=1d',
  '--enable-feature=extra-scrape-metrics',
  '--log.level=warn',
] as const;

/** #29: the central store accepts remote writes at /api/v1/write. */
export const REMOTE_WRITE_RECEIVER_FLAG = '--web.enable-remote-write-receiver';

/**
 * The Pushgateway keeps its groups in memory: Debian's build persists to /var/lib/prometheus/pushgateway.data
 * by default, shared by every run on a machine (groups of earlier runs came back).
 */
export const PUSHGATEWAY_FLAGS = ['--persistence.file='] as const;

/** The base stack's components as this StackOptions asks for them. */
export function stackComponents(
  opts: Pick<StackOptions, 'collectorFlags' | 'pushgatewayFlags' | 'withNodeExporter' | 'pullTopology'>,
): Record<BaseComponent, ComponentSpec> {
  return {
    collector: {
      name: 'collector',
      flags: [...(opts.collectorFlags ?? [])],
      listen: COLLECTOR_LISTEN,
      listenStyle: 'separate',
    },
    pushgateway: {
      name: 'pushgateway',
      flags: [...PUSHGATEWAY_FLAGS, ...(opts.pushgatewayFlags ?? [])],
      listen: [{ flag: 'web.listen-address', port: 9091, proto: 'tcp' }],
      listenStyle: 'equals',
    },
    'node-exporter': {
      name: 'node-exporter',
      flags: NODE_EXPORTER_FLAGS,
      listen: [{ flag: 'web.listen-address', port: 9100, proto: 'tcp' }],
      listenStyle: 'equals',
    },
    prometheus: {
      name: 'prometheus',
      // #29: with agents, pull's store receives their remote writes (Prometheus 2.42's receiver flag).
      flags:
        opts.pullTopology === 'agent' ? [...PROMETHEUS_FLAGS, REMOTE_WRITE_RECEIVER_FLAG] : PROMETHEUS_FLAGS,
      listen: [{ flag: 'web.listen-address', port: 9090, proto: 'tcp' }],
      listenStyle: 'equals',
    },
    // #24: the push path's own store (`--store per-path`): the same binary, flags and port as `prometheus`;
    // only its configuration's targets differ (prometheus-config.ts, role push).
    'prometheus-push': {
      name: 'prometheus-push',
      flags: PROMETHEUS_FLAGS,
      listen: [{ flag: 'web.listen-address', port: 9090, proto: 'tcp' }],
      listenStyle: 'equals',
    },
  };
}

/** The Prometheus components: the stores (a store-mode `shared` runs only the first). */
export const STORE_COMPONENTS = ['prometheus', 'prometheus-push'] as const;
export type StoreComponent = (typeof STORE_COMPONENTS)[number];

/**
 * The command line of one component: `placement` flags (paths a runtime mounts), the listen flags with the
 * address the runtime chose for each port, then the flags that carry a meaning — last, so they win over any
 * earlier occurrence.
 */
export function renderArgs(
  spec: ComponentSpec,
  addressOf: (p: ListenPort) => string,
  placement: readonly string[] = [],
): string[] {
  const listen = spec.listen.flatMap((p) =>
    spec.listenStyle === 'equals' ? [`--${p.flag}=${addressOf(p)}`] : [`--${p.flag}`, addressOf(p)],
  );
  return [...placement, ...listen, ...spec.flags];
}

/** In a container: every port bound on all of the container's interfaces (published on 127.0.0.1 only). */
export const containerAddress = (p: ListenPort): string => `0.0.0.0:${p.port}`;

/** Where the compose file mounts Prometheus' config and keeps its data (the docker and swarm runtimes alike). */
export const PROMETHEUS_CONTAINER_PLACEMENT = [
  '--config.file=/etc/prometheus/prometheus.yml',
  '--storage.tsdb.path=/prometheus',
] as const;

/** The config file of each store in a container (the same mounted directory, one file per store). */
export const STORE_CONFIG_FILE: Record<StoreComponent, string> = {
  prometheus: 'prometheus.yml',
  'prometheus-push': 'prometheus-push.yml',
};

function containerPlacement(name: ComponentSpec['name']): readonly string[] {
  if (name === 'prometheus') return PROMETHEUS_CONTAINER_PLACEMENT;
  if (name === 'prometheus-push')
    return [`--config.file=/etc/prometheus/${STORE_CONFIG_FILE[name]}`, '--storage.tsdb.path=/prometheus'];
  return [];
}

/**
 * A base component's command in a container (docker and swarm): its description with the compose ports bound
 * on every interface of the container; the compose file's commands are this, for the default options.
 */
export function containerCommand(spec: ComponentSpec): string[] {
  return renderArgs(spec, containerAddress, containerPlacement(spec.name));
}

/** What a runtime can honour of StackOptions; the stack refuses, naming the field, what it cannot. */
export interface StackSupport {
  /** Runtime name for the message. */
  runtime: string;
  nodeExporter: boolean;
}

/** Every StackOptions field takes effect on this runtime, or a clear error names the field and why not. */
export function checkSupported(opts: Pick<StackOptions, 'withNodeExporter'>, support: StackSupport): void {
  if (opts.withNodeExporter && !support.nodeExporter)
    throw new LabError(
      'LAB_ERR_CONFIG',
      `StackOptions.withNodeExporter: the ${support.runtime} runtime cannot run node-exporter in the collector's network namespace; the collector's own kernel counters (collector_kernel_udp_*) stand in — start the stack with withNodeExporter false`,
      { field: 'withNodeExporter', runtime: support.runtime },
    );
}
