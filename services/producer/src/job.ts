import { type Clock, LabError, type Logger, silentLogger, systemClock } from '@pushpull/common';
import { Pushgateway } from 'prom-client';
import { type ProducerConfig, resolveConfig } from './config.ts';
import { ProducerCore } from './core.ts';
import type { Ledger } from './ledger.ts';

// `pushpull-producer job`: a short-lived batch job. One pod's workload runs for --duration (pushing over
// StatsD as configured), then the push buffers are flushed and the pod's final registry is PUT to the
// Pushgateway under the grouping key job=<name>. Nothing listens.

export interface JobOptions {
  durationMs: number;
  /** http(s)://host:port of a Pushgateway, or null to skip it. */
  pushgateway: string | null;
}

export interface JobResult {
  ledger: Ledger;
  pushedTo: string | null;
}

export function validatePushgatewayUrl(text: string, field = '--pushgateway'): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new LabError('LAB_ERR_CONFIG', `${field}: "${text}" is not a URL (e.g. http://127.0.0.1:9091)`, {
      field,
    });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new LabError('LAB_ERR_CONFIG', `${field}: "${text}" is not an http(s) URL`, { field });
  return text;
}

export async function runJob(
  config: Partial<ProducerConfig>,
  opts: JobOptions,
  deps: { clock?: Clock; logger?: Logger } = {},
): Promise<JobResult> {
  const cfg = resolveConfig({ ...config, pods: 1, sdDir: null, processMetrics: false });
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const core = new ProducerCore(cfg, clock, logger);
  await core.open();
  const ticks = Math.max(1, Math.ceil(opts.durationMs / cfg.tickMs));
  const end = clock.now() + opts.durationMs;
  try {
    for (let i = 0; i < ticks && clock.now() < end; i++) {
      core.tick();
      await new Promise((r) => setTimeout(r, Math.min(cfg.tickMs, Math.max(0, end - clock.now()))));
    }
    core.tick();
    const ledger = await core.quiesce();
    let pushedTo: string | null = null;
    if (opts.pushgateway !== null) {
      const reg = core.pod(core.podIds[0]!)!;
      const gw = new Pushgateway(opts.pushgateway, { timeout: 10_000 }, reg.registry);
      await gw.push({ jobName: cfg.name });
      pushedTo = opts.pushgateway;
    }
    return { ledger, pushedTo };
  } finally {
    await core.close();
  }
}
