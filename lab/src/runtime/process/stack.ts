import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '@pushpull/common';
import { paths } from '../../core/paths.ts';
import { throwIfAborted } from '../../core/time.ts';
import { derivePrometheusConfig } from '../prometheus-config.ts';
import type { StackEndpoints, StackOptions } from '../types.ts';
import { BINARIES } from './binaries.ts';
import { freePort, type SpawnedChild, tail, terminate, waitForHttp, waitForListening } from './children.ts';
import { addrToUrl, LAB_JSON, type ProcessStack, START_TIMEOUT_MS, spawnIn, writeLabJson } from './state.ts';

// The base stack on 127.0.0.1: the collector, Pushgateway and node-exporter (optional) side by side, then
// Prometheus, whose derived config needs their ports.

type Paths = ReturnType<typeof paths>;

interface Started {
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
  // The collector first (Prometheus' config needs its port); pushgateway and node-exporter alongside.
  const collectorStart = startCollector(s, p, opts.collectorFlags ?? [], signal);
  const pushgatewayStart = startPushgateway(s, signal);
  const nodeStart = opts.withNodeExporter ? startNodeExporter(s, signal) : Promise.resolve(null);
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
  const prom = await startPrometheus(s, p, opts, jobAddresses);
  return {
    prometheusUrl: prom.url,
    pushgatewayUrl: pushgateway.url,
    collectorHttpUrl: collectorUrl,
    nodeExporterUrl: node ? node.url : null,
  };
}

/** The collector binds port 0 everywhere and reports what it got on its "listening" line. */
async function startCollector(
  s: ProcessStack,
  p: Paths,
  extraFlags: readonly string[],
  signal?: AbortSignal,
): Promise<string> {
  const listen = ['--statsd-udp', '--statsd-tcp', '--http', '--otlp-http'].flatMap((f) => [f, '127.0.0.1:0']);
  const child = spawnIn(s, 'collector', process.execPath, [p.collectorMain, ...listen, ...extraFlags]);
  s.base.set('collector', child);
  writeLabJson(s);
  const line = await waitForListening(child, START_TIMEOUT_MS, signal);
  const http = String(line.http ?? '');
  const udp = String(line.udp ?? '');
  if (!http || !udp)
    throw new LabError(
      'LAB_ERR_CHILD_EXIT',
      `collector's listening line lacks http/udp: ${JSON.stringify(line)}`,
    );
  s.collectorStatsd = {
    udp,
    tcp: typeof line.tcp === 'string' ? line.tcp : null,
    otlp: typeof line.otlp === 'string' ? line.otlp : null,
  };
  return addrToUrl(http);
}

function startPushgateway(s: ProcessStack, signal?: AbortSignal): Promise<Started> {
  return startOnFreePort(
    s,
    'pushgateway',
    BINARIES.pushgateway,
    // Debian's build persists to /var/lib/prometheus/pushgateway.data by default, shared by every run on
    // the machine (groups of earlier runs and other users came back): keep each run's groups in memory.
    (port) => [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file='],
    '/-/ready',
    signal,
  );
}

function startNodeExporter(s: ProcessStack, signal?: AbortSignal): Promise<Started> {
  return startOnFreePort(
    s,
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
  );
}

/** Prometheus with a config derived for this run; rewritten per attempt (its own port is a scrape target). */
function startPrometheus(
  s: ProcessStack,
  p: Paths,
  opts: StackOptions,
  jobAddresses: Record<string, string | null>,
): Promise<Started> {
  const derived = (promPort: number) =>
    derivePrometheusConfig(readFileSync(p.prometheusYml, 'utf8'), {
      sourceDir: p.prometheusDir,
      sdDir: s.sdDir,
      scrapeIntervalMs: opts.scrapeIntervalMs,
      jobAddresses: { ...jobAddresses, prometheus: `127.0.0.1:${promPort}` },
      ...(opts.producerScrape ? { producerScrape: opts.producerScrape } : {}),
    });
  const configPath = join(s.workDir, 'prometheus.yml');
  return startOnFreePort(
    s,
    'prometheus',
    BINARIES.prometheus,
    (port) => {
      writeFileSync(configPath, derived(port).yaml);
      return [
        `--config.file=${configPath}`,
        `--storage.tsdb.path=${join(s.workDir, 'prometheus-data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--enable-feature=extra-scrape-metrics',
        '--storage.tsdb.retention.time=1d',
        '--log.level=warn',
      ];
    },
    '/-/ready',
    opts.signal,
  );
}

/** Starts a binary that takes its listen address as a flag, on a free port, retrying on a port race. */
async function startOnFreePort(
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
