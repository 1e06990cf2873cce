import { LabError, parseDurationMs, renderProducerArgs } from '@pushpull/common';
import { abortableSleep } from '../../core/time.ts';
import { ControlClient } from '../../probe/control.ts';
import type { AuxAddresses, Runtime } from '../../runtime/types.ts';
import type { Cell } from '../grid.ts';
import { collectorOrdersFor, pct, type Stack } from '../harness.ts';
import type { Scenario } from '../scenario.ts';
import { runOtlpJobs } from './otlp-job.ts';
import type { DrillMode, ModeOutcome } from './types.ts';

// Scenario 3: an 8-second batch job between two scrapes, three ways at once:
//  - pull without a Pushgateway: a one-pod producer registered in discovery that lives for the job's
//    duration — stored only if a scrape happens to land inside its life;
//  - pull via the Pushgateway: `pushpull-producer job` PUTs its final registry; Prometheus scrapes the
//    Pushgateway, and keeps scraping the last value long after the job is gone (push_time_seconds ages);
//  - push: the same job's StatsD lines, counted by the collector as they arrive.
// A push-otlp variant runs the OTLP job instead (otlp-job.ts): exports at shutdown vs killed before its first.

const JOB_LINE = /"msg":"job done".*"total":(\{[^}]*\})/;
const JOB_NAME = 'batch-job';

type RunAux = NonNullable<Runtime['runAux']>;

/** What the job itself reported on exit (its "job done" line). */
interface JobTotal {
  orders: number;
  ordersPushed: number;
}

/** What each path delivered once the observation window is over. */
interface Delivered {
  /** Pushgateway: the last `orders_total` Prometheus held for the job, null if never. */
  pgValue: number | null;
  /** Seconds since the job's push (`push_time_seconds`) at the end, null if not captured. */
  pgAgeS: number | null;
  servedStored: number;
  servedScrapes: number;
  pushed: number;
}

function auxRunner(runtime: Runtime): RunAux {
  if (!runtime.runAux)
    throw new LabError('LAB_ERR_CONFIG', `${runtime.kind} runtime cannot start auxiliary processes`);
  return runtime.runAux.bind(runtime);
}

/** A one-pod producer in discovery that only serves /metrics: pull without a Pushgateway. */
const servedArgs = (a: AuxAddresses) => [
  'serve',
  ...renderProducerArgs({
    name: 'job-served',
    pods: 1,
    http: a.http,
    statsd: `udp://${a.statsdUdp}`,
    pushMode: 'off',
    sdDir: a.sdDir,
    heartbeat: 0,
  }),
];

/** The real batch job: pushes StatsD while it runs and PUTs its registry to the Pushgateway at the end. */
const jobArgs = (jobMs: number) => (a: AuxAddresses) => [
  'job',
  ...renderProducerArgs({
    name: JOB_NAME,
    duration: jobMs,
    pushgateway: a.pushgatewayUrl,
    statsd: `udp://${a.statsdUdp}`,
    heartbeat: 0,
  }),
];

function jobTotal(done: { exitCode: number | null; stdout: string }): JobTotal {
  const m = JOB_LINE.exec(done.stdout);
  if (done.exitCode !== 0 || !m)
    throw new LabError('LAB_ERR_CHILD_EXIT', `batch job exited ${done.exitCode}: ${done.stdout.slice(-400)}`);
  return JSON.parse(m[1]!) as JobTotal;
}

/** Both start together; the served pod is stopped after the job's duration, the job waited for. */
async function runJobs(
  stack: Stack,
  runAux: RunAux,
  jobMs: number,
): Promise<{ tStart: number; servedOrders: number; job: JobTotal }> {
  const { deps } = stack;
  const served = await runAux('job-served', servedArgs);
  const batch = await runAux(JOB_NAME, jobArgs(jobMs));
  const tStart = Date.now();
  await abortableSleep(jobMs, deps.signal);
  const servedLedger = served.baseUrl ? await new ControlClient(served.baseUrl).quiesce(deps.signal) : null;
  await served.stop();
  const job = jobTotal(await batch.wait(jobMs + 30_000));
  return { tStart, servedOrders: servedLedger?.total.orders ?? 0, job };
}

/** Lets Prometheus scrape the Pushgateway (and miss or catch the served pod) for the observation window. */
async function watchPushgateway(
  stack: Stack,
  tStart: number,
  ageSeries: [number, number][],
): Promise<number | null> {
  const { scenario: s, prom, deps } = stack;
  let pgValue: number | null = null;
  for (let i = 0; i < 10_000 && Date.now() - tStart < s.observeMs; i++) {
    const age = await prom.scalar(`time() - push_time_seconds{job="${JOB_NAME}"}`).catch(() => null);
    if (age !== null) ageSeries.push([(Date.now() - tStart) / 1000, age]);
    pgValue = (await prom.scalar(`sum(orders_total{job="${JOB_NAME}"})`).catch(() => null)) ?? pgValue;
    await abortableSleep(1000, deps.signal);
  }
  return pgValue;
}

async function delivered(stack: Stack, pgValue: number | null): Promise<Delivered> {
  const { prom } = stack;
  const pgAgeS = await prom.scalar(`time() - push_time_seconds{job="${JOB_NAME}"}`).catch(() => null);
  const servedStored =
    (await prom
      .scalar(`sum(max_over_time(orders_total{job="producers",container="job-served"}[10m]))`)
      .catch(() => null)) ?? 0;
  const servedScrapes =
    (await prom
      .scalar(`sum(count_over_time(up{job="producers",container="job-served"}[10m]))`)
      .catch(() => null)) ?? 0;
  const pushed = await collectorOrdersFor(stack.endpoints.collectorHttpUrl, new Set([`${JOB_NAME}-p0`]));
  return { pgValue, pgAgeS, servedStored, servedScrapes, pushed };
}

function jobCells(s: Scenario, jobMs: number, servedOrders: number, job: JobTotal, d: Delivered): Cell[] {
  const age = d.pgAgeS;
  const pgValue = d.pgValue;
  return [
    {
      column: 'pull',
      variant: 'no-pushgateway',
      detectedAfterS: null,
      detectable: false,
      signal:
        d.servedScrapes > 0
          ? `scraped ${d.servedScrapes}× in its life`
          : 'never scraped: nothing to alert on',
      lostCount: Math.max(0, servedOrders - d.servedStored),
      lostPct: pct(Math.max(0, servedOrders - d.servedStored), servedOrders),
      detail: `${servedOrders} orders in ${jobMs / 1000} s, ${d.servedStored} stored (scrape interval ${s.scrapeIntervalMs / 1000} s)`,
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
      lostCount: Math.max(0, job.orders - (pgValue ?? 0)),
      lostPct: pct(Math.max(0, job.orders - (pgValue ?? 0)), job.orders),
      detail: `job generated ${job.orders}, Prometheus stores ${pgValue ?? 0} via the Pushgateway (push_time_seconds age ${age === null ? 'n/a' : `${Math.round(age)} s`})`,
    },
    {
      column: 'push-udp',
      variant: 'statsd',
      detectedAfterS: null,
      detectable: false,
      signal: 'captured as it happened (collector counts)',
      lostCount: Math.max(0, job.ordersPushed - d.pushed),
      lostPct: pct(Math.max(0, job.ordersPushed - d.pushed), job.ordersPushed),
      detail: `${job.ordersPushed} pushed, ${d.pushed} counted by the collector`,
    },
  ];
}

async function run(stack: Stack): Promise<ModeOutcome> {
  const { scenario: s } = stack;
  const runAux = auxRunner(stack.runtime);
  const jobMs = parseDurationMs(String(s.params.jobDuration ?? '8s'), 'params.jobDuration');
  if (stack.variant.column === 'push-otlp') return runOtlpJobs(stack, runAux, jobMs);
  const out: ModeOutcome = { cells: [], metrics: {}, series: { pushgatewayAgeS: [] }, notes: [] };

  const { tStart, servedOrders, job } = await runJobs(stack, runAux, jobMs);
  const pgValue = await watchPushgateway(stack, tStart, out.series.pushgatewayAgeS!);
  const d = await delivered(stack, pgValue);

  out.metrics.servedScrapes = d.servedScrapes;
  out.metrics.pushgatewayAgeAtEndS = d.pgAgeS ?? -1;
  out.cells.push(...jobCells(s, jobMs, servedOrders, job, d));
  return out;
}

export const shortLivedJob: DrillMode = { run };
