// `pushpull-lab model`: the seeded burst model. The only file of lab/src/model that touches I/O (io.out/io.err).

import {
  describeError,
  type FlagSpecs,
  formatHelp,
  isLabError,
  LabError,
  parseArgs,
  parseBytes,
  parseDurationMs,
} from '@pushpull/common';
import { type CommandIo, lineIo } from '../../core/io.ts';
import {
  type BurstModelConfig,
  DEFAULT_BURST_CONFIG,
  quotedTableNote,
  runBurstModel,
  toModelJson,
} from '../../model/burst.ts';
import { formatModelTable } from '../../model/format.ts';

export type { CommandIo };

const d = DEFAULT_BURST_CONFIG;

export const MODEL_FLAGS: FlagSpecs = {
  producers: {
    kind: 'int',
    default: d.producers,
    min: 1,
    max: 10_000_000,
    help: 'producers (push) / targets (pull)',
  },
  interval: { kind: 'string', default: '10s', placeholder: 'D', help: 'flush interval per producer' },
  window: { kind: 'string', default: '60s', placeholder: 'D', help: 'wall-clock window binned' },
  packets: {
    kind: 'string',
    default: `${d.packetsPerFlush[0]}-${d.packetsPerFlush[1]}`,
    placeholder: 'LO-HI',
    help: 'packets per flush LO-HI: uniform integer in [LO, HI), like numpy randint(LO, HI)',
  },
  seed: { kind: 'int', default: d.seed, help: 'RNG seed (flush offsets and packet counts)' },
  bin: { kind: 'string', default: '100ms', placeholder: 'D', help: 'bin width' },
  'scrape-interval': {
    kind: 'string',
    placeholder: 'D',
    defaultText: '--interval',
    help: 'pull: scrape interval',
  },
  body: {
    kind: 'string',
    default: '18KiB',
    placeholder: 'SIZE',
    help: 'pull: /metrics body size per target',
  },
  path: {
    kind: 'string',
    choices: ['push', 'pull', 'both'],
    defaultText: 'both for the table, push for --json',
    help: 'what to report',
  },
  json: {
    kind: 'bool',
    default: false,
    help: 'print {"noJitter":{peak,mean,p99},"jitter":{peak,mean,p99},"reduction"} for --path',
  },
  help: { kind: 'bool', default: false, help: 'show this help' },
};

const USAGE =
  'pushpull-lab model [flags]\n' +
  'Seeded model of N producers flushing every T with jitter off/on, binned over a window: peak, mean and\n' +
  'p99 per bin and the peak reduction from jitter (push: packets; pull: scrape bytes).';

function positiveDuration(flag: string, raw: string): number {
  const ms = parseDurationMs(raw, `--${flag}`);
  if (ms < 1) throw new LabError('LAB_ERR_FLAG_VALUE', `--${flag}: "${raw}" must be at least 1ms`);
  return ms;
}

function packetRange(raw: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:-|\.\.|,)\s*(\d+)\s*$/.exec(raw);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || lo < 1 || hi <= lo)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--packets: "${raw}" is not LO-HI with 1 <= LO < HI (e.g. 40-80 = 40..79 packets)`,
    );
  return [lo, hi];
}

/** Flags → validated model config (throws LAB_ERR_FLAG_* naming the flag and value). */
export function modelConfigFromArgs(argv: readonly string[]): {
  config: BurstModelConfig;
  json: boolean;
  path: 'push' | 'pull' | 'both';
  help: boolean;
} {
  const { flags, positionals } = parseArgs(argv, MODEL_FLAGS);
  if (positionals.length > 0)
    throw new LabError('LAB_ERR_FLAG_UNKNOWN', `model: unexpected argument "${positionals[0]}"`);
  const intervalMs = positiveDuration('interval', String(flags.interval));
  const scrapeRaw = flags['scrape-interval'];
  const json = flags.json === true;
  const config: BurstModelConfig = {
    producers: Number(flags.producers),
    intervalMs,
    windowMs: positiveDuration('window', String(flags.window)),
    packetsPerFlush: packetRange(String(flags.packets)),
    binMs: positiveDuration('bin', String(flags.bin)),
    seed: Number(flags.seed),
    scrapeIntervalMs:
      scrapeRaw === undefined ? intervalMs : positiveDuration('scrape-interval', String(scrapeRaw)),
    bodyBytes: parseBytes(String(flags.body), '--body'),
  };
  const path = (flags.path as 'push' | 'pull' | 'both' | undefined) ?? (json ? 'push' : 'both');
  if (json && path === 'both')
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      '--path: "both" has no --json form; use --path push or --path pull',
    );
  return { config, json, path, help: flags.help === true };
}

export async function runModelCommand(argv: string[], rawIo: CommandIo): Promise<number> {
  const io = lineIo(rawIo);
  let parsed: ReturnType<typeof modelConfigFromArgs>;
  try {
    parsed = modelConfigFromArgs(argv);
  } catch (e) {
    io.err(describeError(e));
    io.err('Run "pushpull-lab model --help" for the flags.');
    return isLabError(e) ? 2 : 1;
  }
  if (parsed.help) {
    io.out(formatHelp(USAGE, MODEL_FLAGS));
    return 0;
  }
  let result: ReturnType<typeof runBurstModel>;
  try {
    result = runBurstModel(parsed.config);
  } catch (e) {
    io.err(describeError(e));
    return isLabError(e, 'LAB_ERR_CONFIG') ? 2 : 1;
  }
  if (parsed.json) {
    io.out(JSON.stringify(toModelJson(parsed.path === 'pull' ? result.pull : result.push)));
    // stdout stays one JSON document; the caveat about the quoted table goes to stderr.
    io.err(quotedTableNote());
  } else {
    io.out(formatModelTable(result, parsed.path));
  }
  return 0;
}
