import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

// GET /metrics: the producer process itself (is it keeping up?). Deliberately NOT the ledger: ground truth
// is read over the control API only, never through a path a Prometheus could be measuring.

export class SelfMetrics {
  readonly registry = new Registry();
  readonly tickDuration: Histogram;
  readonly backlog: Gauge;
  readonly tickLag: Gauge;
  readonly scrapeDuration: Histogram;
  readonly scrapeBytes: Histogram;
  readonly controlRequests: Counter<'route' | 'code'>;

  constructor(opts: { pods: number; name: string; processMetrics: boolean }) {
    const registers = [this.registry];
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: 'producer_pods', help: 'Virtual pods hosted by this process.', registers }).set(
      opts.pods,
    );
    this.tickDuration = new Histogram({
      name: 'producer_tick_duration_seconds',
      help: 'Time one model tick took (all pods).',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    });
    this.backlog = new Gauge({
      name: 'producer_backlog_orders',
      help: 'Orders due by the model but not generated yet because a tick hit its bound.',
      registers,
    });
    this.tickLag = new Gauge({
      name: 'producer_tick_lag_seconds',
      help: 'How late the last tick started compared to its period.',
      registers,
    });
    this.scrapeDuration = new Histogram({
      name: 'producer_pod_scrape_duration_seconds',
      help: 'Time to render one pod /metrics body.',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers,
    });
    this.scrapeBytes = new Histogram({
      name: 'producer_pod_scrape_body_bytes',
      help: 'Size of pod /metrics bodies served.',
      buckets: [8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576],
      registers,
    });
    this.controlRequests = new Counter({
      name: 'producer_control_requests_total',
      help: 'Control API requests by route and status code.',
      labelNames: ['route', 'code'],
      registers,
    });
  }
}
