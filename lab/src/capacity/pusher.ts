import { Agent, request } from 'node:http';
import { LabError } from '@pushpull/common';

// The Pushgateway-as-central-ingest load: one rate-driven pusher (this process), PUTting pod-sized groups
// (one group per virtual pod, `job="capacity",instance="pod-N"`) to the run's own Pushgateway on loopback
// at a fixed rate for a bounded time, with a bounded number of requests in flight. It measures what each
// push took and failed, how far it fell behind its schedule (then the pusher, not the Pushgateway, is the
// limit), and what a scrape of the Pushgateway took while it was loaded.

export interface PushStepOptions {
  /** Loopback base URL of the Pushgateway (StackEndpoints.pushgatewayUrl). */
  url: string;
  ratePerSec: number;
  durationMs: number;
  /** Distinct groups (virtual pods) the pushes cycle over. */
  groups: number;
  /** Series per group (a pod's steady exposition: ~40 order counters). */
  seriesPerGroup: number;
  /** Requests in flight at most; a push due while all wait on the Pushgateway is counted as unsent. */
  maxInFlight: number;
  /** Scrape the Pushgateway's /metrics this often while loaded (ms). */
  scrapeEveryMs: number;
  signal: AbortSignal;
}

export interface PushStepResult {
  ratePerSec: number;
  durationMs: number;
  scheduled: number;
  sent: number;
  ok: number;
  errors: number;
  /** First error texts (at most 5). */
  errorSamples: string[];
  latencyP50S: number | null;
  latencyP99S: number | null;
  latencyMaxS: number | null;
  /** Pushes actually completed per second over the step. */
  achievedPerSec: number;
  /**
   * % of the scheduled pushes never sent because every slot waited on the Pushgateway (back-pressure);
   * with the pusher's own CPU saturated it is the pusher's limit instead.
   */
  unsentPct: number;
  /** Cores the pusher (this process) used over the step. */
  pusherCores: number;
  scrapeMaxS: number | null;
  scrapes: number;
  /** Scrapes that failed (timeout, refused): the step's scrape criterion then has no reading. */
  scrapeErrors: string[];
  scrapeBytes: number | null;
  groups: number;
  seriesPerGroup: number;
}

/** The text a pod pushes: `seriesPerGroup` order counters with instrument and side labels. */
export function groupBody(pod: number, seq: number, seriesPerGroup: number): string {
  const lines = ['# TYPE capacity_orders_total counter'];
  for (let i = 0; i < seriesPerGroup; i++)
    lines.push(
      `capacity_orders_total{instrument="I-${Math.floor(i / 2)}",side="${i % 2 ? 'sell' : 'buy'}"} ${seq * 7 + i + pod}`,
    );
  return `${lines.join('\n')}\n`;
}

export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function checkLoopback(url: string): URL {
  const u = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
    throw new LabError('LAB_ERR_CONFIG', `the pusher loads only loopback; the Pushgateway is at ${url}`, {
      value: url,
    });
  return u;
}

function send(
  agent: Agent,
  u: URL,
  method: string,
  path: string,
  body: string | null,
  timeoutMs: number,
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      // The base URL may carry a path (the swarm runtime's proxy: /pushgateway): keep it as a prefix.
      {
        agent,
        host: u.hostname,
        port: u.port,
        method,
        path: `${u.pathname.replace(/\/$/, '')}${path}`,
        timeout: timeoutMs,
      },
      (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== null) req.setHeader('content-type', 'text/plain; version=0.0.4');
    req.end(body ?? undefined);
  });
}

interface ScrapeStats {
  max: number | null;
  n: number;
  bytes: number | null;
  errors: string[];
  /** The scrape in flight (one at a time: the agent has one socket). */
  pending: Promise<void> | null;
}

/** One GET of the Pushgateway's /metrics while it is loaded: how long the scrape took. */
function timedScrape(agent: Agent, u: URL, into: ScrapeStats): void {
  if (into.pending) return; // the last one is still running: its duration says enough
  const t = performance.now();
  into.pending = send(agent, u, 'GET', '/metrics', null, 30_000)
    .then((r) => {
      into.max = Math.max(into.max ?? 0, (performance.now() - t) / 1000);
      into.bytes = r.bytes;
      into.n++;
    })
    .catch((e: Error) => {
      if (into.errors.length < 5) into.errors.push(e.message);
    })
    .finally(() => {
      into.pending = null;
    });
}

/** The step's counters while it runs. */
interface StepState {
  scheduled: number;
  sent: number;
  ok: number;
  errors: number;
  inFlight: number;
  seq: number;
  latencies: number[];
  errorSamples: string[];
}

/** One PUT of the next group (round robin), its latency and outcome counted into `st`. */
function pushOne(agent: Agent, u: URL, o: PushStepOptions, st: StepState): void {
  const pod = st.seq % o.groups;
  const t = performance.now();
  const onError = (e: string) => {
    st.errors++;
    if (st.errorSamples.length < 5) st.errorSamples.push(e);
  };
  st.sent++;
  st.inFlight++;
  const body = groupBody(pod, st.seq++, o.seriesPerGroup);
  send(agent, u, 'PUT', `/metrics/job/capacity/instance/pod-${pod}`, body, 10_000)
    .then((r) => {
      st.latencies.push((performance.now() - t) / 1000);
      if (r.status >= 200 && r.status < 300) st.ok++;
      else onError(`HTTP ${r.status}`);
    })
    .catch((e: Error) => onError(e.message))
    .finally(() => {
      st.inFlight--;
    });
}

/** Scrapes the loaded Pushgateway a second in, then every scrapeEveryMs (a short step still gets one). */
function startScraper(o: PushStepOptions, u: URL, into: ScrapeStats): { agent: Agent; stop(): void } {
  const agent = new Agent({ keepAlive: false, maxSockets: 1 }); // never queued behind the pushes
  const scrapeNow = () => timedScrape(agent, u, into);
  let every: NodeJS.Timeout | null = null;
  const first = setTimeout(
    () => {
      scrapeNow();
      every = setInterval(scrapeNow, o.scrapeEveryMs);
    },
    Math.min(1000, o.durationMs / 2),
  );
  return {
    agent,
    stop() {
      clearTimeout(first);
      if (every) clearInterval(every);
    },
  };
}

/** One step at a fixed rate. Bounded: stops at durationMs (or the signal) and waits ≤ 10 s for stragglers. */
export async function pushStep(o: PushStepOptions): Promise<PushStepResult> {
  const u = checkLoopback(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.maxInFlight });
  const cpu0 = process.cpuUsage();
  const st: StepState = {
    scheduled: 0,
    sent: 0,
    ok: 0,
    errors: 0,
    inFlight: 0,
    seq: 0,
    latencies: [],
    errorSamples: [],
  };
  const scrape: ScrapeStats = { max: null, n: 0, bytes: null, errors: [], pending: null };
  const start = performance.now();
  const scraper = startScraper(o, u, scrape);
  try {
    // Every tick sends what is due by now; a due push with every slot busy is not sent (counted as unsent).
    for (let tick = 0; tick < 1_000_000; tick++) {
      const elapsed = performance.now() - start;
      if (elapsed >= o.durationMs || o.signal.aborted) break;
      const due = Math.floor((o.ratePerSec * elapsed) / 1000);
      while (st.scheduled < due) {
        st.scheduled++;
        if (st.inFlight < o.maxInFlight) pushOne(agent, u, o, st);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    scraper.stop();
  }
  const elapsedMs = performance.now() - start;
  for (let i = 0; i < 100 && st.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 100));
  agent.destroy();
  await scrape.pending; // bounded by its own 30 s timeout
  scraper.agent.destroy();
  const cpu = process.cpuUsage(cpu0);
  const lat = st.latencies.sort((a, b) => a - b);
  return {
    ratePerSec: o.ratePerSec,
    durationMs: Math.round(elapsedMs),
    scheduled: st.scheduled,
    sent: st.sent,
    ok: st.ok,
    errors: st.errors,
    errorSamples: st.errorSamples,
    latencyP50S: quantile(lat, 0.5),
    latencyP99S: quantile(lat, 0.99),
    latencyMaxS: lat.length > 0 ? lat[lat.length - 1]! : null,
    achievedPerSec: Math.round(st.ok / (elapsedMs / 1000)),
    pusherCores: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 1000) / 1000,
    unsentPct: st.scheduled > 0 ? (100 * (st.scheduled - st.sent)) / st.scheduled : 0,
    scrapeMaxS: scrape.max,
    scrapes: scrape.n,
    scrapeErrors: scrape.errors,
    scrapeBytes: scrape.bytes,
    groups: o.groups,
    seriesPerGroup: o.seriesPerGroup,
  };
}

/** Seeding and settling the Pushgateway before a step (below). */
export interface PrepareOptions {
  url: string;
  groups: number;
  seriesPerGroup: number;
  /** Store every group once first (the steady state of central ingest: every pod's group exists). */
  seed: boolean;
  /** A probe PUT answered within this is "settled" (ms). */
  settleMs: number;
  /** Give up settling after this long (ms): the step then runs on a Pushgateway still busy, and says so. */
  maxMs: number;
  signal: AbortSignal;
}

/**
 * Every step starts from the same state: all groups stored (seeded once; a push's cost grows with what the
 * Pushgateway holds, so a step that ran on fewer groups would look faster), and no backlog of the step
 * before (a failed step leaves requests the Pushgateway is still working through after the pusher gave up
 * on them; the next step would inherit its failure). Sequential PUTs, each bounded.
 */
export async function prepareGateway(
  o: PrepareOptions,
): Promise<{ seeded: number; settleS: number; settled: boolean }> {
  const u = checkLoopback(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const t0 = performance.now();
  let seeded = 0;
  let settled = false;
  try {
    if (o.seed)
      for (let pod = 0; pod < o.groups && !o.signal.aborted; pod += 4) {
        const batch = Array.from({ length: Math.min(4, o.groups - pod) }, (_, k) => pod + k);
        const r = await Promise.allSettled(
          batch.map((p) =>
            send(
              agent,
              u,
              'PUT',
              `/metrics/job/capacity/instance/pod-${p}`,
              groupBody(p, 0, o.seriesPerGroup),
              30_000,
            ),
          ),
        );
        seeded += r.filter((x) => x.status === 'fulfilled').length;
      }
    const settleFrom = performance.now();
    for (let i = 0; i < 1000 && !o.signal.aborted && performance.now() - settleFrom < o.maxMs; i++) {
      const t = performance.now();
      const ok = await send(
        agent,
        u,
        'PUT',
        '/metrics/job/capacity/instance/pod-0',
        groupBody(0, 0, o.seriesPerGroup),
        10_000,
      )
        .then((r) => r.status >= 200 && r.status < 300)
        .catch(() => false);
      if (ok && performance.now() - t <= o.settleMs) {
        settled = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    agent.destroy();
  }
  return { seeded, settleS: Math.round(performance.now() - t0) / 1000, settled };
}
