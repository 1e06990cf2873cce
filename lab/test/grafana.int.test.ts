// Every query of every Grafana panel and annotation, evaluated against a REAL Prometheus during a short real
// lab run on the process runtime (Prometheus, Pushgateway, node-exporter, collector and producers as local
// processes): a market-open burst on 2 producers x 3 pods pushing per-event, a real fault (pause/resume),
// and the lab's phase metrics pushed to the Pushgateway as docs/contracts.md describes. A query that errors,
// returns nothing or returns NaN fails the test: a panel showing "No data" during a drill is a broken panel.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type DashboardQuery,
  extractQueries,
  type IntervalVars,
  interpolate,
  type Json,
} from '../../grafana/src/inspect.ts';
import { newWorkDir } from '../src/core/workdir.ts';
import { processRuntimeFactory } from '../src/runtime/process/runtime.ts';
import type { ProducerMember, Runtime, StackEndpoints } from '../src/runtime/types.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SCRAPE_MS = 1000;
const PRODUCERS = 2;
const PODS_PER_PRODUCER = 3;
const PODS = PRODUCERS * PODS_PER_PRODUCER;
/** How long the burst runs before the queries are evaluated. */
const RUN_AFTER_BURST_MS = 15_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------
// The lab's phase metrics, pushed to the Pushgateway (grouping key job="pushpull_lab"), as the contract says.

const PHASES = ['warmup', 'burst', 'hold', 'decay', 'drain', 'done'] as const;
type Phase = (typeof PHASES)[number];

class LabPhaseMetrics {
  private current: Phase = 'warmup';
  private readonly started = new Map<Phase, number>();
  private readonly faults = new Map<string, { kind: string; target: string; n: number }>();
  private burstAtMs = 0;

  constructor(
    private readonly runId: string,
    private readonly pushgatewayUrl: string,
    private readonly expectedSources: number,
  ) {}

  async phase(p: Phase, atMs = Date.now()): Promise<void> {
    this.current = p;
    this.started.set(p, atMs);
    await this.push();
  }

  async burstAt(ms: number): Promise<void> {
    this.burstAtMs = ms;
    await this.push();
  }

  async fault(kind: string, target: string): Promise<void> {
    const key = `${kind}/${target}`;
    const f = this.faults.get(key) ?? { kind, target, n: 0 };
    f.n++;
    this.faults.set(key, f);
    await this.push();
  }

  text(): string {
    const run = `run_id="${this.runId}"`;
    let o = '# TYPE pushpull_lab_phase gauge\n';
    for (const p of PHASES) o += `pushpull_lab_phase{${run},phase="${p}"} ${p === this.current ? 1 : 0}\n`;
    o += '# TYPE pushpull_lab_phase_started_timestamp_seconds gauge\n';
    for (const [p, ms] of this.started)
      o += `pushpull_lab_phase_started_timestamp_seconds{${run},phase="${p}"} ${ms / 1000}\n`;
    o += '# TYPE pushpull_lab_expected_sources gauge\n';
    o += `pushpull_lab_expected_sources{${run}} ${this.expectedSources}\n`;
    if (this.burstAtMs > 0) {
      o += '# TYPE pushpull_lab_burst_timestamp_seconds gauge\n';
      o += `pushpull_lab_burst_timestamp_seconds{${run}} ${this.burstAtMs / 1000}\n`;
    }
    if (this.faults.size > 0) {
      o += '# TYPE pushpull_lab_faults_total counter\n';
      for (const f of this.faults.values())
        o += `pushpull_lab_faults_total{${run},kind="${f.kind}",target="${f.target}"} ${f.n}\n`;
    }
    return o;
  }

  private async push(): Promise<void> {
    const res = await fetch(`${this.pushgatewayUrl}/metrics/job/pushpull_lab`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain; version=0.0.4' },
      body: this.text(),
      signal: AbortSignal.timeout(5000),
    });
    assert.ok(res.ok, `pushgateway PUT: ${res.status} ${await res.text()}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Prometheus HTTP API

interface PromResult {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

interface PromResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: PromResult[] | [number, string] };
}

async function promApi(base: string, path: string, params: Record<string, string>): Promise<PromResponse> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  try {
    return JSON.parse(text) as PromResponse;
  } catch {
    return { status: 'error', error: `HTTP ${res.status}: ${text.slice(0, 200)}` };
  }
}

/** Why a query result would show as "No data" (or garbage) in Grafana; null when it is fine. */
function problem(r: PromResponse): string | null {
  if (r.status !== 'success' || !r.data) return `error: ${r.error ?? 'no data field'}`;
  const { resultType, result } = r.data;
  if (resultType === 'scalar') return null;
  const series = result as PromResult[];
  if (series.length === 0) return 'empty result';
  const samples = series.flatMap((s) => (s.values ?? (s.value ? [s.value] : [])).map((v) => v[1]));
  if (samples.length === 0) return 'series without samples';
  if (samples.every((v) => v === 'NaN')) return 'only NaN';
  return null;
}

/** A short rendering of an instant result for the test log: `{label=value} value`, first few series. */
function summary(r: PromResponse): string {
  const series = (r.data?.result ?? []) as PromResult[];
  const shown = series.slice(0, 4).map((s) => {
    const labels = Object.entries(s.metric)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const v = Number(s.value?.[1]);
    return `${labels ? `{${labels}} ` : ''}${Number.isInteger(v) ? v : v.toPrecision(4)}`;
  });
  return `${shown.join('  ')}${series.length > 4 ? `  (+${series.length - 4} more)` : ''}`;
}

async function scalarOf(base: string, query: string): Promise<number> {
  const r = await promApi(base, '/api/v1/query', { query });
  const v = (r.data?.result as PromResult[] | undefined)?.[0]?.value?.[1];
  return v === undefined ? Number.NaN : Number(v);
}

// ---------------------------------------------------------------------------------------------------------

function loadQueries(): DashboardQuery[] {
  const dir = join(root, 'grafana/dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => extractQueries(f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as Json));
}

describe('grafana: every panel query against a real Prometheus during a lab run', {
  timeout: 240_000,
}, () => {
  const runId = `grafana-${Date.now().toString(36)}`;
  let workDir = '';
  let runtime: Runtime | undefined;
  let endpoints: StackEndpoints | undefined;
  let members: ProducerMember[] = [];
  let labMetrics: LabPhaseMetrics | undefined;
  let runStartMs = 0;
  let burstAtMs = 0;
  const log: string[] = [];

  before(async () => {
    const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, encoding: 'utf8' });
    assert.equal(build.status, 0, `npm run build: ${build.stderr}`);
    const factory = processRuntimeFactory(root);
    const avail = await factory.available();
    assert.ok(avail.ok, `process runtime unavailable: ${avail.reason}`);

    // The runtime creates this dir, owns it and removes it in down().
    workDir = newWorkDir(runId);
    runtime = factory.create();
    runStartMs = Date.now();
    endpoints = await runtime.up({
      runId,
      workDir,
      scrapeIntervalMs: SCRAPE_MS,
      withNodeExporter: true,
      persistent: false,
      log: (m) => log.push(m),
    });
    labMetrics = new LabPhaseMetrics(runId, endpoints.pushgatewayUrl, PODS);
    await labMetrics.phase('warmup');
    members = await runtime.scale(PRODUCERS, {
      podsPerProducer: PODS_PER_PRODUCER,
      seed: 7,
      pushMode: 'per-event',
      jitter: true,
      transport: 'udp',
      heartbeatMs: 1000,
      flushIntervalMs: 1000,
      fleetPods: 1400,
    });
    assert.equal(members.flatMap((m) => m.podIds).length, PODS);

    // Every target up and every pod heard by the collector (bounded).
    const prom = endpoints.prometheusUrl;
    const deadline = Date.now() + 45_000;
    let up = 0;
    let sources = 0;
    while (Date.now() < deadline) {
      up = await scalarOf(prom, 'sum(up)');
      const targets = await scalarOf(prom, 'count(up)');
      sources = await scalarOf(prom, 'sum(collector_sources_active)');
      if (up === targets && targets >= PODS + 4 && sources >= PODS) break;
      await sleep(1000);
    }
    assert.ok(
      sources >= PODS,
      `collector hears all ${PODS} pods (got ${sources}, up ${up}); ${log.join('; ')}`,
    );

    // The open: every producer ramps at the same wall-clock instant.
    burstAtMs = Date.now() + 3000;
    for (const m of members) {
      const res = await fetch(`${m.baseUrl}/control/schedule`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ startAtMs: burstAtMs }),
        signal: AbortSignal.timeout(5000),
      });
      assert.ok(res.ok, `schedule ${m.name}: ${res.status} ${await res.text()}`);
    }
    await labMetrics.burstAt(burstAtMs);
    await sleep(burstAtMs - Date.now());
    await labMetrics.phase('burst', burstAtMs);
    await sleep(1000);
    await labMetrics.phase('hold');

    // A real fault, recorded the way the lab records it.
    const victim = members[members.length - 1]!;
    await sleep(2000);
    await runtime.fault('pause', victim);
    await labMetrics.fault('pause', victim.name);
    await sleep(2500);
    await runtime.fault('resume', victim);

    await sleep(Math.max(0, burstAtMs + RUN_AFTER_BURST_MS - Date.now()));
  });

  after(async () => {
    await runtime?.down();
    if (workDir && existsSync(workDir)) rmSync(workDir, { recursive: true, force: true });
  });

  it('returns data for every panel (instant and range) and every annotation', async () => {
    assert.ok(endpoints);
    const prom = endpoints.prometheusUrl;
    const queries = loadQueries();
    assert.ok(queries.length > 0);
    const end = Date.now() / 1000;
    const start = runStartMs / 1000;
    // As Grafana would: $__interval = the step, $__rate_interval from the datasource's scrape interval.
    const vars: IntervalVars = {
      scrapeIntervalS: SCRAPE_MS / 1000,
      intervalS: 1,
      rangeS: Math.ceil(end - start),
    };
    const failures: string[] = [];
    for (const q of queries) {
      const expr = interpolate(q.expr, vars);
      const what = `${q.file} ${q.kind} "${q.title}" ${q.refId}: ${expr}`;
      if (q.kind === 'panel') {
        const instant = await promApi(prom, '/api/v1/query', { query: expr, time: String(end) });
        const p = problem(instant);
        if (p) failures.push(`${what}\n    instant: ${p}`);
        else console.log(`# ${q.file} "${q.title}" ${q.refId} = ${summary(instant)}`);
      }
      if (!q.instant) {
        const range = await promApi(prom, '/api/v1/query_range', {
          query: expr,
          start: String(start),
          end: String(end),
          step: String(vars.intervalS),
        });
        const p = problem(range);
        if (p) failures.push(`${what}\n    range: ${p}`);
        // An enabled annotation must also produce an event: Grafana shows samples > 0 only.
        if (!p && q.kind === 'annotation' && q.enabled) {
          const series = (range.data?.result ?? []) as PromResult[];
          const events = series.filter((s) => (s.values ?? []).some((v) => Number(v[1]) > 0));
          if (events.length === 0) failures.push(`${what}\n    range: no sample > 0, so no annotation`);
        }
      }
    }
    assert.deepEqual(
      failures,
      [],
      `${failures.length} of ${queries.length} queries broken:\n${failures.join('\n')}`,
    );
  });

  it('sees the run the test drove: the burst, the fault, every pod on both paths', async () => {
    assert.ok(endpoints);
    const prom = endpoints.prometheusUrl;
    assert.ok((await scalarOf(prom, 'sum(rate(orders_total{job="producers"}[4s]))')) > 0, 'pull orders flow');
    assert.ok((await scalarOf(prom, 'sum(rate(orders{job="collector"}[4s]))')) > 0, 'push orders flow');
    assert.equal(await scalarOf(prom, 'count(count by (pod) (orders_total{job="producers"}))'), PODS);
    const phase = await promApi(prom, '/api/v1/query', { query: 'pushpull_lab_phase == 1' });
    const current = ((phase.data?.result ?? []) as PromResult[]).map((r) => r.metric.phase);
    assert.deepEqual(current, ['hold']);
    assert.equal(await scalarOf(prom, 'sum(pushpull_lab_faults_total)'), 1);
  });
});
