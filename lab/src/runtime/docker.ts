// Docker runtime: dockerode against the local engine, service definitions read from the repo's
// docker-compose.yml (so the lab runs exactly the images, commands and namespaces users run with compose).
//
// Differences from a plain `docker compose up`, each deliberate:
// - every container carries the label `pushpull.lab=<runId>` (a reaper removes leftovers of a crashed run);
// - ports are published on 127.0.0.1 with engine-chosen host ports, so a lab run never collides with a
//   compose stack (or anything else) already holding 9090/9091/9102;
// - Prometheus gets a config derived for this run (scrape interval, limits) from a per-run directory;
// - the producer fleet is scaled by creating/removing containers one by one, each with its own
//   published control port, instead of `--scale`.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '@pushpull/common';
import Docker from 'dockerode';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type {
  FaultKind,
  ProducerMember,
  ProducerOptions,
  Runtime,
  StackEndpoints,
  StackOptions,
} from './types.ts';

export const LAB_LABEL = 'pushpull.lab';
const COMPONENT_LABEL = 'pushpull.component';

interface ComposeService {
  image: string;
  command?: string[];
  network_mode?: string;
  ports?: string[];
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

export interface DockerRuntimeOptions {
  repoRoot: string;
  docker?: Docker;
  /** Removes containers of other (crashed) lab runs before starting. Default true. */
  reap?: boolean;
}

/** Container port (e.g. "9090/tcp") of each `127.0.0.1:H:C[/proto]` entry of a compose service. */
export function containerPorts(ports: readonly string[] | undefined): string[] {
  return (ports ?? []).map((p) => {
    const parts = p.split(':');
    const last = parts[parts.length - 1] ?? '';
    return last.includes('/') ? last : `${last}/tcp`;
  });
}

/** Producer CLI flags for one producer instance (same flags the process runtime passes). */
export function producerArgs(
  name: string,
  opts: ProducerOptions,
  statsd: string,
  sdDir: string,
  http: string,
): string[] {
  return [
    '--name',
    name,
    '--pods',
    String(opts.podsPerProducer),
    '--http',
    http,
    '--statsd',
    `${opts.transport}://${statsd}`,
    '--sd-dir',
    sdDir,
    '--seed',
    String(opts.seed),
    '--fleet-pods',
    String(opts.fleetPods),
    '--push-mode',
    opts.pushMode,
    '--jitter',
    opts.jitter ? 'on' : 'off',
    '--flush-interval',
    `${opts.flushIntervalMs}ms`,
    '--heartbeat',
    opts.heartbeatMs > 0 ? `${opts.heartbeatMs}ms` : 'off',
  ];
}

export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;
  private readonly docker: Docker;
  private readonly compose: ComposeFile;
  private opts: StackOptions | undefined;
  private networkName = '';
  private readonly base = new Map<string, Docker.Container>();
  private readonly producers: {
    member: ProducerMember;
    container: Docker.Container;
    partitioned: boolean;
  }[] = [];
  private endpoints: StackEndpoints | undefined;

  constructor(private readonly cfg: DockerRuntimeOptions) {
    this.docker = cfg.docker ?? new Docker();
    this.compose = parseYaml(readFileSync(join(cfg.repoRoot, 'docker-compose.yml'), 'utf8')) as ComposeFile;
  }

  /** Resolves when the engine answers; otherwise a clear LAB_ERR_DOCKER_UNREACHABLE. */
  async ping(): Promise<void> {
    try {
      await withTimeout(this.docker.ping(), 5000, 'docker ping');
    } catch (e) {
      throw new LabError(
        'LAB_ERR_DOCKER_UNREACHABLE',
        `no Docker engine answers at ${process.env.DOCKER_HOST ?? '/var/run/docker.sock'} (${(e as Error).message}); ` +
          'start it with `sudo bash scripts/setup.sh` or use --runtime process',
      );
    }
  }

  /** Names of the compose images that are not present locally (the lab never pulls). */
  async missingImages(): Promise<string[]> {
    const wanted = ['prometheus', 'pushgateway', 'collector', 'node-exporter', 'producer'].map(
      (s) => this.service(s).image,
    );
    const missing: string[] = [];
    for (const image of wanted) {
      try {
        await this.docker.getImage(image).inspect();
      } catch {
        missing.push(image);
      }
    }
    return missing;
  }

  private service(name: string): ComposeService {
    const s = this.compose.services[name];
    if (!s) throw new LabError('LAB_ERR_CONFIG', `docker-compose.yml has no service "${name}"`);
    return s;
  }

  /** Removes every container and network labelled by another lab run (a crashed or killed one). */
  async reap(currentRunId: string): Promise<number> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [LAB_LABEL] } });
    let n = 0;
    for (const c of containers) {
      if (c.Labels[LAB_LABEL] === currentRunId) continue;
      await this.docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
      n++;
    }
    const networks = await this.docker.listNetworks({ filters: { label: [LAB_LABEL] } });
    for (const net of networks) {
      if (net.Labels?.[LAB_LABEL] === currentRunId) continue;
      await this.docker
        .getNetwork(net.Id)
        .remove()
        .catch(() => undefined);
    }
    return n;
  }

  async up(opts: StackOptions): Promise<StackEndpoints> {
    if (this.endpoints) return this.endpoints;
    this.opts = opts;
    await this.ping();
    const missing = await this.missingImages();
    if (missing.length > 0) {
      throw new LabError(
        'LAB_ERR_IMAGE_MISSING',
        `images not present locally: ${missing.join(', ')}; build them with \`bash scripts/airgap-images.sh\``,
      );
    }
    if (this.cfg.reap !== false) {
      const reaped = await this.reap(opts.runId);
      if (reaped > 0) opts.log(`reaper: removed ${reaped} container(s) left by an earlier lab run`);
    }
    this.networkName = `pushpull-${opts.runId}`;
    await this.docker.createNetwork({
      Name: this.networkName,
      Driver: 'bridge',
      Labels: { [LAB_LABEL]: opts.runId },
    });

    const promDir = join(opts.workDir, 'prometheus');
    const sdDir = join(opts.workDir, 'sd');
    mkdirSync(join(promDir, 'rules'), { recursive: true });
    mkdirSync(sdDir, { recursive: true });
    writeFileSync(join(promDir, 'prometheus.yml'), this.prometheusConfig(opts));
    for (const f of readdirSync(join(this.cfg.repoRoot, 'prometheus/rules'))) {
      copyFileSync(join(this.cfg.repoRoot, 'prometheus/rules', f), join(promDir, 'rules', f));
    }

    const collector = await this.startService('collector', { Binds: [] });
    if (opts.withNodeExporter) {
      await this.startService('node-exporter', { NetworkMode: `container:${collector.id}` }, false);
    }
    await this.startService('pushgateway', {});
    await this.startService('prometheus', { Binds: [`${promDir}:/etc/prometheus:ro`, `${sdDir}:/sd:ro`] });

    const url = async (svc: string, port: string) => `http://127.0.0.1:${await this.hostPort(svc, port)}`;
    this.endpoints = {
      prometheusUrl: await url('prometheus', '9090/tcp'),
      pushgatewayUrl: await url('pushgateway', '9091/tcp'),
      collectorHttpUrl: await url('collector', '9102/tcp'),
      nodeExporterUrl: opts.withNodeExporter ? await url('collector', '9100/tcp') : null,
    };
    await waitHttp(`${this.endpoints.collectorHttpUrl}/healthz`, 60_000, 'collector /healthz');
    await waitHttp(`${this.endpoints.pushgatewayUrl}/-/ready`, 60_000, 'pushgateway /-/ready');
    await waitHttp(`${this.endpoints.prometheusUrl}/-/ready`, 60_000, 'prometheus /-/ready');
    return this.endpoints;
  }

  /** The compose Prometheus config with this run's scrape interval and producer-job limits. */
  private prometheusConfig(opts: StackOptions): string {
    const cfg = parseYaml(readFileSync(join(this.cfg.repoRoot, 'prometheus/prometheus.yml'), 'utf8')) as {
      global: Record<string, unknown>;
      scrape_configs: Record<string, unknown>[];
    };
    const interval = `${opts.scrapeIntervalMs}ms`;
    cfg.global.scrape_interval = interval;
    const timeoutMs = Math.min(opts.scrapeIntervalMs, opts.producerScrape?.scrapeTimeoutMs ?? 10_000);
    cfg.global.scrape_timeout = `${timeoutMs}ms`;
    const producers = cfg.scrape_configs.find((j) => j.job_name === 'producers');
    if (producers && opts.producerScrape?.sampleLimit !== undefined)
      producers.sample_limit = opts.producerScrape.sampleLimit;
    if (producers && opts.producerScrape?.bodySizeLimit !== undefined)
      producers.body_size_limit = opts.producerScrape.bodySizeLimit;
    if (!opts.withNodeExporter)
      cfg.scrape_configs = cfg.scrape_configs.filter((j) => j.job_name !== 'node-exporter');
    return stringifyYaml(cfg);
  }

  private async startService(
    name: string,
    hostConfig: Docker.HostConfig,
    attachNetwork = true,
    extra: { cmd?: string[]; containerName?: string; labels?: Record<string, string>; ports?: string[] } = {},
  ): Promise<Docker.Container> {
    const opts = this.opts!;
    const svc = this.service(name);
    const exposed = attachNetwork ? (extra.ports ?? containerPorts(svc.ports)) : [];
    const container = await this.docker.createContainer({
      name: extra.containerName ?? `pushpull-${opts.runId}-${name}`,
      Image: svc.image,
      Cmd: extra.cmd ?? svc.command,
      Labels: { [LAB_LABEL]: opts.runId, [COMPONENT_LABEL]: name, ...extra.labels },
      ExposedPorts: Object.fromEntries(exposed.map((p) => [p, {}])),
      HostConfig: {
        ...(attachNetwork ? { NetworkMode: this.networkName } : {}),
        PortBindings: Object.fromEntries(exposed.map((p) => [p, [{ HostIp: '127.0.0.1', HostPort: '' }]])),
        ...hostConfig,
      },
      ...(attachNetwork
        ? { NetworkingConfig: { EndpointsConfig: { [this.networkName]: { Aliases: [name] } } } }
        : {}),
    });
    if (!extra.containerName) this.base.set(name, container);
    await container.start();
    return container;
  }

  private async hostPort(service: string, port: string, container?: Docker.Container): Promise<number> {
    const c = container ?? this.base.get(service);
    if (!c) throw new LabError('LAB_ERR_CONFIG', `service ${service} is not running`);
    for (let i = 0; i < 50; i++) {
      const info = await c.inspect();
      const hp = info.NetworkSettings.Ports[port]?.[0]?.HostPort;
      if (hp) return Number(hp);
      if (!info.State.Running) {
        const logs = await c.logs({ stdout: true, stderr: true, tail: 20 }).catch(() => Buffer.from(''));
        throw new LabError(
          'LAB_ERR_CHILD_EXIT',
          `container ${service} exited (${info.State.ExitCode}): ${logs.toString()}`,
        );
      }
      await sleep(100);
    }
    throw new LabError('LAB_ERR_TIMEOUT', `no published host port for ${service} ${port}`);
  }

  async scale(producers: number, popts: ProducerOptions): Promise<ProducerMember[]> {
    const opts = this.opts;
    if (!opts) throw new LabError('LAB_ERR_CONFIG', 'scale() before up()');
    const sdDir = join(opts.workDir, 'sd');
    while (this.producers.length > producers) {
      const p = this.producers.pop()!;
      await p.container.remove({ force: true }).catch(() => undefined);
      rmSync(join(sdDir, `${p.member.name}.json`), { force: true });
    }
    const started: Promise<void>[] = [];
    for (let i = this.producers.length; i < producers; i++) {
      const name = `producer-${i}`;
      const container = await this.startService('producer', { Binds: [`${sdDir}:/sd`] }, true, {
        cmd: producerArgs(name, popts, 'collector:8125', '/sd', '0.0.0.0:9100'),
        containerName: `pushpull-${opts.runId}-${name}`,
        labels: { 'pushpull.producer': name },
        // Compose publishes no producer port (they are scaled); the lab publishes each control port on loopback.
        ports: ['9100/tcp'],
      });
      const member: ProducerMember = {
        name,
        baseUrl: '',
        podIds: Array.from({ length: popts.podsPerProducer }, (_, k) => `${name}-p${k}`),
        handle: container.id,
      };
      this.producers.push({ member, container, partitioned: false });
      started.push(
        (async () => {
          member.baseUrl = `http://127.0.0.1:${await this.hostPort('producer', '9100/tcp', container)}`;
          await waitHttp(`${member.baseUrl}/healthz`, 60_000, `${name} /healthz`);
        })(),
      );
    }
    await Promise.all(started);
    return this.members();
  }

  members(): ProducerMember[] {
    return this.producers.map((p) => p.member);
  }

  async fault(kind: FaultKind, member: ProducerMember): Promise<void> {
    const p = this.producers.find((x) => x.member.name === member.name);
    if (!p) throw new LabError('LAB_ERR_CONFIG', `no producer named ${member.name}`);
    const net = this.docker.getNetwork(this.networkName);
    switch (kind) {
      case 'kill':
        await p.container.kill({ signal: 'SIGKILL' });
        return;
      case 'pause':
        await p.container.pause();
        return;
      case 'resume':
        await p.container.unpause();
        return;
      case 'partition':
        // Cuts the producer off the lab network: Prometheus can no longer reach it, its datagrams go nowhere.
        await net.disconnect({ Container: p.container.id, Force: true });
        p.partitioned = true;
        return;
      case 'heal':
        await net.connect({ Container: p.container.id, EndpointConfig: { Aliases: ['producer'] } });
        p.partitioned = false;
        return;
      case 'restart':
        await p.container.restart({ t: 2 });
        return;
    }
  }

  async cpuSeconds(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const all = [
      ...[...this.base].map(([name, c]) => ({ name, c })),
      ...this.producers.map((p) => ({ name: p.member.name, c: p.container })),
    ];
    await Promise.all(
      all.map(async ({ name, c }) => {
        try {
          const s = (await c.stats({ stream: false })) as {
            cpu_stats?: { cpu_usage?: { total_usage?: number } };
          };
          const ns = s.cpu_stats?.cpu_usage?.total_usage;
          if (typeof ns === 'number') out[name] = ns / 1e9;
        } catch {
          // a killed or paused container has no stats: leave it out rather than report 0
        }
      }),
    );
    return out;
  }

  async down(): Promise<void> {
    const runId = this.opts?.runId;
    if (!runId) return;
    const containers = await this.docker
      .listContainers({ all: true, filters: { label: [`${LAB_LABEL}=${runId}`] } })
      .catch(() => []);
    // node-exporter first: it lives in the collector's namespace.
    containers.sort(
      (a, b) =>
        Number(b.Labels[COMPONENT_LABEL] === 'node-exporter') -
        Number(a.Labels[COMPONENT_LABEL] === 'node-exporter'),
    );
    for (const c of containers)
      await this.docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    if (this.networkName)
      await this.docker
        .getNetwork(this.networkName)
        .remove()
        .catch(() => undefined);
    this.producers.length = 0;
    this.base.clear();
    this.endpoints = undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new LabError('LAB_ERR_TIMEOUT', `${what}: no answer within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitHttp(url: string, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(250);
  }
  throw new LabError('LAB_ERR_TIMEOUT', `${what} not ready within ${timeoutMs} ms (last: ${last})`);
}
