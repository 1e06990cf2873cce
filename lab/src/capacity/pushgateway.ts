import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostMemory } from '../core/host.ts';
import { newWorkDir, removeWorkDir } from '../core/workdir.ts';
import { PromClient } from '../probe/prom.ts';
import type { Runtime } from '../runtime/types.ts';
import { judgePushStep } from './criteria.ts';
import type { CapacityConfig } from './flags.ts';
import { searchOptions } from './options.ts';
import { type PushStepResult, prepareGateway, pushStep } from './pusher.ts';
import {
  type Clock,
  type SearchOptions,
  type SearchResult,
  type SearchState,
  searchCapacity,
  type TrialOutcome,
} from './search.ts';
import { type TrialDeps, trialDirName } from './trial.ts';

// The Pushgateway as central ingest: one stack (the runtime's real Pushgateway; no producers), the pusher
// at one rate per step, the rate searched like the pods of the burst paths. Each step keeps its own
// step.json under --out. The stack is reused across the steps and torn down at the end, also on Ctrl-C;
// every step starts from the same state (all groups stored, the last step's backlog worked off: pusher.ts
// prepareGateway), so a failed step cannot fail the ones after it.

/** Mean cores per component over a step, from the runtime's cumulative CPU seconds. */
function coresBetween(a: Record<string, number>, b: Record<string, number>, ms: number) {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b))
    if (a[k] !== undefined) out[`cores.${k}`] = Math.round(((v - a[k]!) / (ms / 1000)) * 1000) / 1000;
  return out;
}

/**
 * What a push costs the Pushgateway: its CPU per push answered, and that per stored series (all groups are
 * stored through every step) — the consistency check compares each push against everything it holds.
 */
export function pushCost(
  cores: number | undefined,
  achievedPerSec: number,
  storedSeries: number,
): { cpuUsPerPush: number | null; cpuNsPerPushPerStoredSeries: number | null } {
  if (cores === undefined || !(achievedPerSec > 0) || !(storedSeries > 0))
    return { cpuUsPerPush: null, cpuNsPerPushPerStoredSeries: null };
  const us = (cores * 1e6) / achievedPerSec;
  return {
    cpuUsPerPush: Math.round(us * 10) / 10,
    cpuNsPerPushPerStoredSeries: Math.round(((us * 1000) / storedSeries) * 100) / 100,
  };
}

/** The step's figures a trial keeps (charts, the terminal table), with what a push cost per stored series. */
function stepMetrics(r: PushStepResult, c: CapacityConfig, cores: Record<string, number>) {
  const storedSeries = c.pushgateway.groups * c.pushgateway.seriesPerGroup;
  return {
    ...cores,
    storedSeries,
    ...pushCost(cores['cores.pushgateway'], r.achievedPerSec, storedSeries),
    achievedPerSec: r.achievedPerSec,
    latencyP50S: r.latencyP50S,
    latencyP99S: r.latencyP99S,
    errors: r.errors,
    pusherCores: r.pusherCores,
    unsentPct: Math.round(r.unsentPct * 10) / 10,
  };
}

async function stepTrial(
  c: CapacityConfig,
  rt: Runtime,
  url: string,
  prom: PromClient,
  rate: number,
  n: number,
  seed: boolean,
  outDir: string,
  deadlineMs: number,
  signal: AbortSignal,
): Promise<TrialOutcome> {
  const dir = trialDirName(n, 'pushgateway', rate);
  const ctl = new AbortController();
  const onParent = () => ctl.abort(signal.reason);
  signal.addEventListener('abort', onParent, { once: true });
  const timer = setTimeout(() => ctl.abort(), Math.max(0, deadlineMs - Date.now()));
  const memBefore = hostMemory()?.availableBytes ?? null;
  try {
    // The same start for every step: all groups stored, the previous step's backlog worked off.
    const prep = await prepareGateway({
      url,
      groups: c.pushgateway.groups,
      seriesPerGroup: c.pushgateway.seriesPerGroup,
      seed,
      settleMs: 1000,
      maxMs: 60_000,
      signal: ctl.signal,
    });
    const cpu0 = await rt.cpuSeconds().catch(() => ({}));
    const t0 = Date.now();
    const r = await pushStep({
      url,
      ratePerSec: rate,
      durationMs: c.pushgateway.stepMs,
      groups: c.pushgateway.groups,
      seriesPerGroup: c.pushgateway.seriesPerGroup,
      maxInFlight: 256,
      scrapeEveryMs: Math.max(1000, Math.min(5000, c.scrapeIntervalMs)),
      signal: ctl.signal,
    });
    const ms = Date.now() - t0;
    const cores = coresBetween(cpu0, await rt.cpuSeconds().catch(() => ({})), ms);
    // Prometheus' own scrapes of the Pushgateway during the step (the scrape the criterion is about).
    const promScrapeMaxS = await prom
      .scalar(`max_over_time(scrape_duration_seconds{job="pushgateway"}[${Math.ceil(ms / 1000)}s])`)
      .catch(() => null);
    const memAfter = hostMemory()?.availableBytes ?? null;
    const hostMemMinBytes =
      memBefore === null || memAfter === null ? (memBefore ?? memAfter) : Math.min(memBefore, memAfter);
    const scrapeMaxS = Math.max(r.scrapeMaxS ?? 0, promScrapeMaxS ?? 0) || null;
    const timeoutS = Math.min(10, c.scrapeIntervalMs / 1000);
    mkdirSync(join(outDir, dir), { recursive: true });
    const step = {
      schema: 'pushpull-lab/pushgateway-step@1',
      ...r,
      prepare: prep,
      promScrapeMaxS,
      hostMemMinBytes,
      cores,
    };
    writeFileSync(join(outDir, dir, 'step.json'), `${JSON.stringify(step, null, 1)}\n`);
    const verdict = judgePushStep({ ...r, scrapeMaxS, hostMemMinBytes }, c.criteria, timeoutS);
    return {
      load: rate,
      ...verdict,
      aborted: ctl.signal.aborted,
      record: join(dir, 'step.json'),
      metrics: { ...stepMetrics(r, c, cores), scrapeMaxS, scrapeTimeoutS: timeoutS },
    };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onParent);
  }
}

/** The Pushgateway path's search over push rates, on one stack. */
export async function pushgatewaySearch(
  c: CapacityConfig,
  outDir: string,
  deadlineMs: number,
  deps: TrialDeps & {
    clock: Clock;
    trialNo: () => number;
    beforeTrial?: (load: number) => void;
    onTrial?: (t: TrialOutcome, s: SearchState, o: SearchOptions) => void;
  },
): Promise<SearchResult> {
  const runId = `capacity-pgw-${Date.now().toString(36)}`;
  const workDir = newWorkDir(runId);
  const rt = deps.factory.create();
  deps.onRuntime?.(rt, workDir);
  try {
    const endpoints = await rt.up({
      runId,
      workDir,
      scrapeIntervalMs: c.scrapeIntervalMs,
      withNodeExporter: false,
      producerScrape: { off: true },
      ...(c.pushgateway.consistencyCheck ? {} : { pushgatewayFlags: ['--push.disable-consistency-check'] }),
      log: deps.log,
      persistent: false,
      signal: deps.signal,
    });
    const prom = new PromClient(endpoints.prometheusUrl, 10_000);
    let seeded = false;
    const o: SearchOptions = searchOptions(c, 'pushgateway', deadlineMs);
    return await searchCapacity(
      o,
      (rate) => {
        deps.beforeTrial?.(rate);
        const seed = !seeded;
        seeded = true;
        return stepTrial(
          c,
          rt,
          endpoints.pushgatewayUrl,
          prom,
          rate,
          deps.trialNo(),
          seed,
          outDir,
          deadlineMs,
          deps.signal,
        );
      },
      deps.clock,
      (t, s) => deps.onTrial?.(t, s, o),
    );
  } finally {
    await rt.down().catch((e: Error) => deps.log(`teardown: ${e.message}`));
    removeWorkDir(workDir);
  }
}
