import type { NamedChart } from '../report/charts.ts';
import { interactiveParts } from '../report/interactive.ts';
import { REPORT_CSS } from '../report/style.ts';
import { escapeXml, type LineChartOptions, lineChart, PALETTE } from '../report/svg.ts';
import { accountsHtml } from './accounts-html.ts';
import { causesShort, causeWords } from './causes.ts';
import { type Cell, cellOutcome, type DrillRecord, GRID_COLUMNS, type ScenarioResult } from './grid.ts';
import { PUSH_AGENT_METRIC_WORDS, PUSH_AGENT_SERIES_WORDS } from './modes/push-agent-words.ts';

// drill.html: the grid (rows: failure mode; columns: pull, push-UDP, push-TCP/aggregated), each cell
// leading with its outcome in words and colour (detected in N s / silent / lost data / captured) with the
// numbers beneath, then each scenario's facts and charts — every title, axis and row in words, never the
// record's internal keys. Self-contained: inline CSS, SVG and the inlined chart library, no network.

const CSS = `.cell{min-width:220px}.outcome{font-weight:700;font-size:14px;display:inline-block;padding:1px 6px;border-radius:3px;margin-bottom:3px}
.good{background:#e3f4e3;color:#1b6b2f}.none{background:#eee;color:#555}.warn{background:#fff1d6;color:#8a5a00}.bad{background:#fde3e3;color:#9b0018}
.variant{color:#555;font-size:12px}.num{font-size:12px;color:#333}.sep{border-top:1px dashed #ddd;margin:6px 0}
li.ok{color:#1b7f3b}li.fail{color:#b00020;font-weight:600}`;

const COLUMN_WORDS: Record<string, string> = {
  pull: 'pull (Prometheus scrape)',
  'push-udp': 'push over UDP',
  'push-tcp': 'push over TCP / aggregated',
  'push-otlp': 'push OTLP/HTTP (OpenTelemetry SDK)',
  'push-agent': 'push through an agent per host (StatsD → agent → OTLP/HTTP)', // #27
  'pull-pair': 'pull, 2 replicas (the Prometheus pair)', // #28
  agents: 'pull through per-host agents (remote_write)', // #29
};

/** Variants in words: `heartbeat-off` → "heartbeats off", `jitter-on` → "jitter on", `udp` → "UDP". */
export function variantWords(v: string): string {
  const known: Record<string, string> = { udp: 'UDP', tcp: 'TCP', statsd: 'StatsD' };
  if (known[v]) return known[v]!;
  const m = /^(heartbeat|jitter)-(on|off)$/.exec(v);
  if (m) return `${m[1] === 'heartbeat' ? 'heartbeats' : 'jitter'} ${m[2]}`;
  return v.replace(/-/g, ' ');
}

/** The record's series keys as a chart title and a y-axis label. */
const SINCE_FAULT = 'seconds since the fault';
const SERIES_WORDS: Record<string, { title: string; y: string; x?: string }> = {
  upVictim: {
    title: 'is the failed pod still scraped successfully? (Prometheus up)',
    y: '1 = up, 0 = down',
    x: SINCE_FAULT,
  },
  alertsFiring: {
    title: 'alerts firing about the failed pod (pull and push)',
    y: 'alerts firing',
    x: SINCE_FAULT,
  },
  targetsDown: { title: 'pod targets whose last scrape failed', y: 'targets down' },
  remoteWriteLagS: {
    title: "how far the agents' remote-write queue trails their WAL (newest appended − newest sent)",
    y: 'seconds behind',
    x: SINCE_FAULT,
  }, // #29
  upAgeS: {
    title: "age of the newest up of the failed host's pods, as the central store holds it",
    y: 'seconds old',
    x: SINCE_FAULT,
  }, // #29
  tasksRunningElsewhere: {
    title: "the failed node's tasks swarm runs on another node",
    y: 'tasks running elsewhere',
    x: SINCE_FAULT,
  },
  samplesMax: { title: "most samples in one pod's scrape", y: 'samples' },
  peerUp: {
    title: "the faulted replica's up, as the surviving replica scrapes it",
    y: '1 = up, 0 = down',
    x: SINCE_FAULT,
  }, // #28
  peerAlert: { title: 'PrometheusPeerDown firing on the surviving replica', y: '1 = firing', x: SINCE_FAULT }, // #28
  pushgatewayAgeS: { title: "age of the job's last push, as the Pushgateway still serves it", y: 'seconds' },
  'Prometheus scrape offset within the interval (ms), by target': {
    title: 'when in the interval Prometheus scrapes each target (sorted)',
    y: 'ms into the interval',
    x: 'targets, sorted by offset',
  },
  ...PUSH_AGENT_SERIES_WORDS, // #27
};

/** The record's metric keys in words (unit in the words); unknown keys are split from camelCase. */
const METRIC_WORDS: Record<string, string> = {
  upZeroAfterS: "seconds until the failed pod's up went to 0 (-1 = never)",
  udpSentNotReceived: 'datagrams sent into the cut, never received (the relay dropped them)',
  scrapesResetByCut: 'scrape connections the cut reset',
  pushConnectionsResetByCut: 'push connections the cut reset',
  targetsStillDiscovered: 'targets still in service discovery at the end',
  firstFailedScrapeS: 'first failed scrape, seconds after the balloon (-1 = none)',
  sampleLimit: 'sample_limit in force (samples per scrape)',
  peak: 'peak datagrams in one bin',
  mean: 'mean datagrams per bin',
  peakToMean: 'peak ÷ mean',
  modelPeak: "the seeded model's predicted peak (datagrams per bin)",
  kernelDrops: 'datagrams the kernel dropped',
  datagramsPerFlush: 'datagrams per flush',
  peakVsJitterOn: 'peak with jitter off ÷ peak with jitter on',
  prometheusSpreadPctOfInterval: "Prometheus' scrape starts spread over (% of the interval)",
  servedScrapes: 'times the short-lived job was scraped',
  pushgatewayAgeAtEndS: "age of the Pushgateway's value at the end, seconds (-1 = none)",
  prometheusP50Ms: 'Prometheus scrape duration p50 (ms)',
  prometheusP99Ms: 'Prometheus scrape duration p99 (ms)',
  prometheusBytesPerS: 'bytes per second Prometheus scraped',
  producerCpuPctPrometheusOnly: 'producer CPU with Prometheus alone (%)',
  stormP50Ms: 'synchronised storm scrape p50 (ms)',
  stormP99Ms: 'synchronised storm scrape p99 (ms)',
  stormBytesPerS: 'bytes per second the storm scraped',
  stormStartSpreadMs: "spread of the storm's scrape starts (ms)",
  stormStartSpreadPctOfInterval: "spread of the storm's scrape starts (% of the interval)",
  producerCpuPctWithStorm: 'producer CPU with the storm added (%)',
  stormFailures: 'storm scrapes that failed',
  otlpExportsFailed: 'OTLP exports that finally failed (after the exporter retries)',
  otlpRetryRequests: 'OTLP HTTP requests beyond one per export (retries)',
  otlpLostPct: 'OTLP orders lost (%)',
  producerSawFailureAfterS: 'seconds until the producer counted a failed export',
  otlpPeakRequests: 'peak OTLP requests at the receiver in one 100 ms poll',
  otlpMeanRequests: 'mean OTLP requests per 100 ms poll',
  otlpThrottled: 'OTLP requests answered 429/503',
  otlpPeakInflightBytes: "the receiver's peak in-flight request bytes (polled)",
  otlpPeakVsJitterOn: 'OTLP peak requests with jitter off ÷ with jitter on',
  otlpJobEndsLostPct: 'OTLP job that ends cleanly: orders lost (%)',
  otlpKilledLostPct: 'OTLP process killed before its first export: orders lost (%)',
  pullAlertAfterS: 'seconds until InstanceDown fired for the node (-1 = never)',
  pushAlertAfterS: "seconds until PushHeartbeatAbsent fired for the node's pods (-1 = never)",
  nodeDownAfterS: 'seconds until the swarm manager marked the node down (-1 = never)',
  rescheduledAfterS: "seconds until swarm scheduled one of the node's tasks on another node (-1 = never)",
  replacementRunningAfterS: 'seconds until a rescheduled task ran on another node (-1 = never)',
  tasksRescheduled: "the node's tasks swarm rescheduled to another node",
  victimProducers: 'producers on the failed node',
  victimPods: 'pods on the failed node',
  ...PUSH_AGENT_METRIC_WORDS, // #27
  peerUpZeroAfterS: "seconds until the survivor saw its peer's up at 0 (-1 = never)", // #28
  peerAlertAfterS: 'seconds until PrometheusPeerDown fired on the survivor (-1 = never)', // #28
  mergedLost: 'orders the merged view (max across replicas) lost', // #28
  survivorLost: 'orders the surviving replica lost', // #28
  faultedReplicaLost: 'orders the faulted replica lost (at the end)', // #28
  faultAfterOpenS: 'seconds after the open the replica was faulted', // #28
  readToKillMs: "ms from reading the replica's store to the kill", // #28
  pauseS: 'seconds the replica was paused', // #28
  missedScrapes: 'pod scrapes the paused replica missed', // #28
  ordersInGap: 'orders generated while the replica was paused', // #28
  peerBackUpAfterResumeS: 'seconds after the resume until the survivor saw its peer up (-1 = never)', // #28
  centralUnansweredAfterS: "seconds until the central store stopped answering the lab's queries (-1 = never)", // #29
  remoteWriteBehindAfterS:
    "seconds until an agent's remote-write queue fell behind the burst's limit (-1 = never)", // #29
  samplesRetriedAfterS: 'seconds until an agent retried samples (-1 = never)', // #29
  instanceDownAfterS:
    "seconds until InstanceDown fired for the host's pods at the central store (-1 = never)", // #29
  upGoneAfterS: "seconds until the host's pods' up vanished from the central store (-1 = never)", // #29
  staleUpAfterS: "seconds until the newest up of the host's pods was 3 scrape intervals old (-1 = never)", // #29
  maxRemoteWriteLagS: "largest lag of the agents' remote-write queue behind their WAL (s)", // #29
  caughtUpAfterS: 'seconds from the recovery until the agents caught up (-1 = not within the bound)', // #29
  samplesRetried: 'samples the agents retried', // #29
  samplesFailed: 'samples the agents gave up (non-recoverable)', // #29
  samplesDropped: "samples dropped from the agents' queues", // #29
  samplesPendingAtEnd: "samples still pending in the agents' queues at the end", // #29
  outageScrapesStoredPct: "the outage's scrapes the central store holds at the end (%)", // #29
  otherAgentsMaxLagS: 'largest lag of the agents the cut did not reach (s)', // #29
  agentMetricsGoneAfterS: "seconds until the killed agent's /metrics stopped answering the lab (-1 = never)", // #29
  upAgeAtEndS: "age of the newest up of the host's pods at the central store at the end (s)", // #29
  lostBeforeKill: 'orders generated before the kill that never reached the central store', // #29
  lostAfterKill: 'orders generated after the kill (nothing scraped them)', // #29
  victimHostPods: "pods on the killed agent's host", // #29
};

const camelWords = (k: string) =>
  k
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/\bS$/, '(s)')
    .toLowerCase();

/** "heartbeat-on.upZeroAfterS" → "seconds until … (heartbeats on)". */
export function metricWords(key: string): string {
  const dot = key.indexOf('.');
  const [variant, name] = dot > 0 ? [key.slice(0, dot), key.slice(dot + 1)] : [null, key];
  const words = METRIC_WORDS[name] ?? camelWords(name);
  return variant ? `${words} — ${variantWords(variant)}` : words;
}

/** "heartbeat-on: upVictim" → a title and axis in words, the variant in parentheses. */
export function seriesWords(key: string): { title: string; y: string; x?: string } {
  const m = /^([^:]+): (.+)$/.exec(key);
  const [variant, name] = m ? [m[1]!, m[2]!] : [null, key];
  const w = SERIES_WORDS[name] ?? { title: name, y: name.length > 30 ? 'value' : name };
  return variant ? { title: `${w.title} — ${variantWords(variant)}`, y: w.y } : w;
}

function cellHtml(cells: readonly Cell[]): string {
  if (cells.length === 0) return '<td class="cell">—</td>';
  const parts = cells.map((c) => {
    const o = cellOutcome(c);
    const lost =
      c.notApplied !== undefined
        ? 'data lost: not measured, the fault did not reach this path'
        : c.lostCount === null
          ? 'data lost: not measured'
          : `data lost: ${c.lostCount.toLocaleString('en-US')}${c.lostPct === null ? '' : ` (${c.lostPct.toFixed(1)}%)`}`;
    const by =
      c.causes && causesShort(c.causes)
        ? `<div class="num">by cause: ${escapeXml(causesShort(c.causes))}</div>`
        : ''; // #29
    return `<div class="variant">${escapeXml(variantWords(c.variant))}</div><span class="outcome ${o.tone}">${escapeXml(o.words)}</span><div class="num">${escapeXml(lost)}</div>${by}<div class="num">${escapeXml(c.signal)}</div>`;
  });
  return `<td class="cell">${parts.join('<div class="sep"></div>')}</td>`;
}

/** #29: a cell's orders lost by cause, in words (they sum to its loss). */
function causesList(c: Cell): string {
  const items = (c.causes ?? []).filter((x) => x.orders > 0);
  if (items.length === 0) return '';
  return `<ul>${items.map((x) => `<li>${x.orders.toLocaleString('en-US')} orders (${(100 * x.share).toFixed(1)}%): ${escapeXml(causeWords(x.cause))} — ${escapeXml(x.countedBy)}</li>`).join('')}</ul>`;
}

function scenarioCharts(s: ScenarioResult): NamedChart[] {
  return Object.entries(s.series)
    .filter(([, pts]) => pts.length > 1)
    .map(([key, pts], i) => {
      const w = seriesWords(key);
      const options: LineChartOptions = {
        title: w.title,
        yLabel: w.y,
        xLabel: w.x ?? 'seconds into the measurement',
        series: [{ name: w.y, points: pts.map(([x, y]) => ({ x, y })), color: PALETTE[i % PALETTE.length]! }],
      };
      return { id: `${s.name}-chart-${i}`, svg: lineChart(options), options };
    });
}

function scenarioSection(s: ScenarioResult, charts: readonly NamedChart[]): string {
  const metrics = Object.entries(s.metrics)
    .map(
      ([k, v]) =>
        `<tr><td>${escapeXml(metricWords(k))}</td><td class="r">${Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(3)}</td></tr>`,
    )
    .join('');
  const exp = s.expectations
    .map(
      (e) =>
        `<li class="${e.ok ? 'ok' : 'fail'}">${e.ok ? 'held' : 'DID NOT HOLD'}: ${escapeXml(e.text)}</li>`,
    )
    .join('');
  const cells = s.cells
    .map(
      (c) =>
        `<li><b>${escapeXml(COLUMN_WORDS[c.column] ?? c.column)}, ${escapeXml(variantWords(c.variant))}</b> — ${escapeXml(cellOutcome(c).words)}: ${escapeXml(c.detail)}${causesList(c)}</li>`,
    )
    .join('');
  return `<h2 id="${escapeXml(s.name)}">${escapeXml(s.title)}</h2>
<p class="meta">${escapeXml(s.runtime)} runtime · ${escapeXml(s.startedAt)} · ${s.durationS} s</p>
${s.error ? `<p class="bad">Failed: ${escapeXml(s.error)}</p>` : ''}
<ul>${cells}</ul>${accountsHtml(s.cells)}${s.notes.map((n) => `<p class="meta">${escapeXml(n)}</p>`).join('')}
${metrics ? `<table><tr><th>measured</th><th>value</th></tr>${metrics}</table>` : ''}
${exp ? `<p>Expectations:</p><ul>${exp}</ul>` : ''}${charts.map((c) => `<figure id="${escapeXml(c.id)}">${c.svg}</figure>`).join('')}`;
}

export function renderDrillHtml(r: DrillRecord): string {
  const perScenario = r.scenarios.map((s) => ({ s, charts: scenarioCharts(s) }));
  const live = interactiveParts(perScenario.flatMap((x) => x.charts));
  // Node drills on swarm add a column: what swarm did (node down, tasks rescheduled or not, when).
  const swarmCol = r.scenarios.some((s) => s.swarm !== undefined);
  const swarmTd = (s: ScenarioResult) =>
    swarmCol ? `<td class="cell"><div class="num">${escapeXml(s.swarm ?? '—')}</div></td>` : '';
  const grid = r.scenarios
    .map(
      (s) =>
        `<tr><th>${escapeXml(s.title)}${s.error ? ' <span class="outcome bad">failed</span>' : ''}</th>${GRID_COLUMNS.map((col) => cellHtml(s.cells.filter((c) => c.column === col))).join('')}${swarmTd(s)}</tr>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>pushpull-lab drill</title><style>${REPORT_CSS}\n${CSS}\n${live.css}</style></head><body>
<h1>pushpull-lab drill: the push/pull failure grid, measured</h1>
<p class="meta">${escapeXml(r.startedAt)} · ${escapeXml(r.runtime)} runtime · each cell: the outcome, then the data lost and the signal that showed it</p>
<table id="grid"><tr><th>failure mode</th>${GRID_COLUMNS.map((c) => `<th>${escapeXml(COLUMN_WORDS[c] ?? c)}</th>`).join('')}${swarmCol ? '<th>what swarm did</th>' : ''}</tr>
${grid}</table>
${perScenario.map(({ s, charts }) => scenarioSection(s, charts)).join('\n')}
<p class="meta">Generated from drill.json (next to this file). Self-contained: no network; without scripts the charts are static SVG.</p>
${live.scripts}
</body></html>
`;
}
