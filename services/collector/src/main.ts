import { describeError, formatHelp, isLabError, jsonLogger, parseArgs } from '@pushpull/common';
import { createCollector } from './collector.ts';
import { flagSpecs, inputFromFlags } from './config.ts';

// The only file that reads argv/env and listens. Exit codes: 0 clean stop, 2 bad flags, 1 anything else.

const USAGE =
  'pushpull-collector [--statsd-udp H:P] [--statsd-tcp H:P|off] [--http H:P] [--otlp-http H:P|off] [flags]\n' +
  'StatsD/DogStatsD (and OTLP/HTTP metrics) collector: aggregates what it receives and exposes it at GET /metrics for Prometheus.';

async function main(): Promise<void> {
  const log = jsonLogger('collector');
  const specs = flagSpecs();
  let collector: ReturnType<typeof createCollector>;
  try {
    const { flags, positionals } = parseArgs(process.argv.slice(2), specs, process.env);
    if (flags.help === true) {
      process.stdout.write(`${formatHelp(USAGE, specs)}\n`);
      return;
    }
    if (positionals.length > 0) {
      process.stderr.write(
        `LAB_ERR_FLAG_UNKNOWN: unexpected argument "${positionals[0]}" (flags are --long-form)\n`,
      );
      process.exit(2);
    }
    collector = createCollector(inputFromFlags(flags), { logger: log });
  } catch (e) {
    process.stderr.write(`${describeError(e)}\n`);
    process.exit(isLabError(e) ? 2 : 1);
  }

  // Signal handlers first, so a SIGTERM that races the "listening" line is never the default (kill) action.
  let signalled = false;
  let starting: Promise<unknown> = Promise.resolve();
  const shutdown = (signal: string): void => {
    if (signalled) return;
    signalled = true;
    // Never hang on exit: if closing takes longer than 10 s, leave anyway (non-zero: something stuck).
    setTimeout(() => {
      log.error('stop timed out', { signal });
      process.exit(1);
    }, 10_000).unref();
    starting
      .catch(() => {})
      .then(() => collector.stop())
      .then(() => process.exit(0))
      .catch((e) => {
        log.error('stop failed', { error: describeError(e) });
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  let addrs: Awaited<ReturnType<typeof collector.start>>;
  try {
    starting = collector.start();
    addrs = (await starting) as typeof addrs;
  } catch (e) {
    process.stderr.write(`${describeError(e)}\n`);
    process.exit(1);
  }
  if (signalled) return;
  log.info('listening', {
    udp: addrs.udp,
    tcp: addrs.tcp,
    http: addrs.http,
    otlp: addrs.otlp,
    mode: collector.config.mode,
    forward: collector.config.forwardOtlp,
    rcvbufRequested: addrs.rcvbufRequested,
    rcvbufGranted: addrs.rcvbufGranted,
    rcvbufKernel: addrs.rcvbufKernel,
  });
}

main().catch((e) => {
  process.stderr.write(`${describeError(e)}\n`);
  process.exit(1);
});
