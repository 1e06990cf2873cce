import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from '../../core/paths.ts';
import { PULL_REPLICA_COMPONENTS, replicaLabel } from '../../core/record-replicas.ts';
import { throwIfAborted } from '../../core/time.ts';
import { type ComponentSpec, renderArgs, type StoreComponent, stackComponents } from '../components.ts';
import {
  type DerivedConfig,
  derivePrometheusConfig,
  type StoreRole,
  storeRoles,
} from '../prometheus-config.ts';
import { peerTargetsFile } from '../prometheus-peer.ts';
import type { StackEndpoints, StackOptions } from '../types.ts';
import { BINARIES } from './binaries.ts';
import { freePort, type SpawnedChild, tail, terminate, waitForHttp } from './children.ts';
import { preparePeerDir, writePeerFiles } from './peer.ts';
import {
  addrToUrl,
  LAB_JSON,
  type ProcessStack,
  START_TIMEOUT_MS,
  spawnIn,
  startListening,
  testOnlyArgs,
  writeLabJson,
} from './state.ts';

// The base stack on 127.0.0.1: the collector, Pushgateway and node-exporter (optional) side by side, then
// Prometheus, whose derived config needs their ports.

type Paths = ReturnType<typeof paths>;

export interface Started {
  child: SpawnedChild;
  url: string;
}

/** Creates the work dir's layout; the work dir is ours to remove when we created it or it is a lab's. */
export function prepareWorkDir(s: ProcessStack): void {
  if (!existsSync(s.workDir)) {
    mkdirSync(s.workDir, { recursive: true });
    s.ownsWorkDir = true;
  } else s.ownsWorkDir = existsSync(join(s.workDir, LAB_JSON)) || readdirSync(s.workDir).length === 0;
  s.sdDir = join(s.workDir, 'sd');
  s.logDir = join(s.workDir, 'logs');
  mkdirSync(s.sdDir, { recursive: true });
  mkdirSync(s.logDir, { recursive: true });
  mkdirSync(join(s.workDir, 'prometheus-data'), { recursive: true });
  writeLabJson(s);
}

/** Starts every base component; the endpoints once Prometheus is ready. */
export async function startBaseStack(s: ProcessStack, opts: StackOptions): Promise<StackEndpoints> {
  const p = paths(s.root);
  const signal = opts.signal;
  const specs = stackComponents(opts);
  // The collector first (Prometheus' config needs its port); pushgateway and node-exporter alongside.
  const collectorStart = startCollector(s, p, specs.collector, signal);
  const pushgatewayStart = startBinary(s, specs.pushgateway, BINARIES.pushgateway, '/-/ready', signal);
  const nodeStart = opts.withNodeExporter
    ? startBinary(s, specs['node-exporter'], BINARIES.nodeExporter, '/metrics', signal)
    : Promise.resolve(null);
  // allSettled: when one start fails, wait for the others to settle so down() sees every child spawned.
  const settled = await Promise.allSettled([collectorStart, pushgatewayStart, nodeStart]);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  const collectorUrl = await collectorStart;
  const pushgateway = await pushgatewayStart;
  const node = await nodeStart;
  const jobAddresses = {
    collector: collectorUrl.replace('http://', ''),
    pushgateway: pushgateway.url.replace('http://', ''),
    'node-exporter': node ? node.url.replace('http://', '') : null,
  };
  // One Prometheus per store (#24): `shared` runs one for both paths; `per-path` one for each, side by side.
  // #28: with the Prometheus pair, pull's store (or the shared one) twice, apart from the `replica` label.
  const pair = (opts.prometheusReplicas ?? 1) > 1;
  const stores = storeRoles(opts.store);
  const starts = storeStarts(stores, specs, pair);
  // The pair's meta-monitoring: each replica scrapes the other (`prometheus-peer`), its file written below.
  if (pair) preparePeerDir(s.workDir);
  const peer = (name: string) => (pair ? { peerSdFile: peerTargetsFile(s.workDir, name) } : {});
  const started = await Promise.allSettled(
    starts.map((x) =>
      startPrometheus(s, p, { ...opts, role: x.role, ...centralScrape(opts) }, x.spec, jobAddresses, {
        name: x.name,
        ...(x.labels ? { externalLabels: x.labels } : {}),
        ...(x.labels ? peer(x.name) : {}),
      }),
    ),
  );
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  const urls = started.map((r) => (r as PromiseFulfilledResult<Started>).value.url);
  const pushUrl = stores.length > 1 ? urls[1] : undefined;
  if (pair)
    writePeerFiles(
      s.workDir,
      [0, urls.length - 1].map((k, i) => ({
        component: starts[k]!.name,
        address: urls[k]!.replace('http://', ''),
        replica: replicaLabel(i),
      })),
    );
  return {
    prometheusUrl: urls[0]!,
    ...(pushUrl ? { pushPrometheusUrl: pushUrl } : {}),
    ...(pair ? { pullReplicaUrls: [urls[0]!, urls[urls.length - 1]!] } : {}),
    pushgatewayUrl: pushgateway.url,
    collectorHttpUrl: collectorUrl,
    nodeExporterUrl: node ? node.url : null,
  };
}

/** The Prometheus servers to start: one per store, and with the pair pull's second replica (its `replica` label). */
function storeStarts(
  stores: ReturnType<typeof storeRoles>,
  specs: ReturnType<typeof stackComponents>,
  pair: boolean,
): { name: string; spec: ComponentSpec; role: StoreRole; labels: Record<string, string> | undefined }[] {
  const replica = (i: number) => (pair ? { replica: replicaLabel(i) } : undefined);
  return [
    ...stores.map(({ component, role }, i) => ({
      name: component as string,
      spec: specs[component as StoreComponent],
      role,
      labels: i === 0 ? replica(0) : undefined,
    })),
    ...(pair
      ? [
          {
            name: PULL_REPLICA_COMPONENTS[1],
            spec: specs.prometheus,
            role: stores[0]!.role,
            labels: replica(1),
          },
        ]
      : []),
  ];
}

/** #29: with pull agents, the central store discovers the pods but scrapes none of them (the agents do). */
function centralScrape(opts: StackOptions): Pick<StackOptions, 'producerScrape'> {
  return opts.pullTopology === 'agent' ? { producerScrape: { ...opts.producerScrape, off: true } } : {};
}

/**
 * A base component's command line on this runtime: its description rendered with loopback addresses —
 * port 0 (the collector reports what it bound) or the free port chosen for it — after `placement` (paths).
 */
export function processArgs(spec: ComponentSpec, port: number, placement: readonly string[] = []): string[] {
  return renderArgs(spec, () => `127.0.0.1:${port}`, placement);
}

/**
 * TEST ONLY: extra collector flags appended after the lab's own (the last occurrence wins), so a test can
 * start a collector whose limits differ from the plan and see the record's self-check refuse the run.
 * Every use is announced on stderr; nothing in the lab sets it.
 */
export const TEST_COLLECTOR_ARGS_ENV = 'PUSHPULL_TEST_COLLECTOR_EXTRA_ARGS';

/** The collector binds port 0 everywhere and reports what it got on its "listening" line. */
async function startCollector(
  s: ProcessStack,
  p: Paths,
  spec: ComponentSpec,
  signal?: AbortSignal,
): Promise<string> {
  const { line, http, udp } = await startListening(s, 'collector', collectorArgv(p, spec), signal);
  s.collectorStatsd = {
    udp,
    tcp: typeof line.tcp === 'string' ? line.tcp : null,
    otlp: typeof line.otlp === 'string' ? line.otlp : null,
  };
  return addrToUrl(http);
}

/** A Prometheus binary (pushgateway, node-exporter) on a free loopback port. */
function startBinary(
  s: ProcessStack,
  spec: ComponentSpec,
  command: string,
  readyPath: string,
  signal?: AbortSignal,
): Promise<Started> {
  return startOnFreePort(s, spec.name, command, (port) => processArgs(spec, port), readyPath, signal);
}

/** The run's Prometheus configuration on this runtime (pure but for reading the repo's source config). */
export function processPrometheusConfig(
  p: Pick<Paths, 'prometheusYml' | 'prometheusDir'>,
  sdDir: string,
  opts: Pick<StackOptions, 'scrapeIntervalMs' | 'producerScrape'> & {
    role?: StoreRole;
    externalLabels?: Record<string, string>;
    peerSdFile?: string;
  },
  jobAddresses: Record<string, string | null>,
): DerivedConfig {
  return derivePrometheusConfig(readFileSync(p.prometheusYml, 'utf8'), {
    sourceDir: p.prometheusDir,
    sdDir,
    scrapeIntervalMs: opts.scrapeIntervalMs,
    jobAddresses,
    ...(opts.producerScrape ? { producerScrape: opts.producerScrape } : {}),
    ...(opts.role ? { role: opts.role } : {}),
    ...(opts.externalLabels ? { externalLabels: opts.externalLabels } : {}),
    ...(opts.peerSdFile ? { peerSdFile: opts.peerSdFile } : {}),
  });
}

/** The collector's command line on this runtime (after the node binary). */
export function collectorArgv(p: Pick<Paths, 'collectorMain'>, spec: ComponentSpec): string[] {
  return [p.collectorMain, ...processArgs(spec, 0), ...testOnlyArgs(TEST_COLLECTOR_ARGS_ENV, 'collector')];
}

/**
 * Prometheus with a config derived for this run; rewritten per attempt (its own port is a scrape target).
 * `as.name`: the child's name, its config file and data dir (`prometheus-2`, pull's second replica, renders the
 * `prometheus` description); `as.externalLabels` the replica's label; `as.peerSdFile` its peer's file (#28).
 */
function startPrometheus(
  s: ProcessStack,
  p: Paths,
  opts: StackOptions & { role: StoreRole },
  spec: ComponentSpec,
  jobAddresses: Record<string, string | null>,
  as: { name: string; externalLabels?: Record<string, string>; peerSdFile?: string },
): Promise<Started> {
  const derived = (promPort: number) =>
    processPrometheusConfig(
      p,
      s.sdDir,
      {
        ...opts,
        ...(as.externalLabels ? { externalLabels: as.externalLabels } : {}),
        ...(as.peerSdFile ? { peerSdFile: as.peerSdFile } : {}),
      },
      { ...jobAddresses, prometheus: `127.0.0.1:${promPort}` },
    );
  // Each store (and replica) its own config file and data directory, named as its child.
  const own = as.name;
  const configPath = join(s.workDir, `${own}.yml`);
  const dataDir = join(s.workDir, `${own}-data`);
  mkdirSync(dataDir, { recursive: true });
  return startOnFreePort(
    s,
    own,
    BINARIES.prometheus,
    (port) => {
      writeFileSync(configPath, derived(port).yaml);
      return processArgs(spec, port, [`--config.file=${configPath}`, `--storage.tsdb.path=${dataDir}`]);
    },
    '/-/ready',
    opts.signal,
  );
}

/** Starts a binary that takes its listen address as a flag, on a free port, retrying on a port race. */
export async function startOnFreePort(
  s: ProcessStack,
  name: string,
  command: string,
  args: (port: number) => string[],
  readyPath: string,
  signal?: AbortSignal,
): Promise<Started> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    throwIfAborted(signal);
    const port = await freePort();
    const child = spawnIn(s, name, command, args(port));
    s.base.set(name, child);
    writeLabJson(s);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(child, `${url}${readyPath}`, START_TIMEOUT_MS, signal);
      return { child, url };
    } catch (e) {
      lastErr = e;
      const err = tail(child.stderrPath, 40);
      await terminate(child.pid, 2000);
      if (!/address already in use/i.test(err)) throw e;
      s.log(`${name}: port ${port} was taken meanwhile, retrying`);
    }
  }
  throw lastErr;
}
