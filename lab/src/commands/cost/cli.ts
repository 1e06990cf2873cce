// `pushpull-lab cost`: per-event cost of pull (prom-client) vs push (hot-shots; the OpenTelemetry SDK over
// OTLP/HTTP) against a real collector on loopback. I/O lives here and in collector/pull/push/http; run.ts only orchestrates.

import {
  describeError,
  type FlagSpecs,
  formatHelp,
  isLabError,
  LabError,
  parseArgs,
  parseBytes,
  parseDurationMs,
  systemClock,
} from '@pushpull/common';
import { type CommandIo, lineIo } from '../../core/io.ts';
import { type CollectorKind, readCollectorCounts, startCollector } from '../../cost/collector.ts';
import { formatCostTable } from '../../cost/format.ts';
import { type CostOptions, DEFAULT_COST_OPTIONS, runCostExperiment } from '../../cost/run.ts';

export type { CommandIo };

const d = DEFAULT_COST_OPTIONS;

export const COST_FLAGS: FlagSpecs = {
  events: {
    kind: 'int',
    default: d.events,
    min: 1,
    max: 1_000_000,
    help: 'checkout events per path and repeat',
  },
  repeats: {
    kind: 'int',
    default: d.repeats,
    min: 1,
    max: 100,
    help: 'timed warm runs; the headline timings are their medians',
  },
  warmup: {
    kind: 'int',
    default: d.warmup,
    min: 0,
    max: 1_000_000,
    help: 'untimed events per path between the cold run and the warm runs',
  },
  seed: { kind: 'int', default: d.seed, help: 'seed for the events’ labels' },
  'default-metrics': {
    kind: 'bool',
    default: d.defaultMetrics,
    help: 'register prom-client default process metrics in the pull registry',
  },
  collector: {
    kind: 'string',
    default: 'inproc',
    choices: ['inproc', 'spawn'],
    help: 'inproc: createCollector in this process; spawn: node services/collector/dist/main.js',
  },
  'collector-bin': {
    kind: 'string',
    placeholder: 'PATH',
    defaultText: 'services/collector/dist/main.js, found upwards',
    help: 'collector binary for --collector spawn',
  },
  rcvbuf: {
    kind: 'string',
    placeholder: 'SIZE',
    defaultText: 'the collector’s 8MiB',
    help: 'collector UDP receive buffer to request, e.g. 8MiB, or 0 for the kernel default',
  },
  settle: {
    kind: 'string',
    default: '5s',
    placeholder: 'D',
    help: 'max wait per mode for the collector to count what was sent; the OTLP exporter’s request timeout',
  },
  json: { kind: 'bool', default: false, help: 'print the report as JSON' },
  help: { kind: 'bool', default: false, help: 'show this help' },
};

const USAGE =
  'pushpull-lab cost [flags]\n' +
  'The same checkout events recorded in-process with prom-client (pull) and sent with hot-shots (push: one\n' +
  'datagram per event, buffered, aggregated) to a real collector on 127.0.0.1: p99 per-event cost, the ratio,\n' +
  'one scrape of the pull registry, datagrams received of sent. Plus the OpenTelemetry SDK (counter.add) with\n' +
  'one OTLP/HTTP export per run to the same collector: record cost, export cost, points accepted of exported.';

export async function runCostCommand(argv: string[], rawIo: CommandIo): Promise<number> {
  const io = lineIo(rawIo);
  let opts: CostOptions;
  let kind: CollectorKind;
  let bin: string | undefined;
  let rcvbuf: string | undefined;
  let json: boolean;
  try {
    const { flags, positionals } = parseArgs(argv, COST_FLAGS);
    if (positionals.length > 0)
      throw new LabError('LAB_ERR_FLAG_UNKNOWN', `cost: unexpected argument "${positionals[0]}"`);
    if (flags.help === true) {
      io.out(formatHelp(USAGE, COST_FLAGS));
      return 0;
    }
    const settleTimeoutMs = parseDurationMs(String(flags.settle), '--settle');
    if (settleTimeoutMs < 1 || settleTimeoutMs > 600_000)
      throw new LabError('LAB_ERR_FLAG_VALUE', `--settle: "${flags.settle}" must be between 1ms and 10m`);
    opts = {
      events: Number(flags.events),
      repeats: Number(flags.repeats),
      warmup: Number(flags.warmup),
      seed: Number(flags.seed),
      defaultMetrics: flags['default-metrics'] === true,
      settleTimeoutMs,
    };
    kind = flags.collector as CollectorKind;
    bin = flags['collector-bin'] === undefined ? undefined : String(flags['collector-bin']);
    if (flags.rcvbuf !== undefined) {
      rcvbuf = String(flags.rcvbuf);
      parseBytes(rcvbuf, '--rcvbuf');
    }
    json = flags.json === true;
  } catch (e) {
    io.err(describeError(e));
    io.err('Run "pushpull-lab cost --help" for the flags.');
    return isLabError(e) ? 2 : 1;
  }

  let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
  try {
    collector = await startCollector(kind, { bin, rcvbuf });
    const report = await runCostExperiment(opts, {
      clock: systemClock,
      collector,
      readCounts: readCollectorCounts,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      log: json ? undefined : (m) => io.err(m),
    });
    io.out(json ? JSON.stringify(report, null, 2) : formatCostTable(report));
    return 0;
  } catch (e) {
    io.err(describeError(e));
    return 1;
  } finally {
    await collector?.stop();
  }
}
