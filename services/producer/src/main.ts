// pushpull-producer [serve] | job — the only file that reads argv/env and listens.
import {
  describeError,
  type FlagValues,
  formatHelp,
  isLabError,
  jsonLogger,
  LabError,
  parseArgs,
  parseDurationMs,
  skewedClock,
  systemClock,
  TEST_CLOCK_SKEW_ENV,
} from '@pushpull/common';
import {
  flagNamer,
  inputFromFlags,
  JOB_FLAGS,
  type ProducerConfig,
  resolveConfig,
  SERVE_FLAGS,
  testClockSkewMs,
} from './config.ts';
import { runJob, validatePushgatewayUrl } from './job.ts';
import { createProducer } from './producer.ts';

const USAGE = `pushpull-producer [serve] --pods 50 --http 127.0.0.1:9100 --statsd udp://127.0.0.1:8125|otlp://127.0.0.1:4318 [flags]
       pushpull-producer job --duration 8s --pushgateway http://127.0.0.1:9091 --statsd udp://127.0.0.1:8125 --name NAME`;

const log = jsonLogger('producer');

function usageError(e: unknown): never {
  log.error('bad arguments', { code: isLabError(e) ? e.code : undefined, error: describeError(e) });
  process.exit(2);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const command = argv[0] === 'job' || argv[0] === 'serve' ? argv[0] : 'serve';
  const rest = argv[0] === command ? argv.slice(1) : argv;
  const specs = command === 'job' ? JOB_FLAGS : SERVE_FLAGS;
  let flags: FlagValues;
  let config: Partial<ProducerConfig>;
  let durationMs = 0;
  let pushgateway: string | null = null;
  let skewMs = 0;
  try {
    skewMs = testClockSkewMs(process.env);
    const parsed = parseArgs(rest, specs, process.env);
    if (parsed.positionals.length > 0)
      throw new LabError(
        'LAB_ERR_FLAG_UNKNOWN',
        `unexpected argument "${parsed.positionals[0]}"; commands: serve, job`,
      );
    flags = parsed.flags;
    if (flags.help) {
      process.stdout.write(`${formatHelp(USAGE, specs)}\n`);
      process.exit(0);
    }
    config = inputFromFlags(flags);
    if (command === 'job') {
      durationMs = parseDurationMs(String(flags.duration), '--duration');
      pushgateway = flags.pushgateway ? validatePushgatewayUrl(String(flags.pushgateway)) : null;
      resolveConfig({ ...config, pods: 1, sdDir: null }, flagNamer);
    } else {
      resolveConfig(config, flagNamer);
    }
  } catch (e) {
    usageError(e);
  }

  if (command === 'job') {
    log.info('job started', { name: config.name, durationMs, pushgateway });
    const r = await runJob(config, { durationMs, pushgateway }, { logger: log });
    log.info('job done', { pushedTo: r.pushedTo, total: r.ledger.total });
    process.exit(0);
  }

  if (skewMs !== 0)
    log.warn('TEST ONLY: this producer runs with an injected clock skew (its clock is off on purpose)', {
      env: TEST_CLOCK_SKEW_ENV,
      skewMs,
    });
  const producer = createProducer(config, {
    logger: log,
    ...(skewMs !== 0 ? { clock: skewedClock(systemClock, skewMs), testClockSkewMs: skewMs } : {}),
  });
  const { http } = await producer.start();
  log.info('listening', { http, name: producer.config.name, pods: producer.config.pods });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    const hard = setTimeout(() => {
      log.error('stop timed out', { signal });
      process.exit(1);
    }, 10_000);
    hard.unref();
    producer.stop().then(
      () => {
        log.info('stopped', { signal });
        process.exit(0);
      },
      (e) => {
        log.error('stop failed', { error: describeError(e) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((e) => {
  log.error('fatal', { error: describeError(e) });
  process.exit(1);
});
