import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentNameOf } from '../../core/record-agents.ts';
import type { ComponentResources } from '../../core/resources.ts';
import { containerAddress, renderArgs } from '../components.ts';
import { waitHttp } from '../engine.ts';
import { agentPrometheusConfig, agentSpec } from '../pull-agents.ts';
import { shareOf } from '../resource-limits.ts';
import type { PullAgentInfo, StackOptions } from '../types.ts';
import { loopbackUrl, startService } from './containers.ts';
import { COMPONENT_LABEL } from './labels.ts';
import type { DockerStack } from './state.ts';

// #29 on the docker runtime: a producer container is a host, so each gets its own Prometheus in agent mode
// (`prometheus-agent-<i>`, the prometheus service's image) on the run's network, scraping that producer's pods
// (its discovery file only) and remote-writing to the central store at `prometheus:9090`. Budgets: docker
// limits each container on its own, so pull's budget is split — the central store half of it, the agents the
// other half in equal shares (pullBudgets).

/** What the agents need of the stack's options (kept at up()). */
export type AgentOptions = Pick<StackOptions, 'pullTopology' | 'producerScrape' | 'scrapeIntervalMs'>;

/** Pull's budget with agents on an engine runtime: the central store ½, each of `n` agents ½ ÷ n. */
export function pullBudgets(
  prometheus: ComponentResources,
  agents: number,
): { central: ComponentResources; agent: ComponentResources } {
  const half = shareOf(prometheus, 2);
  return { central: half, agent: shareOf(half, agents) };
}

/** Starts an agent for every producer without one; removes the agents whose producer is gone. */
export async function syncDockerAgents(
  s: DockerStack & { agents: Map<string, PullAgentInfo> },
  o: AgentOptions,
): Promise<void> {
  if (o.pullTopology !== 'agent') return;
  const hosts = new Set(s.producers.map((p) => p.member.name));
  for (const [name, a] of [...s.agents]) {
    if (hosts.has(a.host)) continue;
    await s.base
      .get(name)
      ?.remove({ force: true })
      .catch(() => undefined);
    s.base.delete(name);
    s.agents.delete(name);
  }
  const dir = join(s.workDir, 'agents');
  mkdirSync(dir, { recursive: true });
  const source = readFileSync(join(s.repoRoot, 'prometheus/prometheus.yml'), 'utf8');
  const n = s.producers.length;
  for (const p of s.producers) {
    const host = p.member.name;
    const name = agentNameOf(host);
    if (s.agents.has(name)) continue;
    const spec = agentSpec(host);
    writeFileSync(
      join(dir, `${name}.yml`),
      agentPrometheusConfig(source, {
        sdFiles: [`/sd/${host}.json`],
        scrapeIntervalMs: o.scrapeIntervalMs,
        producerScrape: { ...o.producerScrape, off: false },
        remoteWriteUrl: 'http://prometheus:9090/api/v1/write',
      }),
    );
    const container = await startService(
      s,
      'prometheus',
      { Binds: [`${dir}:/etc/agent:ro`, `${join(s.workDir, 'sd')}:/sd:ro`] },
      true,
      {
        cmd: renderArgs(spec, containerAddress, [
          `--config.file=/etc/agent/${name}.yml`,
          '--storage.agent.path=/prometheus',
        ]),
        containerName: `pushpull-${s.runId}-${name}`,
        // Its own component label and network alias: `prometheus` must keep naming the central store only.
        labels: { [COMPONENT_LABEL]: name, 'pushpull.agent': name },
        aliases: [name],
        ports: ['9090/tcp'],
        resources: s.resources ? pullBudgets(s.resources.prometheus, n).agent : null,
      },
    );
    s.base.set(name, container);
    const url = await loopbackUrl(s, name, '9090/tcp', container);
    await waitHttp(`${url}/-/ready`, 60_000, `${name} /-/ready`);
    s.agents.set(name, { name, host, url });
  }
}
