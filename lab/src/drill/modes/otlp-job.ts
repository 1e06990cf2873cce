import { LabError, renderProducerArgs } from '@pushpull/common';
import { abortableSleep } from '../../core/time.ts';
import { ControlClient } from '../../probe/control.ts';
import type { AuxAddresses, Runtime } from '../../runtime/types.ts';
import type { Cell } from '../grid.ts';
import { collectorOrdersFor, pct, type Stack } from '../harness.ts';
import type { ModeOutcome } from './types.ts';

// The short-lived job's OTLP column: the SDK exports on an interval, so a job shorter than its interval
// reaches the receiver only through the export its shutdown forces — and a job that dies before its first
// export leaves nothing. Two processes of the producer binary, both with jitter off and the variant's export
// interval, started just after an interval boundary so that no periodic export falls inside their lives:
//  - `job` runs its duration and ends cleanly (the SDK's shutdown exports what it recorded);
//  - a one-pod `serve` is SIGKILLed part-way, its ledger read over the control API just before the kill
//    (a `job` has no control API, so its ledger would die with it unread).

const ENDS = 'otlp-job-ends';
const KILLED = 'otlp-killed';
const JOB_LINE = /"msg":"job done".*"total":(\{[^}]*\})/;

type RunAux = NonNullable<Runtime['runAux']>;

const otlpAddress = (a: AuxAddresses): string => {
  if (!a.otlpHttp)
    throw new LabError(
      'LAB_ERR_CONFIG',
      'this runtime gives auxiliary processes no OTLP receiver address: the OTLP short-lived job needs one (process, docker, swarm)',
    );
  return `otlp://${a.otlpHttp}`;
};

const common = (intervalMs: number) => ({ flushInterval: intervalMs, jitter: false, heartbeat: 0 });

/** When to kill the second process: well inside the job's life and before the first export. */
export function killAfterMs(jobMs: number, intervalMs: number): number {
  return Math.max(1000, Math.min(4000, Math.floor(jobMs / 2), Math.floor(intervalMs / 4)));
}

/** Ms to wait so that a start lands ~300 ms after a boundary of `intervalMs` (jitter off: exports at t mod interval = 0). */
export function msToBoundary(nowMs: number, intervalMs: number, afterMs = 300): number {
  const into = nowMs % intervalMs;
  return into <= afterMs ? afterMs - into : intervalMs - into + afterMs;
}

interface JobTotal {
  orders: number;
  ordersPushed: number;
  otlpExports: number;
  otlpOrdersExported: number;
}

function jobTotal(done: { exitCode: number | null; stdout: string }): JobTotal {
  const m = JOB_LINE.exec(done.stdout);
  if (done.exitCode !== 0 || !m)
    throw new LabError('LAB_ERR_CHILD_EXIT', `OTLP job exited ${done.exitCode}: ${done.stdout.slice(-400)}`);
  return JSON.parse(m[1]!) as JobTotal;
}

export function otlpJobCells(
  intervalMs: number,
  jobMs: number,
  killMs: number,
  ends: { job: JobTotal; stored: number },
  killed: { recorded: number; exports: number; stored: number },
): Cell[] {
  const endsLost = Math.max(0, ends.job.ordersPushed - ends.stored);
  const killedLost = Math.max(0, killed.recorded - killed.stored);
  return [
    {
      column: 'push-otlp',
      variant: ENDS,
      detectedAfterS: null,
      detectable: false,
      signal: `${ends.job.otlpExports} export(s), at shutdown: the SDK flushes what it recorded`,
      lostCount: endsLost,
      lostPct: pct(endsLost, ends.job.ordersPushed),
      detail: `${jobMs / 1000} s job, ${intervalMs / 1000} s export interval: ${ends.job.ordersPushed} orders recorded, ${ends.job.otlpOrdersExported} exported (ledger), ${ends.stored} at the receiver`,
    },
    {
      column: 'push-otlp',
      variant: KILLED,
      detectedAfterS: null,
      detectable: false,
      signal:
        killed.exports === 0
          ? 'killed before its first export: nothing ever reached the receiver'
          : `${killed.exports} export(s) before the kill`,
      lostCount: killedLost,
      lostPct: pct(killedLost, killed.recorded),
      detail: `SIGKILL ${killMs / 1000} s in (export interval ${intervalMs / 1000} s): ${killed.recorded} orders recorded (ledger just before the kill), ${killed.stored} at the receiver`,
    },
  ];
}

export async function runOtlpJobs(stack: Stack, runAux: RunAux, jobMs: number): Promise<ModeOutcome> {
  const { variant: v, deps, endpoints } = stack;
  const intervalMs = v.push.flushIntervalMs;
  const killMs = killAfterMs(jobMs, intervalMs);
  if (jobMs + 2000 > intervalMs)
    throw new LabError(
      'LAB_ERR_SCENARIO',
      `${v.name}: the export interval (${intervalMs} ms) must exceed the job (${jobMs} ms) by 2 s, so only the shutdown exports`,
    );
  await abortableSleep(msToBoundary(Date.now(), intervalMs), deps.signal);
  const otlpTemporality = v.push.otlpTemporality ?? 'cumulative';
  const job = await runAux('otlp-job', (a) => [
    'job',
    ...renderProducerArgs({
      name: ENDS,
      duration: jobMs,
      statsd: otlpAddress(a),
      ...common(intervalMs),
      otlpTemporality,
    }),
  ]);
  const doomed = await runAux(KILLED, (a) => [
    'serve',
    ...renderProducerArgs({
      name: KILLED,
      pods: 1,
      http: a.http,
      statsd: otlpAddress(a),
      ...common(intervalMs),
      otlpTemporality,
    }),
  ]);
  if (!doomed.baseUrl || !doomed.kill)
    throw new LabError('LAB_ERR_CONFIG', `${stack.runtime.kind} runtime cannot SIGKILL an auxiliary process`);
  await abortableSleep(killMs, deps.signal);
  const atKill = (await new ControlClient(doomed.baseUrl).ledger()).total;
  doomed.kill();
  const done = jobTotal(await job.wait(jobMs + 30_000));
  await abortableSleep(1000, deps.signal);
  const url = endpoints.collectorHttpUrl;
  const out: ModeOutcome = { cells: [], metrics: {}, series: {}, notes: [] };
  out.cells = otlpJobCells(
    intervalMs,
    jobMs,
    killMs,
    { job: done, stored: await collectorOrdersFor(url, new Set([`${ENDS}-p0`])) },
    {
      recorded: atKill.ordersPushed,
      exports: atKill.otlpExports ?? 0,
      stored: await collectorOrdersFor(url, new Set([`${KILLED}-p0`])),
    },
  );
  out.metrics.otlpJobEndsLostPct = out.cells[0]!.lostPct ?? -1;
  out.metrics.otlpKilledLostPct = out.cells[1]!.lostPct ?? -1;
  return out;
}
