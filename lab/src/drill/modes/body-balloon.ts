import { httpJson, httpText } from '../../core/http.ts';
import { abortableSleep, mapLimit } from '../../core/time.ts';
import { transportOf } from '../../core/transports.ts';
import { ControlClient } from '../../probe/control.ts';
import { collectorSnapshot } from '../../probe/exposition.ts';
import { pct, type Stack } from '../harness.ts';
import type { DrillMode, ModeOutcome } from './types.ts';

// Scenario 6: the open grows every pod's /metrics from ~18 KB to ~240 KB. With sample_limit and
// body_size_limit set for the steady state, a breach discards the whole scrape and `up` goes to 0 while the
// pod is perfectly healthy. When does that start, and what does Prometheus say?

interface TargetsApi {
  data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] };
}

async function run(stack: Stack): Promise<ModeOutcome> {
  const { scenario: s, variant: v, prom, deps, endpoints, members } = stack;
  const out: ModeOutcome = { cells: [], metrics: {}, series: { targetsDown: [], samplesMax: [] }, notes: [] };
  const c0 = collectorSnapshot(
    await httpText(`${endpoints.collectorHttpUrl}/metrics`, { timeoutMs: 10_000 }),
  );
  const openAt = Date.now() + 2000;
  await mapLimit(members, 8, (m) => new ControlClient(m.baseUrl).schedule(openAt, undefined, deps.signal));
  await abortableSleep(openAt - Date.now(), deps.signal);
  let firstFailS: number | null = null;
  let firstKernelDropS: number | null = null;
  let lastError = '';
  for (let i = 0; i < 100_000 && Date.now() - openAt < s.observeMs; i++) {
    const el = (Date.now() - openAt) / 1000;
    const down = (await prom.scalar('count(up{job="producers"} == 0)').catch(() => null)) ?? 0;
    const samples =
      (await prom.scalar('max(scrape_samples_scraped{job="producers"})').catch(() => null)) ?? 0;
    out.series.targetsDown!.push([el, down]);
    out.series.samplesMax!.push([el, samples]);
    if (down > 0 && firstFailS === null) {
      firstFailS = el;
      const t = await httpJson<TargetsApi>(`${endpoints.prometheusUrl}/api/v1/targets?state=active`);
      lastError =
        t.data.activeTargets.find((x) => x.labels.job === 'producers' && x.health !== 'up')?.lastError ?? '';
    }
    if (firstKernelDropS === null) {
      const c = collectorSnapshot(
        await httpText(`${endpoints.collectorHttpUrl}/metrics`, { timeoutMs: 10_000 }),
      );
      if ((c.kernelRcvbufErrors ?? 0) > (c0.kernelRcvbufErrors ?? 0)) firstKernelDropS = el;
    }
    await abortableSleep(1000, deps.signal);
  }
  const finals = await mapLimit(members, 8, (m) => new ControlClient(m.baseUrl).quiesce(deps.signal));
  await abortableSleep(2 * s.scrapeIntervalMs + 1000, deps.signal);
  const generated = finals.reduce((a, l) => a + l.total.orders, 0);
  const pushedOrders = finals.reduce((a, l) => a + l.total.ordersPushed, 0);
  const stored = (await prom.scalar('sum(max_over_time(orders_total{job="producers"}[15m]))')) ?? 0;
  const c1 = collectorSnapshot(
    await httpText(`${endpoints.collectorHttpUrl}/metrics`, { timeoutMs: 10_000 }),
  );
  const pushDelivered = c1.orders ?? 0;
  out.metrics.firstFailedScrapeS = firstFailS ?? -1;
  out.metrics.sampleLimit = Number(s.params.sampleLimit ?? 0);
  out.notes.push(`up == 0 said: ${lastError || '(no failed scrape)'}`);
  out.cells.push(
    {
      column: 'pull',
      variant: v.name,
      detectedAfterS: firstFailS,
      signal: firstFailS !== null ? `up == 0 on healthy pods: ${lastError}` : 'no scrape failed',
      lostCount: Math.max(0, generated - stored),
      lostPct: pct(Math.max(0, generated - stored), generated),
      detail: `sample_limit ${s.params.sampleLimit}, body_size_limit ${s.params.bodySizeLimit}; every scrape over a limit is discarded whole`,
    },
    {
      column: transportOf(v.push.transport).column,
      variant: `${v.name} (${v.push.mode})`,
      detectedAfterS: firstKernelDropS,
      signal:
        firstKernelDropS !== null
          ? 'kernel UDP receive-buffer drops (collector_kernel_udp_rcvbuf_errors_total)'
          : 'no kernel drop seen',
      lostCount: Math.max(0, pushedOrders - pushDelivered),
      lostPct: pct(Math.max(0, pushedOrders - pushDelivered), pushedOrders),
      detail: `${pushedOrders} orders pushed, ${pushDelivered} counted by the collector (bodies do not matter to push)`,
    },
  );
  return out;
}

export const bodyBalloon: DrillMode = {
  producerScrape: (s) => ({
    sampleLimit: Number(s.params.sampleLimit ?? 0) || undefined,
    bodySizeLimit: s.params.bodySizeLimit === undefined ? undefined : String(s.params.bodySizeLimit),
  }),
  run,
};
