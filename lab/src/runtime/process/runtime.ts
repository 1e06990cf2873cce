// Process runtime: Prometheus, Pushgateway, node-exporter (optional), the collector and the producer fleet
// as child processes on 127.0.0.1, ports chosen free, data in a temp dir that this runtime owns (created in
// up(), removed in down()). Faults: SIGKILL, SIGSTOP/SIGCONT, restart.
//
// On this runtime node-exporter reads the HOST's network namespace, which is also the collector's: its
// node_netstat_Udp_* counters are the collector's drops, but also any other UDP receiver's on this machine.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { LabError } from '@pushpull/common';
import { paths } from '../../core/paths.ts';
import { abortableSleep, mapLimit, throwIfAborted } from '../../core/time.ts';
import { WORKDIR_PREFIX } from '../../core/workdir.ts';
import { podsForProducer, producerArgs } from '../producer-args.ts';
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
import {
  cpuSecondsOf,
  freePort,
  hasRunMarker,
  isAlive,
  killNow,
  rssBytesOf,
  type SpawnedChild,
  sendSignal,
  spawnChild,
  tail,
  terminate,
  waitForHttp,
  waitForListening,
  which,
} from './children.ts';

export const BINARIES = {
  prometheus: 'prometheus',
  pushgateway: 'prometheus-pushgateway',
  nodeExporter: 'prometheus-node-exporter',
} as const;

/** Debian package names, for "what to install" messages. */
export const APT_PACKAGES = ['prometheus', 'prometheus-pushgateway', 'prometheus-node-exporter'];

const LAB_JSON = 'lab.json';

/** Start-up bounds: generous, the 2 cores are shared. */
const START_TIMEOUT_MS = 60_000;
const PRODUCER_START_CONCURRENCY = 4;

interface ProcessPrivate {
  pids: Record<string, number>;
  collectorStatsd: { udp: string; tcp: string | null };
  sdDir: string;
  persistent: boolean;
  withNodeExporter: boolean;
  producerPods: Record<string, number>;
}

/** What the reaper finds in each work dir. */
interface LabJson {
  runId: string;
  labPid: number;
  persistent: boolean;
  pids: Record<string, number>;
}

interface ProducerProc {
  member: ProducerMember;
  child: SpawnedChild;
  pods: number;
}

const addrToUrl = (hostPort: string) => `http://${hostPort}`;

export class ProcessRuntime implements Runtime {
  readonly kind = 'process' as const;
  private opts: StackOptions | null = null;
  private runId = '';
  private workDir = '';
  private sdDir = '';
  private logDir = '';
  private startedAtMs = 0;
  private persistent = false;
  private withNodeExporter = false;
  private readonly base = new Map<string, SpawnedChild>();
  private readonly producers: ProducerProc[] = [];
  private readonly aux: SpawnedChild[] = [];
  private endpoints: StackEndpoints | null = null;
  private collectorStatsd: { udp: string; tcp: string | null } | null = null;
  private producerOptions: ProducerOptions | null = null;
  private ownsWorkDir = false;
  private log: (m: string) => void = () => {};

  constructor(private readonly root: string) {}

  private writeLabJson(): void {
    if (!this.workDir || !existsSync(this.workDir)) return;
    const pids: Record<string, number> = {};
    for (const [n, c] of this.base) pids[n] = c.pid;
    for (const p of this.producers) pids[p.member.name] = p.child.pid;
    for (const c of this.aux) pids[c.name] = c.pid;
    const j: LabJson = { runId: this.runId, labPid: process.pid, persistent: this.persistent, pids };
    writeFileSync(join(this.workDir, LAB_JSON), `${JSON.stringify(j)}\n`);
  }

  private spawn(name: string, command: string, args: string[]): SpawnedChild {
    const c = spawnChild({
      name,
      command,
      args,
      logDir: this.logDir,
      runId: this.runId,
      cwd: this.root,
      persistent: this.persistent,
    });
    this.writeLabJson();
    return c;
  }

  /** Starts a binary that takes its listen address as a flag, on a free port, retrying on a port race. */
  private async startOnFreePort(
    name: string,
    command: string,
    args: (port: number) => string[],
    readyPath: string,
    signal?: AbortSignal,
  ): Promise<{ child: SpawnedChild; url: string }> {
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      throwIfAborted(signal);
      const port = await freePort();
      const child = this.spawn(name, command, args(port));
      this.base.set(name, child);
      this.writeLabJson();
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitForHttp(child, `${url}${readyPath}`, START_TIMEOUT_MS, signal);
        return { child, url };
      } catch (e) {
        lastErr = e;
        const err = tail(child.stderrPath, 40);
        await terminate(child.pid, 2000);
        if (!/address already in use/i.test(err)) throw e;
        this.log(`${name}: port ${port} was taken meanwhile, retrying`);
      }
    }
    throw lastErr;
  }

  async up(opts: StackOptions): Promise<StackEndpoints> {
    if (this.endpoints) return this.endpoints;
    this.opts = opts;
    this.runId = opts.runId;
    this.workDir = opts.workDir;
    this.persistent = opts.persistent === true;
    this.withNodeExporter = opts.withNodeExporter;
    this.startedAtMs = Date.now();
    this.log = opts.log;
    const p = paths(this.root);
    for (const bin of [BINARIES.prometheus, BINARIES.pushgateway]) {
      if (!which(bin)) throw missingBinaries([bin]);
    }
    if (opts.withNodeExporter && !which(BINARIES.nodeExporter))
      throw missingBinaries([BINARIES.nodeExporter]);
    if (!existsSync(p.collectorMain) || !existsSync(p.producerMain))
      throw new LabError(
        'LAB_ERR_MISSING_BINARY',
        `the service bundles are not built (${!existsSync(p.collectorMain) ? p.collectorMain : p.producerMain} missing): run \`npm run build\``,
      );
    if (!existsSync(this.workDir)) {
      mkdirSync(this.workDir, { recursive: true });
      this.ownsWorkDir = true;
    } else
      this.ownsWorkDir = existsSync(join(this.workDir, LAB_JSON)) || readdirSync(this.workDir).length === 0;
    this.sdDir = join(this.workDir, 'sd');
    this.logDir = join(this.workDir, 'logs');
    mkdirSync(this.sdDir, { recursive: true });
    mkdirSync(this.logDir, { recursive: true });
    mkdirSync(join(this.workDir, 'prometheus-data'), { recursive: true });
    this.writeLabJson();
    const signal = opts.signal;

    // The collector first (Prometheus' config needs its port); pushgateway and node-exporter alongside.
    const collectorStart = (async () => {
      const child = this.spawn('collector', process.execPath, [
        p.collectorMain,
        '--statsd-udp',
        '127.0.0.1:0',
        '--statsd-tcp',
        '127.0.0.1:0',
        '--http',
        '127.0.0.1:0',
      ]);
      this.base.set('collector', child);
      this.writeLabJson();
      const line = await waitForListening(child, START_TIMEOUT_MS, signal);
      const http = String(line.http ?? '');
      const udp = String(line.udp ?? '');
      if (!http || !udp)
        throw new LabError(
          'LAB_ERR_CHILD_EXIT',
          `collector's listening line lacks http/udp: ${JSON.stringify(line)}`,
        );
      this.collectorStatsd = { udp, tcp: typeof line.tcp === 'string' ? line.tcp : null };
      return addrToUrl(http);
    })();
    const pushgatewayStart = this.startOnFreePort(
      'pushgateway',
      BINARIES.pushgateway,
      // Debian's build persists to /var/lib/prometheus/pushgateway.data by default, shared by every run on
      // the machine (groups of earlier runs and other users came back): keep each run's groups in memory.
      (port) => [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file='],
      '/-/ready',
      signal,
    );
    const nodeStart = opts.withNodeExporter
      ? this.startOnFreePort(
          'node-exporter',
          BINARIES.nodeExporter,
          (port) => [
            `--web.listen-address=127.0.0.1:${port}`,
            // Only what the lab reads: the UDP counters (netstat) and a little context. The default set
            // (filesystems, systemd, textfiles, ...) costs CPU on the 2 shared cores at every scrape.
            '--collector.disable-defaults',
            '--collector.netstat',
            '--collector.cpu',
            '--collector.loadavg',
            '--collector.meminfo',
          ],
          '/metrics',
          signal,
        )
      : Promise.resolve(null);
    // allSettled: when one start fails, wait for the others to settle so down() sees every child spawned.
    const settled = await Promise.allSettled([collectorStart, pushgatewayStart, nodeStart]);
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    const collectorUrl = await collectorStart;
    const pushgateway = await pushgatewayStart;
    const node = await nodeStart;

    const derived = (promPort: number) =>
      derivePrometheusConfig(readFileSync(p.prometheusYml, 'utf8'), {
        sourceDir: p.prometheusDir,
        sdDir: this.sdDir,
        scrapeIntervalMs: opts.scrapeIntervalMs,
        jobAddresses: {
          collector: collectorUrl.replace('http://', ''),
          pushgateway: pushgateway.url.replace('http://', ''),
          'node-exporter': node ? node.url.replace('http://', '') : null,
          prometheus: `127.0.0.1:${promPort}`,
        },
        ...(opts.producerScrape ? { producerScrape: opts.producerScrape } : {}),
      });
    const configPath = join(this.workDir, 'prometheus.yml');
    const prom = await this.startOnFreePort(
      'prometheus',
      BINARIES.prometheus,
      (port) => {
        writeFileSync(configPath, derived(port).yaml);
        return [
          `--config.file=${configPath}`,
          `--storage.tsdb.path=${join(this.workDir, 'prometheus-data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--web.enable-lifecycle',
          '--enable-feature=extra-scrape-metrics',
          '--storage.tsdb.retention.time=1d',
          '--log.level=warn',
        ];
      },
      '/-/ready',
      signal,
    );
    this.endpoints = {
      prometheusUrl: prom.url,
      pushgatewayUrl: pushgateway.url,
      collectorHttpUrl: collectorUrl,
      nodeExporterUrl: node ? node.url : null,
    };
    this.writeLabJson();
    return this.endpoints;
  }

  private async startProducer(
    index: number,
    pods: number,
    opts: ProducerOptions,
    signal?: AbortSignal,
  ): Promise<ProducerProc> {
    const p = paths(this.root);
    const name = `producer-${index}`;
    const statsd =
      opts.transport === 'tcp'
        ? (this.collectorStatsd?.tcp ?? this.collectorStatsd?.udp)
        : this.collectorStatsd?.udp;
    if (!statsd) throw new LabError('LAB_ERR_CONFIG', `the collector has no ${opts.transport} listener`);
    const child = this.spawn(name, process.execPath, [
      p.producerMain,
      ...producerArgs(name, pods, opts, statsd, this.sdDir),
    ]);
    const proc: ProducerProc = {
      member: {
        name,
        baseUrl: '',
        podIds: Array.from({ length: pods }, (_, k) => `${name}-p${k}`),
        handle: String(child.pid),
      },
      child,
      pods,
    };
    this.producers.push(proc);
    this.writeLabJson();
    const line = await waitForListening(child, START_TIMEOUT_MS, signal);
    proc.member.baseUrl = addrToUrl(String(line.http));
    // The discovery file is written before "listening"; check it, so a scale is visible to Prometheus
    // within one sd refresh.
    if (!existsSync(join(this.sdDir, `${name}.json`)))
      throw new LabError(
        'LAB_ERR_CHILD_EXIT',
        `${name} started but wrote no discovery file in ${this.sdDir}`,
      );
    return proc;
  }

  async scale(producers: number, opts: ProducerOptions): Promise<ProducerMember[]> {
    if (!this.endpoints) throw new LabError('LAB_ERR_CONFIG', 'scale() before up()');
    if (!Number.isInteger(producers) || producers < 0 || producers > 1000)
      throw new LabError('LAB_ERR_CONFIG', `scale(${producers}): producers must be an integer in [0, 1000]`);
    const signal = this.opts?.signal;
    this.producerOptions = opts;
    // Shrink: stop the last producers (a clean SIGTERM exit removes their discovery files).
    while (this.producers.length > producers) {
      const p = this.producers.pop()!;
      await terminate(p.child.pid);
      rmSync(join(this.sdDir, `${p.member.name}.json`), { force: true });
    }
    // The last producer's pod count may change when the total changes: restart it with the new size.
    const last = this.producers[this.producers.length - 1];
    if (last && this.producers.length === producers) {
      const want = podsForProducer(producers - 1, producers, opts);
      if (want !== last.pods) {
        this.producers.pop();
        await terminate(last.child.pid);
      }
    }
    const from = this.producers.length;
    const indices = Array.from({ length: producers - from }, (_, k) => from + k);
    await mapLimit(indices, PRODUCER_START_CONCURRENCY, async (i) => {
      throwIfAborted(signal);
      await this.startProducer(i, podsForProducer(i, producers, opts), opts, signal);
    });
    this.producers.sort((a, b) => Number(a.member.name.split('-')[1]) - Number(b.member.name.split('-')[1]));
    this.writeLabJson();
    return this.members();
  }

  members(): ProducerMember[] {
    return this.producers.map((p) => p.member);
  }

  async fault(kind: FaultKind, member: ProducerMember): Promise<void> {
    const p = this.producers.find((x) => x.member.name === member.name);
    if (!p) throw new LabError('LAB_ERR_SCENARIO', `no producer named ${member.name}`);
    switch (kind) {
      case 'kill':
        sendSignal(p.child.pid, 'SIGKILL');
        return;
      case 'pause':
        sendSignal(p.child.pid, 'SIGSTOP');
        return;
      case 'resume':
        sendSignal(p.child.pid, 'SIGCONT');
        return;
      case 'restart': {
        await terminate(p.child.pid);
        const opts = this.producerOptions;
        if (!opts) throw new LabError('LAB_ERR_SCENARIO', 'restart before scale()');
        const idx = this.producers.indexOf(p);
        this.producers.splice(idx, 1);
        const n = Number(p.member.name.split('-')[1]);
        const fresh = await this.startProducer(n, p.pods, opts, this.opts?.signal);
        // keep the member object identity stable for callers holding it
        Object.assign(p.member, fresh.member);
        fresh.member = p.member;
        this.producers.sort(
          (a, b) => Number(a.member.name.split('-')[1]) - Number(b.member.name.split('-')[1]),
        );
        return;
      }
      case 'partition':
      case 'heal':
        throw new LabError(
          'LAB_ERR_SCENARIO',
          `fault "${kind}" needs network namespaces: it is supported on the docker runtime only (use --runtime docker)`,
          { kind },
        );
    }
  }

  async cpuSeconds(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, c] of this.base) {
      const s = cpuSecondsOf(c.pid);
      if (s !== null) out[name] = s;
    }
    for (const p of this.producers) {
      const s = cpuSecondsOf(p.child.pid);
      if (s !== null) out[p.member.name] = s;
    }
    return out;
  }

  async rssBytes(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, c] of this.base) {
      const b = rssBytesOf(c.pid);
      if (b !== null) out[name] = b;
    }
    for (const p of this.producers) {
      const b = rssBytesOf(p.child.pid);
      if (b !== null) out[p.member.name] = b;
    }
    return out;
  }

  async dead(): Promise<string[]> {
    const out: string[] = [];
    for (const [name, c] of this.base) if (!isAlive(c.pid)) out.push(name);
    for (const p of this.producers) if (!isAlive(p.child.pid)) out.push(p.member.name);
    return out;
  }

  /** Last lines a component wrote to stderr, else stdout (for error messages). */
  async logs(name: string, lines = 12): Promise<string> {
    const c = this.base.get(name) ?? this.producers.find((p) => p.member.name === name)?.child;
    return c ? tail(c.stderrPath, lines) || tail(c.stdoutPath, lines) : '';
  }

  describe(): StackState {
    if (!this.endpoints) throw new LabError('LAB_ERR_CONFIG', 'describe() before up()');
    const pids: Record<string, number> = {};
    for (const [n, c] of this.base) pids[n] = c.pid;
    const priv: ProcessPrivate = {
      pids,
      collectorStatsd: this.collectorStatsd ?? { udp: '', tcp: null },
      sdDir: this.sdDir,
      persistent: this.persistent,
      withNodeExporter: this.withNodeExporter,
      producerPods: Object.fromEntries(this.producers.map((p) => [p.member.name, p.pods])),
    };
    return {
      kind: 'process',
      runId: this.runId,
      workDir: this.workDir,
      startedAtMs: this.startedAtMs,
      endpoints: this.endpoints,
      components: Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, String(pid)])),
      members: this.members().map((m) => ({ ...m, podIds: [...m.podIds] })),
      producerOptions: this.producerOptions,
      scrapeIntervalMs: this.opts?.scrapeIntervalMs ?? 0,
      private: { ...priv },
    };
  }

  /** Rebuilds the runtime from a StackState written by an earlier invocation (children it did not spawn). */
  restore(state: StackState): void {
    const priv = (state.private ?? {}) as Partial<ProcessPrivate>;
    this.runId = state.runId;
    this.workDir = state.workDir;
    this.sdDir = priv.sdDir ?? join(state.workDir, 'sd');
    this.logDir = join(state.workDir, 'logs');
    this.startedAtMs = state.startedAtMs;
    this.persistent = priv.persistent ?? true;
    this.withNodeExporter = priv.withNodeExporter ?? state.endpoints.nodeExporterUrl !== null;
    this.endpoints = state.endpoints;
    this.collectorStatsd = priv.collectorStatsd ?? null;
    this.producerOptions = state.producerOptions;
    this.ownsWorkDir = existsSync(join(state.workDir, LAB_JSON));
    this.opts = {
      runId: state.runId,
      workDir: state.workDir,
      scrapeIntervalMs: state.scrapeIntervalMs,
      withNodeExporter: this.withNodeExporter,
      log: () => {},
      persistent: this.persistent,
    };
    const adopt = (name: string, pid: number): SpawnedChild => ({
      name,
      // A recycled pid that is not ours must never be signalled: treat it as gone.
      pid: hasRunMarker(pid, state.runId) ? pid : -1,
      proc: null,
      stdoutPath: join(this.logDir, `${name}.out`),
      stderrPath: join(this.logDir, `${name}.err`),
      stdoutOffset: 0,
      exited: null,
    });
    for (const [name, pid] of Object.entries(priv.pids ?? {})) this.base.set(name, adopt(name, pid));
    for (const m of state.members) {
      const pods = priv.producerPods?.[m.name] ?? m.podIds.length;
      this.producers.push({ member: { ...m }, child: adopt(m.name, Number(m.handle)), pods });
    }
  }

  async runAux(name: string, args: (a: AuxAddresses) => string[]): Promise<AuxProcess> {
    if (!this.endpoints || !this.collectorStatsd)
      throw new LabError('LAB_ERR_CONFIG', 'runAux() before up()');
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
      throw new LabError('LAB_ERR_CONFIG', `runAux: bad name "${name}"`);
    const argv = args({
      http: '127.0.0.1:0',
      sdDir: this.sdDir,
      pushgatewayUrl: this.endpoints.pushgatewayUrl,
      statsdUdp: this.collectorStatsd.udp,
    });
    const child = this.spawn(`aux-${name}`, process.execPath, [paths(this.root).producerMain, ...argv]);
    this.aux.push(child);
    this.writeLabJson();
    let baseUrl: string | null = null;
    if (argv[0] !== 'job') {
      const line = await waitForListening(child, START_TIMEOUT_MS, this.opts?.signal);
      baseUrl = typeof line.http === 'string' ? addrToUrl(line.http) : null;
    }
    const stdout = () => {
      try {
        return readFileSync(child.stdoutPath).subarray(child.stdoutOffset).toString('utf8');
      } catch {
        return '';
      }
    };
    return {
      name,
      baseUrl,
      stop: async () => {
        await terminate(child.pid);
      },
      wait: async (timeoutMs: number) => {
        const deadline = Date.now() + timeoutMs;
        for (
          let i = 0;
          i < 100_000 && Date.now() < deadline && child.exited === null && isAlive(child.pid);
          i++
        )
          await abortableSleep(50, this.opts?.signal);
        if (child.exited === null && isAlive(child.pid))
          throw new LabError(
            'LAB_ERR_TIMEOUT',
            `auxiliary process ${name} (pid ${child.pid}) still running after ${timeoutMs} ms`,
            {
              awaited: name,
            },
          );
        // The 'exit' event may trail the process's disappearance by a tick.
        for (let i = 0; i < 20 && child.exited === null && child.proc; i++) await abortableSleep(10);
        return { exitCode: child.exited?.code ?? null, stdout: stdout() };
      },
    };
  }

  /** Best-effort synchronous SIGKILL of everything (second Ctrl-C, process exit). */
  killNow(): void {
    for (const c of this.aux) killNow(c.pid);
    for (const p of this.producers) killNow(p.child.pid);
    for (const c of this.base.values()) killNow(c.pid);
  }

  async down(): Promise<void> {
    // Producers first (they flush and remove their discovery files), then the base stack.
    await Promise.all([
      ...this.aux.map((c) => terminate(c.pid)),
      ...this.producers.map((p) => terminate(p.child.pid)),
    ]);
    this.aux.length = 0;
    this.producers.length = 0;
    await Promise.all([...this.base.values()].map((c) => terminate(c.pid)));
    this.base.clear();
    this.endpoints = null;
    if (this.workDir && this.ownsWorkDir) {
      // Retry: a child that just died may still be closing files in it.
      for (let i = 0; i < 5; i++) {
        try {
          rmSync(this.workDir, { recursive: true, force: true });
          break;
        } catch {
          await abortableSleep(100);
        }
      }
    }
  }
}

function missingBinaries(bins: string[]): LabError {
  return new LabError(
    'LAB_ERR_MISSING_BINARY',
    `${bins.join(', ')} not found on PATH: install with \`sudo bash scripts/setup.sh\` or \`sudo apt-get install ${APT_PACKAGES.join(' ')}\``,
    { binaries: bins },
  );
}

/** Removes work dirs (and their children) of process-runtime runs whose lab process is gone. */
export async function reapProcessRuns(keepRunIds: readonly string[], base = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(base).filter((n) => n.startsWith(WORKDIR_PREFIX));
  } catch {
    return removed;
  }
  for (const dirName of entries.slice(0, 200)) {
    const dir = join(base, dirName);
    let j: LabJson;
    try {
      j = JSON.parse(readFileSync(join(dir, LAB_JSON), 'utf8')) as LabJson;
    } catch {
      continue; // not ours, or half-written: leave it
    }
    if (keepRunIds.includes(j.runId)) continue;
    const mine = Object.entries(j.pids ?? {}).filter(([, pid]) => isAlive(pid) && hasRunMarker(pid, j.runId));
    if (j.persistent) {
      // An `up` stack lives on after its CLI exited; only clean up once nothing of it runs any more.
      if (mine.length > 0) continue;
    } else if (isAlive(j.labPid) && j.labPid !== process.pid) continue; // a burst still running
    for (const [name, pid] of mine) {
      await terminate(pid, 2000);
      removed.push(`${name} (pid ${pid}) of run ${j.runId}`);
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(`temp dir ${basename(dir)}`);
  }
  return removed;
}

export function processRuntimeFactory(repoRoot: string): RuntimeFactory {
  return {
    kind: 'process',
    async available(): Promise<RuntimeAvailability> {
      const missing = [BINARIES.prometheus, BINARIES.pushgateway].filter((b) => !which(b));
      if (missing.length > 0)
        return {
          ok: false,
          reason: `${missing.join(' and ')} not on PATH (install: \`sudo bash scripts/setup.sh\` or \`sudo apt-get install ${APT_PACKAGES.join(' ')}\`)`,
        };
      return {
        ok: true,
        reason: `local binaries: ${[BINARIES.prometheus, BINARIES.pushgateway].map((b) => which(b)).join(', ')}${which(BINARIES.nodeExporter) ? '' : ' (no node-exporter: kernel UDP counters from the collector only)'}`,
      };
    },
    create: () => new ProcessRuntime(repoRoot),
    async attach(state: StackState): Promise<Runtime> {
      const rt = new ProcessRuntime(repoRoot);
      rt.restore(state);
      return rt;
    },
    reap: (keep) => reapProcessRuns(keep),
  };
}
