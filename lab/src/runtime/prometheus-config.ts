import { isAbsolute, join } from 'node:path';
import { LabError } from '@pushpull/common';
import { parse, stringify } from 'yaml';
import { parsePromDuration, promDuration } from '../core/prom-duration.ts';
import { PEER_JOB, peerJob } from './prometheus-peer.ts';

// The process runtime's Prometheus config is DERIVED from the compose config (prometheus/prometheus.yml):
// the same jobs, the same rule files and limits; only what must differ on 127.0.0.1 is rewritten —
// static targets (compose service names → local ports), the file_sd directory (the run's sd dir),
// the scrape interval (a run may choose a shorter one). Pure: text in, text out.

/** Local address (HOST:PORT) per job name for every job that has static targets in the source config. */
export type JobAddresses = Record<string, string | null>;

/** Prometheus scrape settings for the producers job (sample_limit, body_size_limit, timeout; `off`: keep the
 * producers job — its name is a contract — but drop every target it discovers, for --pull off). */
export interface ProducerScrape {
  sampleLimit?: number;
  bodySizeLimit?: string;
  scrapeTimeoutMs?: number;
  off?: boolean;
  /** A stack reused across runs (#25): `instance` = the pod, so a restarted pod keeps its series. */
  stableInstance?: boolean;
}

export interface DeriveOptions {
  /** Directory holding the source config (rule_files are resolved against it and made absolute). */
  sourceDir: string;
  sdDir: string;
  scrapeIntervalMs: number;
  jobAddresses: JobAddresses;
  producerScrape?: ProducerScrape;
  /**
   * Which store this config is for (#24; absent = shared): `pull` keeps the targets of the pull path's jobs,
   * `push` those of the push path's, `shared` all. Every job stays (job names are a contract), with no targets
   * where it belongs to the other store: both stores run the same configuration apart from their targets.
   */
  role?: StoreRole;
  /** #28: `global.external_labels` added (the Prometheus pair: `replica`, the one difference between the two). */
  externalLabels?: Record<string, string>;
  /** #28: the pair's meta-monitoring — a `prometheus-peer` job scraping the other replica, listed in this file. */
  peerSdFile?: string;
}

/** The store a Prometheus config is rendered for: one of the two per-path stores, or the shared one. */
export type StoreRole = 'pull' | 'push' | 'shared';

/** Which store's jobs are which: each store also scrapes itself (`prometheus`), every other job is one path's. */
export const STORE_JOBS: Record<'pull' | 'push', readonly string[]> = {
  pull: ['producers', 'prometheus'],
  push: ['collector', 'pushgateway', 'node-exporter', 'prometheus'],
};

/** True when a job's targets belong in the store `role` (every job does in the shared store). */
export function jobInStore(job: string, role: StoreRole): boolean {
  return role === 'shared' || STORE_JOBS[role].includes(job);
}

export const PRODUCERS_JOB = 'producers';

export { parsePromDuration, promDuration };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface DerivedConfig {
  yaml: string;
  scrapeIntervalMs: number;
  scrapeTimeoutMs: number;
  /** Effective scrape timeout of the producers job (the one "slower than half its timeout" refers to). */
  producerScrapeTimeoutMs: number;
  evaluationIntervalMs: number;
  jobs: string[];
}

export function derivePrometheusConfig(sourceYaml: string, opts: DeriveOptions): DerivedConfig {
  const doc = parseSource(sourceYaml);
  const { global, interval, timeout, evaluation } = deriveGlobal(doc, opts.scrapeIntervalMs);
  if (opts.externalLabels)
    global.external_labels = {
      ...(isObj(global.external_labels) ? global.external_labels : {}),
      ...opts.externalLabels,
    };
  const rules = resolveRuleFiles(doc, opts.sourceDir);
  if (!Array.isArray(doc.scrape_configs))
    throw new LabError('LAB_ERR_CONFIG', 'prometheus.yml: scrape_configs missing');
  const jobs: string[] = [];
  let producerTimeout = timeout;
  const scrapeConfigs = doc.scrape_configs.map((raw) => {
    const job = deriveJob(raw, opts, interval, timeout);
    const name = String(job.job_name);
    jobs.push(name);
    if (name === PRODUCERS_JOB && typeof job.scrape_timeout === 'string')
      producerTimeout = parsePromDuration(job.scrape_timeout);
    return job;
  });
  if (opts.peerSdFile) {
    scrapeConfigs.push(peerJob(opts.peerSdFile));
    jobs.push(PEER_JOB);
  }
  checkJobContract(jobs, opts.jobAddresses);
  const out: Obj = { ...doc, global, rule_files: rules, scrape_configs: scrapeConfigs };
  const role = opts.role ?? 'shared';
  const header = `# DERIVED by the lab from prometheus/prometheus.yml — do not edit; regenerated per run.${role === 'shared' ? '' : ` Store: ${role} (targets of the ${role} path only).`}\n`;
  return {
    yaml: header + stringify(out),
    scrapeIntervalMs: interval,
    scrapeTimeoutMs: timeout,
    producerScrapeTimeoutMs: producerTimeout,
    evaluationIntervalMs: evaluation,
    jobs,
  };
}

export function parseSource(sourceYaml: string): Obj {
  let doc: unknown;
  try {
    doc = parse(sourceYaml);
  } catch (e) {
    throw new LabError('LAB_ERR_CONFIG', `prometheus.yml is not valid YAML: ${(e as Error).message}`);
  }
  if (!isObj(doc)) throw new LabError('LAB_ERR_CONFIG', 'prometheus.yml: top level is not a mapping');
  return doc;
}

/** The `global` block with the run's interval, and the timeout and evaluation interval that follow from it. */
export function deriveGlobal(
  doc: Obj,
  interval: number,
): { global: Obj; interval: number; timeout: number; evaluation: number } {
  const global: Obj = isObj(doc.global) ? { ...doc.global } : {};
  const srcTimeoutMs =
    typeof global.scrape_timeout === 'string' ? parsePromDuration(global.scrape_timeout) : 10_000;
  const srcEvalMs =
    typeof global.evaluation_interval === 'string' ? parsePromDuration(global.evaluation_interval) : 60_000;
  // A timeout may not exceed the interval: keep the source timeout unless the chosen interval is shorter.
  const timeout = Math.min(srcTimeoutMs, interval);
  // Rules follow the data: evaluate at least as often as we scrape (never slower than the source config).
  const evaluation = Math.min(srcEvalMs, interval);
  global.scrape_interval = promDuration(interval);
  global.scrape_timeout = promDuration(timeout);
  global.evaluation_interval = promDuration(evaluation);
  return { global, interval, timeout, evaluation };
}

/** rule_files made absolute against the source directory (the derived config lives elsewhere). */
function resolveRuleFiles(doc: Obj, sourceDir: string): string[] {
  const ruleFiles = Array.isArray(doc.rule_files) ? doc.rule_files : [];
  return ruleFiles.map((f) => {
    if (typeof f !== 'string')
      throw new LabError('LAB_ERR_CONFIG', 'prometheus.yml: rule_files entry not a string');
    return isAbsolute(f) ? f : join(sourceDir, f);
  });
}

/** One scrape job rewritten for this run: local targets, the run's sd dir, interval and producer limits. */
export function deriveJob(raw: unknown, opts: DeriveOptions, interval: number, timeout: number): Obj {
  if (!isObj(raw)) throw new LabError('LAB_ERR_CONFIG', 'prometheus.yml: scrape_configs entry not a mapping');
  const job = { ...raw };
  const name = String(job.job_name);
  if (Array.isArray(job.static_configs)) {
    if (!(name in opts.jobAddresses))
      throw new LabError(
        'LAB_ERR_CONFIG',
        `deriving the process runtime's Prometheus config: job "${name}" has static targets but no local address (known: ${Object.keys(opts.jobAddresses).join(', ')})`,
        { job: name },
      );
    const addr = opts.jobAddresses[name];
    job.static_configs = addr
      ? job.static_configs.map((sc) => (isObj(sc) ? { ...sc, targets: [addr] } : sc))
      : // The component is not running (e.g. node-exporter off): keep the job, with no targets.
        [{ targets: [] }];
  }
  if (Array.isArray(job.file_sd_configs)) {
    job.file_sd_configs = job.file_sd_configs.map((sd) =>
      isObj(sd) ? { ...sd, files: [join(opts.sdDir, '*.json')] } : sd,
    );
  }
  // A job-level interval/timeout would silently ignore the chosen interval: align them with it.
  if (job.scrape_interval !== undefined) job.scrape_interval = promDuration(interval);
  if (job.scrape_timeout !== undefined) job.scrape_timeout = promDuration(timeout);
  if (name === PRODUCERS_JOB && opts.producerScrape) {
    const p = opts.producerScrape;
    if (p.sampleLimit !== undefined) job.sample_limit = p.sampleLimit;
    if (p.bodySizeLimit !== undefined) job.body_size_limit = p.bodySizeLimit;
    if (p.scrapeTimeoutMs !== undefined)
      job.scrape_timeout = promDuration(Math.min(p.scrapeTimeoutMs, interval));
    // Discovery stays (file_sd or http_sd alike); relabelling drops every target before it is scraped.
    if (p.off) job.relabel_configs = DROP_ALL;
    // A restarted producer listens on a new port: with `instance` = its address every run on a reused stack
    // would add a new set of series to Prometheus' head (never freed within a run); the pod id is stable.
    else if (p.stableInstance) job.relabel_configs = POD_AS_INSTANCE;
  }
  return jobInStore(name, opts.role ?? 'shared') ? job : withoutTargets(job);
}

const POD_AS_INSTANCE = [{ source_labels: ['pod'], target_label: 'instance' }];

const DROP_ALL = [{ source_labels: ['__address__'], regex: '.*', action: 'drop' }];

/** A job of the other path's store: kept (its name is a contract), with no target scraped. */
function withoutTargets(job: Obj): Obj {
  const out = { ...job };
  if (Array.isArray(out.static_configs)) out.static_configs = [{ targets: [] }];
  if (out.file_sd_configs !== undefined || out.http_sd_configs !== undefined) out.relabel_configs = DROP_ALL;
  return out;
}

/** The job names are a contract (rules, dashboards and probes name them): every one must be present. */
function checkJobContract(jobs: readonly string[], jobAddresses: JobAddresses): void {
  for (const name of Object.keys(jobAddresses)) {
    if (!jobs.includes(name))
      throw new LabError('LAB_ERR_CONFIG', `prometheus.yml has no job "${name}" (contract: fixed job names)`);
  }
  if (!jobs.includes(PRODUCERS_JOB))
    throw new LabError(
      'LAB_ERR_CONFIG',
      `prometheus.yml has no "${PRODUCERS_JOB}" job (contract: fixed job names)`,
    );
}

/**
 * The derived config for Prometheus in a container beside the compose services (docker and swarm runtimes):
 * the service names are network aliases there, so the compose addresses stay valid and only the interval,
 * limits, rule paths and whether node-exporter runs (`nodeExporter`, its address, or null) change.
 */
export function containerPrometheusConfig(
  sourceYaml: string,
  opts: Pick<DeriveOptions, 'scrapeIntervalMs' | 'producerScrape' | 'role' | 'externalLabels'>,
  nodeExporter: string | null,
): DerivedConfig {
  return derivePrometheusConfig(sourceYaml, {
    sourceDir: '/etc/prometheus',
    sdDir: '/sd',
    scrapeIntervalMs: opts.scrapeIntervalMs,
    jobAddresses: {
      collector: 'collector:9102',
      pushgateway: 'pushgateway:9091',
      'node-exporter': nodeExporter,
      prometheus: 'localhost:9090',
    },
    ...(opts.producerScrape ? { producerScrape: opts.producerScrape } : {}),
    ...(opts.role ? { role: opts.role } : {}),
    ...(opts.externalLabels ? { externalLabels: opts.externalLabels } : {}),
  });
}

/** The stores a stack runs for its store mode, by component: one shared Prometheus, or one per path. */
export function storeRoles(
  store: 'per-path' | 'shared' | undefined,
): { component: string; role: StoreRole }[] {
  return store === 'per-path'
    ? [
        { component: 'prometheus', role: 'pull' },
        { component: 'prometheus-push', role: 'push' },
      ]
    : [{ component: 'prometheus', role: 'shared' }];
}

/**
 * prometheus/prometheus-push.yml, the compose stack's push store: prometheus.yml rendered for the push role with
 * the compose addresses (a test keeps the checked-in file equal to this). Regenerate with
 * `npx tsx -e "…composePushStoreConfig…"` after changing prometheus.yml.
 */
export function composePushStoreConfig(sourceYaml: string): string {
  const global = parseSource(sourceYaml).global;
  const interval =
    isObj(global) && typeof global.scrape_interval === 'string' ? global.scrape_interval : '15s';
  const derived = containerPrometheusConfig(
    sourceYaml,
    { scrapeIntervalMs: parsePromDuration(interval), role: 'push' },
    'collector:9100',
  );
  return `# GENERATED from prometheus.yml for the compose service prometheus-push (the push path's own store):\n# the same configuration, the push path's targets only. Do not edit: a test compares it with the rendering.\n${derived.yaml}`;
}
