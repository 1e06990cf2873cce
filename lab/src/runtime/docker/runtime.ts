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
import { parse as parseYaml } from 'yaml';
import { producerArgs as baseProducerArgs, podsForProducer } from '../producer-args.ts';
import { derivePrometheusConfig } from '../prometheus-config.ts';
import type {
  AuxAddresses,
  AuxProcess,
  FaultKind,
  ProducerMember,
  ProducerOptions,
  Runtime,
  RuntimeAvailability,
  RuntimeFactory,
  StackEndpoints,
  StackOptions,
  StackState,
} from '../types.ts';

export const LAB_LABEL = 'pushpull.lab';
const COMPONENT_LABEL = 'pushpull.component';
/** pid of the lab process that owns a container: the reaper spares runs whose lab is still alive. */
const OWNER_LABEL = 'pushpull.lab.owner';

/** A run is a leftover when it is not kept and its owning lab process (on this host) is gone. */
export function isLeftover(labels: Record<string, string> | undefined, keep: readonly string[]): boolean {
  const run = labels?.[LAB_LABEL] ?? '';
  if (keep.includes(run)) return false;
  const owner = Number(labels?.[OWNER_LABEL]);
  if (!Number.isInteger(owner) || owner <= 0) return true;
  try {
    process.kill(owner, 0);
    return false; // that lab is still running
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

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
}

/** Container port (e.g. "9090/tcp") of each `127.0.0.1:H:C[/proto]` entry of a compose service. */
export function containerPorts(ports: readonly string[] | undefined): string[] {
  return (ports ?? []).map((p) => {
    const parts = p.split(':');
    const last = parts[parts.length - 1] ?? '';
    return last.includes('/') ? last : `${last}/tcp`;
  });
}

/** Producer CLI flags: the shared set, listening on the container's port instead of 127.0.0.1:0. */
export function producerArgs(
  name: string,
  pods: number,
  opts: ProducerOptions,
  statsd: string,
  sdDir: string,
): string[] {
  return baseProducerArgs(name, pods, opts, statsd, sdDir, '0.0.0.0:9100');
}

interface Tracked {
  member: ProducerMember;
  container: Docker.Container;
}

interface DockerPrivate {
  networkName: string;
  withNodeExporter: boolean;
}

export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;
  private readonly docker: Docker;
  private readonly compose: ComposeFile;
  private runId = '';
  private workDir = '';
  private networkName = '';
  private withNodeExporter = true;
  private scrapeIntervalMs = 0;
  private startedAtMs = 0;
  private log: (msg: string) => void = () => {};
  private producerOptions: ProducerOptions | null = null;
  private readonly base = new Map<string, Docker.Container>();
  private readonly producers: Tracked[] = [];
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

  /** Removes every container and network labelled by a lab run not in `keep` (a crashed or killed one). */
  async reap(keep: readonly string[]): Promise<string[]> {
    const removed: string[] = [];
    const containers = await this.docker.listContainers({ all: true, filters: { label: [LAB_LABEL] } });
    for (const c of containers) {
      if (!isLeftover(c.Labels, keep)) continue;
      await this.docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
      removed.push(`container ${c.Names[0]?.replace(/^\//, '') ?? c.Id}`);
    }
    const networks = await this.docker.listNetworks({ filters: { label: [LAB_LABEL] } });
    for (const net of networks) {
      if (!isLeftover(net.Labels, keep)) continue;
      await this.docker
        .getNetwork(net.Id)
        .remove()
        .catch(() => undefined);
      removed.push(`network ${net.Name}`);
    }
    return removed;
  }

  async up(opts: StackOptions): Promise<StackEndpoints> {
    if (this.endpoints) return this.endpoints;
    this.runId = opts.runId;
    this.workDir = opts.workDir;
    this.withNodeExporter = opts.withNodeExporter;
    this.scrapeIntervalMs = opts.scrapeIntervalMs;
    this.startedAtMs = Date.now();
    this.log = opts.log;
    await this.ping();
    const missing = await this.missingImages();
    if (missing.length > 0) {
      throw new LabError(
        'LAB_ERR_IMAGE_MISSING',
        `images not present locally: ${missing.join(', ')}; build them with \`bash scripts/airgap-images.sh\``,
      );
    }
    try {
      this.networkName = `pushpull-${opts.runId}`;
      await this.docker.createNetwork({
        Name: this.networkName,
        Driver: 'bridge',
        Labels: { [LAB_LABEL]: opts.runId, [OWNER_LABEL]: String(process.pid) },
      });

      const promDir = join(opts.workDir, 'prometheus');
      const sdDir = join(opts.workDir, 'sd');
      mkdirSync(join(promDir, 'rules'), { recursive: true });
      mkdirSync(sdDir, { recursive: true });
      writeFileSync(join(promDir, 'prometheus.yml'), this.prometheusConfig(opts));
      for (const f of readdirSync(join(this.cfg.repoRoot, 'prometheus/rules'))) {
        copyFileSync(join(this.cfg.repoRoot, 'prometheus/rules', f), join(promDir, 'rules', f));
      }
      opts.signal?.throwIfAborted();
      const collector = await this.startService('collector', {});
      if (opts.withNodeExporter) {
        // Same network namespace as the collector: its Udp counters are the collector's.
        await this.startService('node-exporter', { NetworkMode: `container:${collector.id}` }, false);
      }
      await this.startService('pushgateway', {});
      await this.startService('prometheus', { Binds: [`${promDir}:/etc/prometheus:ro`, `${sdDir}:/sd:ro`] });
      opts.signal?.throwIfAborted();

      const url = async (svc: string, port: string) => `http://127.0.0.1:${await this.hostPort(svc, port)}`;
      const endpoints: StackEndpoints = {
        prometheusUrl: await url('prometheus', '9090/tcp'),
        pushgatewayUrl: await url('pushgateway', '9091/tcp'),
        collectorHttpUrl: await url('collector', '9102/tcp'),
        nodeExporterUrl: opts.withNodeExporter ? await url('collector', '9100/tcp') : null,
      };
      await waitHttp(`${endpoints.collectorHttpUrl}/healthz`, 60_000, 'collector /healthz', opts.signal);
      await waitHttp(`${endpoints.pushgatewayUrl}/-/ready`, 60_000, 'pushgateway /-/ready', opts.signal);
      await waitHttp(`${endpoints.prometheusUrl}/-/ready`, 60_000, 'prometheus /-/ready', opts.signal);
      this.endpoints = endpoints;
      return endpoints;
    } catch (e) {
      await this.down();
      throw e;
    }
  }

  /**
   * The compose Prometheus config with this run's scrape interval and producer-job limits. Inside the
   * containers the compose addresses stay valid (service names are network aliases), so only the interval,
   * limits and rule paths change.
   */
  private prometheusConfig(opts: StackOptions): string {
    return derivePrometheusConfig(
      readFileSync(join(this.cfg.repoRoot, 'prometheus/prometheus.yml'), 'utf8'),
      {
        sourceDir: '/etc/prometheus',
        sdDir: '/sd',
        scrapeIntervalMs: opts.scrapeIntervalMs,
        jobAddresses: {
          collector: 'collector:9102',
          pushgateway: 'pushgateway:9091',
          'node-exporter': opts.withNodeExporter ? 'collector:9100' : null,
          prometheus: 'localhost:9090',
        },
        ...(opts.producerScrape ? { producerScrape: opts.producerScrape } : {}),
      },
    ).yaml;
  }

  private async startService(
    name: string,
    hostConfig: Docker.HostConfig,
    attachNetwork = true,
    extra: { cmd?: string[]; containerName?: string; labels?: Record<string, string>; ports?: string[] } = {},
  ): Promise<Docker.Container> {
    const svc = this.service(name);
    const exposed = attachNetwork ? (extra.ports ?? containerPorts(svc.ports)) : [];
    const container = await this.docker.createContainer({
      name: extra.containerName ?? `pushpull-${this.runId}-${name}`,
      Image: svc.image,
      Cmd: extra.cmd ?? svc.command,
      Labels: {
        [LAB_LABEL]: this.runId,
        [OWNER_LABEL]: String(process.pid),
        [COMPONENT_LABEL]: name,
        ...extra.labels,
      },
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
    if (!this.endpoints) throw new LabError('LAB_ERR_CONFIG', 'scale() before up()');
    this.producerOptions = popts;
    const sdDir = join(this.workDir, 'sd');
    while (this.producers.length > producers) {
      const p = this.producers.pop()!;
      await p.container.remove({ force: true }).catch(() => undefined);
      // A SIGKILLed producer cannot remove its own discovery file: do it, so its pods stop being targets.
      rmSync(join(sdDir, `${p.member.name}.json`), { force: true });
    }
    const started: Promise<void>[] = [];
    for (let i = this.producers.length; i < producers; i++) {
      const name = `producer-${i}`;
      const pods = podsForProducer(i, producers, popts);
      const container = await this.startService('producer', { Binds: [`${sdDir}:/sd`] }, true, {
        cmd: producerArgs(name, pods, popts, 'collector:8125', '/sd'),
        containerName: `pushpull-${this.runId}-${name}`,
        labels: { 'pushpull.producer': name },
        // Compose publishes no producer port (they are scaled); the lab publishes each control port on loopback.
        ports: ['9100/tcp'],
      });
      const member: ProducerMember = {
        name,
        baseUrl: '',
        podIds: Array.from({ length: pods }, (_, k) => `${name}-p${k}`),
        handle: container.id,
      };
      this.producers.push({ member, container });
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

  /** One extra producer-binary container on the lab network (a short-lived job, a one-pod serve). */
  async runAux(name: string, args: (a: AuxAddresses) => string[]): Promise<AuxProcess> {
    if (!this.endpoints) throw new LabError('LAB_ERR_CONFIG', 'runAux() before up()');
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
      throw new LabError('LAB_ERR_CONFIG', `runAux: bad name "${name}"`);
    const argv = args({
      http: '0.0.0.0:9100',
      sdDir: '/sd',
      pushgatewayUrl: 'http://pushgateway:9091',
      statsdUdp: 'collector:8125',
    });
    const serve = argv[0] !== 'job';
    const container = await this.startService(
      'producer',
      { Binds: [`${join(this.workDir, 'sd')}:/sd`] },
      true,
      {
        cmd: argv,
        containerName: `pushpull-${this.runId}-aux-${name}`,
        labels: { 'pushpull.aux': name },
        ports: serve ? ['9100/tcp'] : [],
      },
    );
    let baseUrl: string | null = null;
    if (serve) {
      baseUrl = `http://127.0.0.1:${await this.hostPort('producer', '9100/tcp', container)}`;
      await waitHttp(`${baseUrl}/healthz`, 60_000, `${name} /healthz`);
    }
    return {
      name,
      baseUrl,
      stop: async () => {
        await container.stop({ t: 5 }).catch(() => undefined);
      },
      wait: async (timeoutMs: number) => {
        const r = (await withTimeout(container.wait(), timeoutMs, `auxiliary container ${name}`)) as {
          StatusCode?: number;
        };
        const raw = (await container.logs({ stdout: true, stderr: false })) as Buffer;
        return { exitCode: r.StatusCode ?? null, stdout: demuxStdout(raw) };
      },
    };
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
        return;
      case 'heal':
        await net.connect({ Container: p.container.id, EndpointConfig: { Aliases: ['producer'] } });
        await this.republished(p);
        return;
      case 'restart':
        await p.container.restart({ t: 2 });
        await this.republished(p);
        return;
    }
  }

  /**
   * A reconnected or restarted container gets its loopback port published anew, on a new engine-chosen
   * host port (the old one is gone: connections to it are refused). Points the member — the same object
   * the caller holds — at the new port and waits until the producer answers there.
   */
  private async republished(p: { member: ProducerMember; container: Docker.Container }): Promise<void> {
    p.member.baseUrl = `http://127.0.0.1:${await this.hostPort('producer', '9100/tcp', p.container)}`;
    await waitHttp(`${p.member.baseUrl}/healthz`, 60_000, `${p.member.name} /healthz`);
  }

  private all(): { name: string; c: Docker.Container }[] {
    return [
      ...[...this.base].map(([name, c]) => ({ name, c })),
      ...this.producers.map((p) => ({ name: p.member.name, c: p.container })),
    ];
  }

  async cpuSeconds(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    await Promise.all(
      this.all().map(async ({ name, c }) => {
        try {
          const s = (await c.stats({ stream: false })) as {
            cpu_stats?: { cpu_usage?: { total_usage?: number } };
          };
          const ns = s.cpu_stats?.cpu_usage?.total_usage;
          if (typeof ns === 'number') out[name] = ns / 1e9;
        } catch {
          // a removed container has no stats: leave it out rather than report 0
        }
      }),
    );
    return out;
  }

  async dead(): Promise<string[]> {
    const running = await this.docker
      .listContainers({ filters: { label: [`${LAB_LABEL}=${this.runId}`], status: ['running', 'paused'] } })
      .catch(() => null);
    if (!running) return [];
    const ids = new Set(running.map((c) => c.Id));
    return this.all()
      .filter(({ c }) => !ids.has(c.id))
      .map(({ name }) => name);
  }

  describe(): StackState {
    if (!this.endpoints) throw new LabError('LAB_ERR_CONFIG', 'describe() before up()');
    const priv: DockerPrivate = { networkName: this.networkName, withNodeExporter: this.withNodeExporter };
    return {
      kind: 'docker',
      runId: this.runId,
      workDir: this.workDir,
      startedAtMs: this.startedAtMs,
      endpoints: this.endpoints,
      components: Object.fromEntries([...this.base].map(([name, c]) => [name, c.id])),
      members: this.members(),
      producerOptions: this.producerOptions,
      scrapeIntervalMs: this.scrapeIntervalMs,
      private: { ...priv },
    };
  }

  /** Re-attaches to a stack an earlier `up` started (its containers outlive the CLI). */
  restore(state: StackState): void {
    const priv = (state.private ?? {}) as Partial<DockerPrivate>;
    this.runId = state.runId;
    this.workDir = state.workDir;
    this.startedAtMs = state.startedAtMs;
    this.scrapeIntervalMs = state.scrapeIntervalMs;
    this.networkName = priv.networkName ?? `pushpull-${state.runId}`;
    this.withNodeExporter = priv.withNodeExporter ?? state.endpoints.nodeExporterUrl !== null;
    this.producerOptions = state.producerOptions;
    this.endpoints = state.endpoints;
    for (const [name, id] of Object.entries(state.components))
      this.base.set(name, this.docker.getContainer(id));
    for (const m of state.members)
      this.producers.push({ member: m, container: this.docker.getContainer(m.handle) });
  }

  async down(): Promise<void> {
    const runId = this.runId;
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
    await Promise.all(
      containers.map((c) =>
        this.docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
    );
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

export function dockerRuntimeFactory(repoRoot: string): RuntimeFactory {
  return {
    kind: 'docker',
    async available(): Promise<RuntimeAvailability> {
      const rt = new DockerRuntime({ repoRoot });
      try {
        await rt.ping();
      } catch (e) {
        return { ok: false, reason: (e as Error).message };
      }
      const missing = await rt.missingImages();
      if (missing.length > 0)
        return {
          ok: false,
          reason: `Docker engine answers but images are missing (${missing.join(', ')}): run \`bash scripts/airgap-images.sh\``,
        };
      return { ok: true, reason: 'Docker engine reachable, images present' };
    },
    create: () => new DockerRuntime({ repoRoot }),
    async attach(state: StackState): Promise<Runtime> {
      const rt = new DockerRuntime({ repoRoot });
      await rt.ping();
      rt.restore(state);
      return rt;
    },
    reap: (keep) => new DockerRuntime({ repoRoot }).reap(keep),
  };
}

/** Docker multiplexes a non-TTY container's logs in frames: [stream, 0, 0, 0, size(4, BE)] payload. */
export function demuxStdout(buf: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    if (buf[i] === 1) parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
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

async function waitHttp(url: string, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
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
