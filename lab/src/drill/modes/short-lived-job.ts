import { LabError, parseDurationMs } from '@pushpull/common';
import { abortableSleep } from '../../core/time.ts';
import { ControlClient } from '../../probe/control.ts';
import { collectorOrdersFor, pct, type Stack } from '../harness.ts';
import type { DrillMode, ModeOutcome } from './types.ts';

// Scenario 3: an 8-second batch job between two scrapes, three ways at once:
//  - pull without a Pushgateway: a one-pod producer registered in discovery that lives for the job's
//    duration — stored only if a scrape happens to land inside its life;
//  - pull via the Pushgateway: `pushpull-producer job` PUTs its final registry; Prometheus scrapes the
//    Pushgateway, and keeps scraping the last value long after the job is gone (push_time_seconds ages);
//  - push: the same job's StatsD lines, counted by the collector as they arrive.

const JOB_LINE = /"msg":"job done".*"total":(\{[^}]*\})/;

async function run(stack: Stack): Promise<ModeOutcome> {
  const { scenario: s, runtime, prom, deps } = stack;
  if (!runtime.runAux)
    throw new LabError('LAB_ERR_CONFIG', `${runtime.kind} runtime cannot start auxiliary processes`);
  const out: ModeOutcome = { cells: [], metrics: {}, series: { pushgatewayAgeS: [] }, notes: [] };
  const jobMs = parseDurationMs(String(s.params.jobDuration ?? '8s'), 'params.jobDuration');
  const jobName = 'batch-job';

  // Both start together: the served one-pod "job" (pull, no Pushgateway) and the real job command.
  const served = await runtime.runAux('job-served', (a) => [
    'serve',
    '--name',
    'job-served',
    '--pods',
    '1',
    '--http',
    a.http,
    '--statsd',
    `udp://${a.statsdUdp}`,
    '--push-mode',
    'off',
    '--sd-dir',
    a.sdDir,
    '--heartbeat',
    'off',
  ]);
  const batch = await runtime.runAux(jobName, (a) => [
    'job',
    '--name',
    jobName,
    '--duration',
    `${jobMs}ms`,
    '--pushgateway',
    a.pushgatewayUrl,
    '--statsd',
    `udp://${a.statsdUdp}`,
    '--heartbeat',
    'off',
  ]);
  const tStart = Date.now();
  await abortableSleep(jobMs, deps.signal);
  const servedLedger = served.baseUrl ? await new ControlClient(served.baseUrl).quiesce(deps.signal) : null;
  await served.stop();
  const done = await batch.wait(jobMs + 30_000);
  const m = JOB_LINE.exec(done.stdout);
  if (done.exitCode !== 0 || !m)
    throw new LabError('LAB_ERR_CHILD_EXIT', `batch job exited ${done.exitCode}: ${done.stdout.slice(-400)}`);
  const jobTotal = JSON.parse(m[1]!) as { orders: number; ordersPushed: number };

  // Let Prometheus scrape the Pushgateway (and miss or catch the served pod) for the observation window.
  let pgValue: number | null = null;
  for (let i = 0; i < 10_000 && Date.now() - tStart < s.observeMs; i++) {
    const age = await prom.scalar(`time() - push_time_seconds{job="${jobName}"}`).catch(() => null);
    if (age !== null) out.series.pushgatewayAgeS!.push([(Date.now() - tStart) / 1000, age]);
    pgValue = (await prom.scalar(`sum(orders_total{job="${jobName}"})`).catch(() => null)) ?? pgValue;
    await abortableSleep(1000, deps.signal);
  }
  const age = await prom.scalar(`time() - push_time_seconds{job="${jobName}"}`).catch(() => null);
  const servedStored =
    (await prom
      .scalar(`sum(max_over_time(orders_total{job="producers",container="job-served"}[10m]))`)
      .catch(() => null)) ?? 0;
  const servedScrapes =
    (await prom
      .scalar(`sum(count_over_time(up{job="producers",container="job-served"}[10m]))`)
      .catch(() => null)) ?? 0;
  const servedOrders = servedLedger?.total.orders ?? 0;
  const pushed = await collectorOrdersFor(stack.endpoints.collectorHttpUrl, new Set([`${jobName}-p0`]));

  out.metrics.servedScrapes = servedScrapes;
  out.metrics.pushgatewayAgeAtEndS = age ?? -1;
  out.cells.push(
    {
      column: 'pull',
      variant: 'no-pushgateway',
      detectedAfterS: null,
      detectable: false,
      signal:
        servedScrapes > 0 ? `scraped ${servedScrapes}× in its life` : 'never scraped: nothing to alert on',
      lostCount: Math.max(0, servedOrders - servedStored),
      lostPct: pct(Math.max(0, servedOrders - servedStored), servedOrders),
      detail: `${servedOrders} orders in ${jobMs / 1000} s, ${servedStored} stored (scrape interval ${s.scrapeIntervalMs / 1000} s)`,
    },
    {
      column: 'pull',
      variant: 'pushgateway',
      detectedAfterS: null,
      detectable: false,
      signal:
        age !== null
          ? `captured; the group then goes stale: last value still served ${Math.round(age)} s after the push`
          : 'not captured',
      lostCount: Math.max(0, jobTotal.orders - (pgValue ?? 0)),
      lostPct: pct(Math.max(0, jobTotal.orders - (pgValue ?? 0)), jobTotal.orders),
      detail: `job generated ${jobTotal.orders}, Prometheus stores ${pgValue ?? 0} via the Pushgateway (push_time_seconds age ${age === null ? 'n/a' : `${Math.round(age)} s`})`,
    },
    {
      column: 'push-udp',
      variant: 'statsd',
      detectedAfterS: null,
      detectable: false,
      signal: 'captured as it happened (collector counts)',
      lostCount: Math.max(0, jobTotal.ordersPushed - pushed),
      lostPct: pct(Math.max(0, jobTotal.ordersPushed - pushed), jobTotal.ordersPushed),
      detail: `${jobTotal.ordersPushed} pushed, ${pushed} counted by the collector`,
    },
  );
  return out;
}

export const shortLivedJob: DrillMode = { run };
