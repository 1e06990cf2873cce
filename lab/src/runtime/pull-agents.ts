import { LabError } from '@pushpull/common';
import { stringify } from 'yaml';
import { agentNameOf } from '../core/record-agents.ts';
import type { AgentComponent, ComponentSpec } from './components.ts';
import {
  type DeriveOptions,
  deriveGlobal,
  deriveJob,
  PRODUCERS_JOB,
  parseSource,
} from './prometheus-config.ts';

// #29: pull through per-host agents. On every producer host (a producer process, container or swarm node) a
// Prometheus in agent mode (Debian's 2.42: `--enable-feature=agent`) scrapes that host's pods — the same
// producers job as the central store's, discovered through that host's file only — and remote-writes every
// sample to pull's store, which runs the remote-write receiver. Real components only: nothing of ours is on
// the wire. Pure: the description and the configuration, rendered by each runtime.

/**
 * The agent's flags: agent mode, the extra scrape metrics (scrape_timeout_seconds, body sizes: the lab's pull
 * probe reads them, remote-written to the central store), warnings only.
 */
export const AGENT_FLAGS = ['--enable-feature=agent,extra-scrape-metrics', '--log.level=warn'] as const;

/** The remote-write queue's name: the `remote_name` label on the agent's prometheus_remote_storage_* series. */
export const AGENT_REMOTE_NAME = 'central';

/** The component description of the agent on producer host `producer` (`producer-<i>`). */
export function agentSpec(producer: string): ComponentSpec {
  const name = agentNameOf(producer) as AgentComponent;
  if (!/^prometheus-agent-\d+$/.test(name))
    throw new LabError('LAB_ERR_CONFIG', `pull agent: producer host "${producer}" is not producer-<index>`, {
      producer,
    });
  return {
    name,
    flags: AGENT_FLAGS,
    listen: [{ flag: 'web.listen-address', port: 9090, proto: 'tcp' }],
    listenStyle: 'equals',
  };
}

export interface AgentConfigOptions {
  /** The host's discovery file(s): only its pods. */
  sdFiles: readonly string[];
  scrapeIntervalMs: number;
  producerScrape?: DeriveOptions['producerScrape'];
  /** The central store's receiver: `<central>/api/v1/write`. */
  remoteWriteUrl: string;
}

/**
 * The agent's configuration, derived from prometheus/prometheus.yml: its global interval and timeout and the
 * producers job exactly as the central store would scrape it (limits included), with the host's discovery file;
 * then one remote_write to the central store with Prometheus' default queue (as deployed). Agent mode refuses
 * rule files, alerting and remote_read, so none is written.
 */
export function agentPrometheusConfig(sourceYaml: string, opts: AgentConfigOptions): string {
  if (opts.sdFiles.length === 0)
    throw new LabError('LAB_ERR_CONFIG', 'pull agent: no discovery file for its host');
  if (!/^https?:\/\/[^/]+\/api\/v1\/write$/.test(opts.remoteWriteUrl))
    throw new LabError(
      'LAB_ERR_CONFIG',
      `pull agent: remote-write URL "${opts.remoteWriteUrl}" is not <store>/api/v1/write`,
      {
        value: opts.remoteWriteUrl,
      },
    );
  const doc = parseSource(sourceYaml);
  const derived = deriveGlobal(doc, opts.scrapeIntervalMs);
  const { interval, timeout } = derived;
  const { evaluation_interval: _rules, ...global } = derived.global; // no rules in agent mode
  const raw = Array.isArray(doc.scrape_configs)
    ? doc.scrape_configs.find((j) => (j as { job_name?: unknown })?.job_name === PRODUCERS_JOB)
    : undefined;
  if (!raw)
    throw new LabError(
      'LAB_ERR_CONFIG',
      `prometheus.yml has no "${PRODUCERS_JOB}" job (contract: fixed job names)`,
    );
  const job = deriveJob(
    raw,
    {
      sourceDir: '/',
      sdDir: '/',
      scrapeIntervalMs: interval,
      jobAddresses: {},
      ...(opts.producerScrape ? { producerScrape: opts.producerScrape } : {}),
      role: 'pull',
    },
    interval,
    timeout,
  );
  if (Array.isArray(job.file_sd_configs))
    job.file_sd_configs = job.file_sd_configs.map((sd) => ({ ...(sd as object), files: [...opts.sdFiles] }));
  else if (job.http_sd_configs === undefined) job.file_sd_configs = [{ files: [...opts.sdFiles] }];
  const out = {
    global,
    scrape_configs: [job],
    remote_write: [{ url: opts.remoteWriteUrl, name: AGENT_REMOTE_NAME }],
  };
  return `# DERIVED by the lab from prometheus/prometheus.yml for a pull agent (#29) — do not edit; regenerated per run.\n${stringify(out)}`;
}
