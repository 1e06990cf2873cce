// The two provisioned dashboards, as data. Metric, job and alert names follow docs/contracts.md.
//
// Query conventions:
// - aggregate (sum/max/quantile/count) so no panel depends on instance names or the number of targets;
// - rates over `$__rate_interval`, range totals over `$__range`;
// - a panel that is legitimately empty in a healthy run (no alert firing, no parse error, nothing pushed)
//   falls back with `or on() vector(0)` (or a labelled 0), so "no data" always means "broken".
import {
  type AnnotationSpec,
  type DashboardSpec,
  dashboard,
  type Item,
  type PanelSpec,
  type Threshold,
} from './panels.ts';

const RI = '$__rate_interval';

const rate = (metric: string) => `sum(rate(${metric}[${RI}]))`;
const rateBy = (by: string, metric: string) => `sum by (${by}) (rate(${metric}[${RI}]))`;
/** `expr`, or a single 0 sample labelled `label="text"` when `expr` is empty. */
const orZero = (expr: string, label?: string, text?: string) =>
  label === undefined
    ? `${expr} or on() vector(0)`
    : `${expr} or on() label_replace(vector(0), "${label}", "${text}", "", "")`;

const PULL = 'job="producers"';
const NODE = 'job="node-exporter"';

const RED_AT_1: Threshold[] = [
  { color: 'green', value: null },
  { color: 'red', value: 1 },
];

/** Datagrams that reached the collector's UDP socket layer: read (InDatagrams) + dropped (RcvbufErrors). */
const ARRIVED = `${rate('collector_kernel_udp_in_datagrams_total')} + ${rate('collector_kernel_udp_rcvbuf_errors_total')}`;
const lossPct = (dropped: string, delivered: string) =>
  `100 * ${rate(dropped)} / clamp_min(${rate(delivered)} + ${rate(dropped)}, 1e-9)`;
const rangeLossPct = (dropped: string, delivered: string) =>
  `100 * sum(increase(${dropped}[$__range])) / clamp_min(sum(increase(${delivered}[$__range])) + sum(increase(${dropped}[$__range])), 1)`;

/** Time-series override: a series drawn as a dashed red line (limits, timeouts, expectations). */
function dashedLine(name: string, color = 'red'): unknown {
  return {
    matcher: { id: 'byName', options: name },
    properties: [
      { id: 'color', value: { fixedColor: color, mode: 'fixed' } },
      { id: 'custom.lineStyle', value: { dash: [10, 10], fill: 'dash' } },
      { id: 'custom.fillOpacity', value: 0 },
    ],
  };
}

function colored(name: string, color: string): unknown {
  return {
    matcher: { id: 'byName', options: name },
    properties: [{ id: 'color', value: { fixedColor: color, mode: 'fixed' } }],
  };
}

function rightAxis(name: string): unknown {
  return {
    matcher: { id: 'byName', options: name },
    properties: [{ id: 'custom.axisPlacement', value: 'right' }],
  };
}

const stat = (p: Omit<PanelSpec, 'type' | 'w' | 'h'>): PanelSpec => ({
  type: 'stat',
  w: 4,
  h: 4,
  ...p,
  targets: p.targets.map((t) => ({ instant: true, ...t })),
});

const series = (p: Omit<PanelSpec, 'type'>): PanelSpec => ({ type: 'timeseries', ...p });

// ---------------------------------------------------------------------------------------------------------
// Shared panels

const kernelDrops: PanelSpec = stat({
  title: 'Kernel UDP drops (range)',
  description:
    'Datagrams the kernel dropped because the collector socket receive buffer was full ' +
    '(RcvbufErrors, from /proc/net/snmp of the collector network namespace), over the dashboard range.',
  unit: 'short',
  decimals: 0,
  thresholds: RED_AT_1,
  targets: [{ expr: `sum(increase(collector_kernel_udp_rcvbuf_errors_total[$__range]))` }],
});

const udpErrors: PanelSpec = series({
  title: 'Kernel UDP receive errors',
  description:
    'Per-second UDP receive errors of the collector network namespace, as node-exporter (node_netstat_Udp_*) ' +
    'and the collector itself (collector_kernel_udp_*) read them. RcvbufErrors = receive buffer full: ' +
    'push data lost before the collector saw it. Alert: UdpReceiveErrors.',
  w: 12,
  h: 8,
  unit: 'pps',
  min: 0,
  targets: [
    { expr: rate(`node_netstat_Udp_RcvbufErrors{${NODE}}`), legendFormat: 'RcvbufErrors (node-exporter)' },
    { expr: rate(`node_netstat_Udp_InErrors{${NODE}}`), legendFormat: 'InErrors (node-exporter)' },
    { expr: rate('collector_kernel_udp_rcvbuf_errors_total'), legendFormat: 'RcvbufErrors (collector)' },
    { expr: rate('collector_kernel_udp_in_errors_total'), legendFormat: 'InErrors (collector)' },
  ],
});

const sourcesActive: PanelSpec = series({
  title: 'Push sources: active vs expected',
  description:
    'Heartbeat liveness, the push side\u2019s answer to `up`: sources (pods) the collector heard from within ' +
    'its active window, against the number of virtual pods the lab says are running (pushpull_lab_expected_sources ' +
    'via the Pushgateway; without a lab run, the number of producer targets Prometheus discovered). ' +
    'Silent = last heartbeat older than 30 s (alert PushHeartbeatAbsent). With heartbeats off a dead pod is invisible here.',
  w: 12,
  h: 8,
  unit: 'short',
  min: 0,
  decimals: 0,
  targets: [
    { expr: 'sum(collector_sources_active)', legendFormat: 'active (heard within window)' },
    {
      expr: `sum(pushpull_lab_expected_sources) or on() count(up{${PULL}})`,
      legendFormat: 'expected',
    },
    {
      expr: orZero('count(time() - collector_source_last_seen_timestamp_seconds > 30)'),
      legendFormat: 'silent > 30s',
    },
  ],
  overrides: [dashedLine('expected', 'blue'), colored('silent > 30s', 'red')],
});

// ---------------------------------------------------------------------------------------------------------
// Market open: push vs pull

const marketOpenItems: Item[] = [
  { row: 'Now' },
  stat({
    title: 'Lab phase',
    description:
      'The phase the lab published last (pushpull_lab_phase == 1, pushed to the Pushgateway under job="pushpull_lab").',
    unit: 'none',
    targets: [
      {
        expr: orZero('max by (phase) (pushpull_lab_phase == 1)', 'phase', 'no lab run'),
        legendFormat: '{{phase}}',
      },
    ],
    options: { colorMode: 'none', textMode: 'name' },
  }),
  stat({
    title: 'Alerts firing',
    description:
      'Prometheus alerts in state firing (InstanceDown, PushHeartbeatAbsent, UdpReceiveErrors, ' +
      'ScrapeDurationNearTimeout, SampleLimitHit, PushgatewayGroupStale).',
    decimals: 0,
    thresholds: RED_AT_1,
    targets: [{ expr: orZero('count(ALERTS{alertstate="firing"})') }],
  }),
  stat({
    title: 'Targets down',
    description: 'Scrape targets of every job whose last scrape failed (up == 0).',
    decimals: 0,
    thresholds: RED_AT_1,
    targets: [{ expr: orZero('count(up == 0)') }],
  }),
  stat({
    title: 'Push sources silent > 30s',
    description: 'Push sources whose last heartbeat is older than 30 s (alert PushHeartbeatAbsent).',
    decimals: 0,
    thresholds: RED_AT_1,
    targets: [{ expr: orZero('count(time() - collector_source_last_seen_timestamp_seconds > 30)') }],
  }),
  kernelDrops,
  stat({
    title: 'Push loss (kernel, range)',
    description:
      'Share of datagrams that reached the collector socket and were dropped by the kernel (RcvbufErrors over ' +
      'InDatagrams + RcvbufErrors), over the dashboard range. Excludes losses before the socket (sender buffers).',
    unit: 'percent',
    decimals: 2,
    thresholds: [
      { color: 'green', value: null },
      { color: 'orange', value: 0.01 },
      { color: 'red', value: 1 },
    ],
    targets: [
      {
        expr: rangeLossPct(
          'collector_kernel_udp_rcvbuf_errors_total',
          'collector_kernel_udp_in_datagrams_total',
        ),
      },
    ],
  }),

  { row: 'Orders: one order flow, two collection paths' },
  series({
    title: 'Fleet order rate: pull vs push',
    description:
      'Orders per second across the fleet as each path delivers them: pull = rate of the pods\u2019 orders_total ' +
      'as Prometheus scraped them; push = rate of the orders counter the StatsD collector aggregated. ' +
      'Where the lines part, one path is losing (or delaying) data.',
    w: 24,
    h: 9,
    unit: 'ops',
    min: 0,
    targets: [
      { expr: rate(`orders_total{${PULL}}`), legendFormat: 'pull: orders_total (scraped)' },
      { expr: rate('orders{job="collector"}'), legendFormat: 'push: orders (collector)' },
    ],
  }),

  { row: 'Pull: what every scrape costs' },
  series({
    title: '/metrics body size per pod',
    description:
      'Uncompressed size of each pod\u2019s /metrics response (scrape_body_size_bytes, Prometheus ' +
      '--enable-feature=extra-scrape-metrics): largest and median pod. It balloons at the open as new ' +
      'instruments add series. -1 means the body exceeded body_size_limit and the scrape was discarded.',
    w: 8,
    h: 8,
    unit: 'bytes',
    targets: [
      { expr: `max(scrape_body_size_bytes{${PULL}})`, legendFormat: 'largest pod' },
      { expr: `quantile(0.5, scrape_body_size_bytes{${PULL}})`, legendFormat: 'median pod' },
    ],
  }),
  series({
    title: 'Samples per scrape',
    description:
      'Samples in each pod\u2019s scrape (scrape_samples_scraped): largest and median pod, and the fleet total ' +
      '(right axis) that Prometheus ingests every interval.',
    w: 8,
    h: 8,
    unit: 'short',
    targets: [
      { expr: `max(scrape_samples_scraped{${PULL}})`, legendFormat: 'largest pod' },
      { expr: `quantile(0.5, scrape_samples_scraped{${PULL}})`, legendFormat: 'median pod' },
      { expr: `sum(scrape_samples_scraped{${PULL}})`, legendFormat: 'fleet total' },
    ],
    overrides: [rightAxis('fleet total')],
  }),
  series({
    title: 'Scrapes discarded by limits',
    description:
      'Scrapes Prometheus threw away whole because a target exceeded sample_limit or body_size_limit ' +
      '(the target then shows up == 0). Alert: SampleLimitHit.',
    w: 8,
    h: 8,
    unit: 'suffix: scrapes/s',
    min: 0,
    targets: [
      { expr: rate('prometheus_target_scrapes_exceeded_sample_limit_total'), legendFormat: 'sample_limit' },
      {
        expr: rate('prometheus_target_scrapes_exceeded_body_size_limit_total'),
        legendFormat: 'body_size_limit',
      },
    ],
  }),
  series({
    title: 'Scrape duration p50 / p99 (producer pods)',
    description:
      'Distribution of the latest scrape duration across producer pods (quantiles over targets), with the ' +
      'slowest pod and the scrape timeout. Alert ScrapeDurationNearTimeout fires above half the timeout.',
    w: 12,
    h: 9,
    unit: 's',
    min: 0,
    targets: [
      { expr: `quantile(0.5, scrape_duration_seconds{${PULL}})`, legendFormat: 'p50' },
      { expr: `quantile(0.99, scrape_duration_seconds{${PULL}})`, legendFormat: 'p99' },
      { expr: `max(scrape_duration_seconds{${PULL}})`, legendFormat: 'slowest pod' },
      { expr: `max(scrape_timeout_seconds{${PULL}})`, legendFormat: 'scrape timeout' },
    ],
    overrides: [dashedLine('scrape timeout')],
  }),
  {
    type: 'heatmap',
    title: 'Scrape duration heatmap (producer pods)',
    description:
      'Every producer pod\u2019s scrape duration, bucketed (log2) per time step: a band moving up at the open is ' +
      'the whole fleet getting slower to scrape, not one bad pod.',
    w: 12,
    h: 9,
    unit: 's',
    targets: [{ expr: `scrape_duration_seconds{${PULL}}`, legendFormat: '{{pod}}' }],
  },
  series({
    title: 'up by job',
    description:
      'Share of each job\u2019s targets whose last scrape succeeded (avg of up). Alert: InstanceDown.',
    w: 12,
    h: 8,
    unit: 'percentunit',
    min: 0,
    max: 1,
    targets: [{ expr: 'avg by (job) (up)', legendFormat: '{{job}}' }],
  }),
  series({
    title: 'Targets down by job',
    description: 'Number of targets per job whose last scrape failed (sum of 1 - up).',
    w: 12,
    h: 8,
    unit: 'short',
    min: 0,
    decimals: 0,
    targets: [{ expr: 'sum by (job) (1 - up)', legendFormat: '{{job}}' }],
  }),

  { row: 'Push: datagrams and loss' },
  series({
    title: 'Push datagrams: arrived, read, dropped',
    description:
      'UDP datagrams per second at the collector. Arrived = what reached its socket layer (kernel InDatagrams + ' +
      'RcvbufErrors, from the collector\u2019s /proc/net/snmp) — on loopback, what the producers emitted. ' +
      'Read = datagrams the collector parsed (collector_packets_total, udp). Dropped = receive buffer full. ' +
      'node-exporter shows the same namespace\u2019s InDatagrams independently (in the process runtime it is the ' +
      'host namespace, so it also counts other UDP traffic).',
    w: 12,
    h: 9,
    unit: 'pps',
    min: 0,
    targets: [
      { expr: ARRIVED, legendFormat: 'arrived (kernel)' },
      { expr: rate('collector_packets_total{transport="udp"}'), legendFormat: 'read (collector)' },
      { expr: rate(`node_netstat_Udp_InDatagrams{${NODE}}`), legendFormat: 'InDatagrams (node-exporter)' },
      { expr: rate('collector_kernel_udp_rcvbuf_errors_total'), legendFormat: 'dropped (RcvbufErrors)' },
    ],
    overrides: [colored('dropped (RcvbufErrors)', 'red')],
  }),
  series({
    title: 'Push loss %',
    description:
      'Datagrams dropped by the kernel as a share of those that arrived (RcvbufErrors / (InDatagrams + ' +
      'RcvbufErrors)), from the collector\u2019s own counters and from node-exporter.',
    w: 12,
    h: 9,
    unit: 'percent',
    min: 0,
    targets: [
      {
        expr: lossPct('collector_kernel_udp_rcvbuf_errors_total', 'collector_kernel_udp_in_datagrams_total'),
        legendFormat: 'loss % (collector)',
      },
      {
        expr: lossPct(`node_netstat_Udp_RcvbufErrors{${NODE}}`, `node_netstat_Udp_InDatagrams{${NODE}}`),
        legendFormat: 'loss % (node-exporter)',
      },
    ],
  }),
  udpErrors,
  sourcesActive,

  { row: 'Pushgateway and alerts' },
  series({
    title: 'Pushgateway group age',
    description:
      'Seconds since each Pushgateway group (job) was last pushed (time() - push_time_seconds). The ' +
      'Pushgateway serves a dead job\u2019s last values forever; alert PushgatewayGroupStale above 60 s.',
    w: 12,
    h: 8,
    unit: 's',
    min: 0,
    thresholds: [
      { color: 'green', value: null },
      { color: 'red', value: 60 },
    ],
    thresholdLines: true,
    targets: [
      {
        expr: orZero('max by (job) (time() - push_time_seconds)', 'job', 'no group pushed'),
        legendFormat: '{{job}}',
      },
    ],
  }),
  series({
    title: 'Alerts firing',
    description: 'Firing alerts by name over time (0 = none firing).',
    w: 12,
    h: 8,
    unit: 'short',
    min: 0,
    decimals: 0,
    custom: { lineInterpolation: 'stepAfter', fillOpacity: 30 },
    targets: [
      {
        expr: orZero('count by (alertname) (ALERTS{alertstate="firing"})', 'alertname', 'none firing'),
        legendFormat: '{{alertname}}',
      },
    ],
    overrides: [colored('none firing', 'green')],
  }),
];

/** Lab phase, burst instant and faults, as the lab pushes them to the Pushgateway (docs/contracts.md). */
const labAnnotations: AnnotationSpec[] = [
  {
    name: 'Lab phases',
    expr: 'max by (run_id, phase) (pushpull_lab_phase_started_timestamp_seconds > 0) * 1000',
    useValueForTime: true,
    iconColor: 'blue',
    titleFormat: 'phase: {{phase}}',
    textFormat: 'run {{run_id}}',
    tagKeys: 'phase,run_id',
  },
  {
    name: 'Burst instant',
    expr: 'max by (run_id) (pushpull_lab_burst_timestamp_seconds > 0) * 1000',
    useValueForTime: true,
    iconColor: 'orange',
    titleFormat: 'burst T0',
    textFormat: 'run {{run_id}}',
    tagKeys: 'run_id',
  },
  {
    name: 'Faults',
    // A fault is a change of its counter, or its first appearance (a new series has no earlier sample).
    expr:
      `(sum by (run_id, kind, target) (changes(pushpull_lab_faults_total[${RI}])) > 0)` +
      ' or (sum by (run_id, kind, target) (pushpull_lab_faults_total)' +
      ` unless sum by (run_id, kind, target) (pushpull_lab_faults_total offset ${RI}))`,
    iconColor: 'red',
    titleFormat: 'fault: {{kind}} {{target}}',
    textFormat: 'run {{run_id}}',
    tagKeys: 'kind,target,run_id',
  },
  {
    name: 'Alerts firing',
    expr: orZero('count by (alertname) (ALERTS{alertstate="firing"})'),
    iconColor: 'purple',
    titleFormat: 'alert: {{alertname}}',
    tagKeys: 'alertname',
    enable: false,
  },
];

const marketOpenSpec: DashboardSpec = {
  uid: 'pushpull-market-open',
  title: 'Market open: push vs pull',
  description:
    'The 09:15 burst seen from both collection paths at once: what each path delivered, what each scrape or ' +
    'datagram cost, and what was lost where.',
  tags: ['pushpull', 'drill'],
  items: marketOpenItems,
  annotations: labAnnotations,
};

// ---------------------------------------------------------------------------------------------------------
// Collector

const collectorItems: Item[] = [
  { row: 'Now' },
  stat({
    title: 'Collector up',
    description: 'Whether Prometheus\u2019s last scrape of the collector succeeded.',
    unit: 'none',
    targets: [{ expr: 'min(up{job="collector"})' }],
    thresholds: [
      { color: 'red', value: null },
      { color: 'green', value: 1 },
    ],
    mappings: [
      {
        type: 'value',
        options: { '0': { text: 'DOWN', index: 0 }, '1': { text: 'UP', index: 1 } },
      },
    ],
  }),
  stat({
    title: 'Series',
    description: 'Series the collector currently holds (and exposes at /metrics).',
    unit: 'short',
    targets: [{ expr: 'sum(collector_series)' }],
    options: { colorMode: 'none' },
  }),
  stat({
    title: 'Sources active',
    description: 'Push sources heard from within the active window (default 30 s).',
    unit: 'short',
    targets: [{ expr: 'sum(collector_sources_active)' }],
    options: { colorMode: 'none' },
  }),
  stat({
    title: 'UDP receive buffer (granted)',
    description:
      'SO_RCVBUF the kernel actually granted the collector socket (requests above net.core.rmem_max are ' +
      'silently capped).',
    unit: 'bytes',
    targets: [{ expr: 'max(collector_udp_rcvbuf_bytes)' }],
    options: { colorMode: 'none' },
  }),
  stat({
    title: 'Parse errors (range)',
    description: 'Lines dropped as unparseable over the dashboard range, all reasons.',
    unit: 'short',
    decimals: 0,
    thresholds: RED_AT_1,
    targets: [{ expr: 'sum(increase(collector_parse_errors_total[$__range]))' }],
  }),
  kernelDrops,

  { row: 'Traffic by transport' },
  series({
    title: 'Packets received',
    description: 'Datagrams (UDP) and reads (TCP) per second (collector_packets_total).',
    w: 12,
    h: 8,
    unit: 'pps',
    min: 0,
    targets: [{ expr: rateBy('transport', 'collector_packets_total'), legendFormat: '{{transport}}' }],
  }),
  series({
    title: 'Bytes received',
    description: 'Payload bytes per second (collector_bytes_total).',
    w: 12,
    h: 8,
    unit: 'Bps',
    min: 0,
    targets: [{ expr: rateBy('transport', 'collector_bytes_total'), legendFormat: '{{transport}}' }],
  }),
  series({
    title: 'Lines received',
    description:
      'StatsD lines per second received (collector_lines_total; one datagram can carry many lines) and aggregated ' +
      '(lines = accepted + parse errors + series rejected).',
    w: 12,
    h: 8,
    unit: 'suffix: lines/s',
    min: 0,
    targets: [
      { expr: rateBy('transport', 'collector_lines_total'), legendFormat: 'received ({{transport}})' },
      { expr: rate('collector_lines_accepted_total'), legendFormat: 'accepted (all transports)' },
    ],
  }),
  series({
    title: 'Lines per packet',
    description:
      'Average StatsD lines per datagram/read: 1 in per-event push mode, more when producers buffer ' +
      '(maxBufferSize) or aggregate.',
    w: 12,
    h: 8,
    unit: 'short',
    min: 0,
    targets: [
      {
        expr:
          `sum by (transport) (rate(collector_lines_total[${RI}]))` +
          ` / clamp_min(sum by (transport) (rate(collector_packets_total[${RI}])), 1e-9)`,
        legendFormat: '{{transport}}',
      },
    ],
  }),

  { row: 'Parse and aggregate' },
  series({
    title: 'Samples by type',
    description: 'Samples per second by StatsD type (counter, gauge, timer/histogram, set, ...).',
    w: 8,
    h: 8,
    unit: 'suffix: samples/s',
    min: 0,
    targets: [{ expr: rateBy('type', 'collector_samples_total'), legendFormat: '{{type}}' }],
  }),
  series({
    title: 'Parse errors by reason',
    description:
      'Bad input becomes a metric, never an exception: lines dropped per second by reason, tags ignored, and ' +
      'datagrams dropped whole for exceeding --max-packet-size (their lines are not counted).',
    w: 8,
    h: 8,
    unit: 'suffix: /s',
    min: 0,
    targets: [
      { expr: rateBy('reason', 'collector_parse_errors_total'), legendFormat: 'line: {{reason}}' },
      { expr: rate('collector_tag_errors_total'), legendFormat: 'tag ignored' },
      {
        expr: rateBy('transport', 'collector_packets_too_large_total'),
        legendFormat: 'packet too large ({{transport}})',
      },
    ],
  }),
  series({
    title: 'Series and rejected series',
    description:
      'Series held (left) and new series refused per second because --max-series was reached (right).',
    w: 8,
    h: 8,
    unit: 'short',
    min: 0,
    targets: [
      { expr: 'sum(collector_series)', legendFormat: 'series' },
      { expr: rate('collector_series_rejected_total'), legendFormat: 'rejected /s' },
    ],
    overrides: [rightAxis('rejected /s'), colored('rejected /s', 'red')],
  }),

  { row: 'Collector runtime' },
  series({
    title: 'Flush duration',
    description:
      'Time to render the aggregated series for one /metrics request (collector_flush_duration_seconds).',
    w: 8,
    h: 8,
    unit: 's',
    min: 0,
    targets: [{ expr: 'max(collector_flush_duration_seconds)', legendFormat: 'flush' }],
  }),
  series({
    title: 'Event-loop lag',
    description:
      'How late the collector\u2019s event loop runs timers. While it lags it is not reading its socket, and the ' +
      'receive buffer fills: lag spikes precede RcvbufErrors.',
    w: 8,
    h: 8,
    unit: 's',
    min: 0,
    targets: [{ expr: 'max(collector_event_loop_lag_seconds)', legendFormat: 'lag' }],
  }),
  series({
    title: 'Collector /metrics scrape',
    description:
      'What it costs Prometheus to pull the collector\u2019s aggregated output: body size (left) and scrape ' +
      'duration (right).',
    w: 8,
    h: 8,
    unit: 'bytes',
    targets: [
      { expr: 'max(scrape_body_size_bytes{job="collector"})', legendFormat: 'body size' },
      { expr: 'max(scrape_duration_seconds{job="collector"})', legendFormat: 'scrape duration' },
    ],
    overrides: [
      {
        matcher: { id: 'byName', options: 'scrape duration' },
        properties: [
          { id: 'unit', value: 's' },
          { id: 'custom.axisPlacement', value: 'right' },
        ],
      },
    ],
  }),

  { row: 'Kernel UDP (collector network namespace)' },
  series({
    title: 'Kernel UDP datagrams',
    description:
      'From the collector\u2019s /proc/net/snmp: datagrams delivered to sockets (InDatagrams), dropped for a ' +
      'full receive buffer (RcvbufErrors) and other receive errors (InErrors), per second.',
    w: 12,
    h: 8,
    unit: 'pps',
    min: 0,
    targets: [
      { expr: rate('collector_kernel_udp_in_datagrams_total'), legendFormat: 'InDatagrams' },
      { expr: rate('collector_kernel_udp_rcvbuf_errors_total'), legendFormat: 'RcvbufErrors' },
      { expr: rate('collector_kernel_udp_in_errors_total'), legendFormat: 'InErrors' },
    ],
    overrides: [colored('RcvbufErrors', 'red'), colored('InErrors', 'orange')],
  }),
  udpErrors,
  sourcesActive,
  series({
    title: 'Oldest push source silence',
    description:
      'Seconds since the least recently heard source sent anything (time() - collector_source_last_seen_timestamp_seconds); ' +
      'a source is kept until --source-ttl so its silence stays visible and alertable.',
    w: 12,
    h: 8,
    unit: 's',
    min: 0,
    thresholds: [
      { color: 'green', value: null },
      { color: 'red', value: 30 },
    ],
    thresholdLines: true,
    targets: [
      {
        expr: 'max(time() - collector_source_last_seen_timestamp_seconds)',
        legendFormat: 'oldest silence',
      },
    ],
  }),

  // The OTLP receiver is opt-in (--otlp-http): with it off these series do not exist, so each query falls
  // back to a labelled 0 ("receiver off") rather than "No data".
  { row: 'OTLP/HTTP receiver' },
  series({
    title: 'OTLP points',
    description:
      'Data points per second from OTLP exporters: accepted into the store, and refused by reason ' +
      '(out_of_order, unsupported_type, max_series, ...; the sender sees them in partial_success).',
    w: 8,
    h: 8,
    unit: 'suffix: points/s',
    min: 0,
    targets: [
      {
        expr: orZero(rateBy('outcome', 'collector_otlp_points_total'), 'outcome', 'receiver off'),
        legendFormat: '{{outcome}}',
      },
      {
        expr: orZero(`${rateBy('reason', 'collector_otlp_points_refused_total')} > 0`, 'reason', 'none'),
        legendFormat: 'refused: {{reason}}',
      },
    ],
    overrides: [colored('refused', 'red')],
  }),
  series({
    title: 'OTLP requests by status',
    description:
      'POST /v1/metrics answers per second by HTTP status: 200 (maybe with partial_success), 400 undecodable, ' +
      '413 too large, 415 wrong content type, 429 in-flight budget full (the exporter retries after Retry-After).',
    w: 8,
    h: 8,
    unit: 'reqps',
    min: 0,
    targets: [
      {
        expr: orZero(rateBy('code', 'collector_otlp_requests_total'), 'code', 'receiver off'),
        legendFormat: '{{code}}',
      },
    ],
    overrides: [colored('429', 'orange')],
  }),
  series({
    title: 'OTLP request latency and bytes in flight',
    description:
      'p50/p99 of collector_otlp_request_seconds (every status; 0 while idle or off) and the request bytes ' +
      'being received (right; 429s begin at --otlp-max-inflight-bytes).',
    w: 8,
    h: 8,
    unit: 's',
    min: 0,
    targets: [
      ...[0.5, 0.99].map((q) => ({
        // NaN (no requests in the window) is filtered by ">= 0", then the fallback keeps the panel non-empty.
        expr: orZero(
          `histogram_quantile(${q}, sum by (le) (rate(collector_otlp_request_seconds_bucket[${RI}]))) >= 0`,
        ),
        legendFormat: `p${q * 100}`,
      })),
      { expr: orZero('max(collector_otlp_inflight_bytes)'), legendFormat: 'bytes in flight' },
    ],
    overrides: [
      {
        matcher: { id: 'byName', options: 'bytes in flight' },
        properties: [
          { id: 'unit', value: 'bytes' },
          { id: 'custom.axisPlacement', value: 'right' },
        ],
      },
    ],
  }),
];

const collectorSpec: DashboardSpec = {
  uid: 'pushpull-collector',
  title: 'pushpull collector',
  description:
    'The StatsD/DogStatsD collector\u2019s own view: what arrived by transport, what it parsed and kept, how ' +
    'busy it is, what the kernel dropped before it could read, and its OTLP/HTTP receiver.',
  tags: ['pushpull', 'collector'],
  items: collectorItems,
  annotations: labAnnotations.filter((a) => a.name !== 'Alerts firing'),
};

/** File name under grafana/dashboards → dashboard JSON model. */
export function buildDashboards(): Record<string, Record<string, unknown>> {
  return {
    'market-open.json': dashboard(marketOpenSpec),
    'collector.json': dashboard(collectorSpec),
  };
}

/** The exact text of a dashboard file (what generate.ts writes and the unit test compares). */
export function renderDashboard(model: Record<string, unknown>): string {
  return `${JSON.stringify(model, null, 2)}\n`;
}
