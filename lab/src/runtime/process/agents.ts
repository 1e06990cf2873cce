import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from '../../core/paths.ts';
import { agentNameOf } from '../../core/record-agents.ts';
import { mapLimit } from '../../core/time.ts';
import { agentPrometheusConfig, agentSpec } from '../pull-agents.ts';
import { BINARIES } from './binaries.ts';
import { terminate } from './children.ts';
import { closeAgentRelays, openAgentRelay } from './pull-tier.ts';
import { processArgs, startOnFreePort } from './stack.ts';
import { type ProcessStack, writeLabJson } from './state.ts';

// #29 on the process runtime: a producer process is a host, so every producer gets its own Prometheus in
// agent mode (`prometheus-agent-<i>` beside `producer-<i>`), which scrapes that producer's pods — discovered
// through its discovery file only — and remote-writes to pull's store. The agents are base children (stopped
// with the stack, named when dead, in the `prometheus` budget: core/resources.ts componentOf).

/** Starts an agent for every producer without one and stops the agents whose producer is gone. */
export async function syncAgents(s: ProcessStack): Promise<void> {
  if (s.opts?.pullTopology !== 'agent' || !s.endpoints) return;
  const hosts = new Set(s.producers.map((p) => p.member.name));
  for (const [name, a] of [...s.agents]) {
    if (hosts.has(a.host)) continue;
    const child = s.base.get(name);
    if (child) await terminate(child.pid);
    await closeAgentRelays(s, name); // #29 drill: its remote-write relay, if any
    s.base.delete(name);
    s.agents.delete(name);
  }
  const missing = s.producers.map((p) => p.member.name).filter((h) => !s.agents.has(agentNameOf(h)));
  await mapLimit(missing, 4, (host) => startAgent(s, host));
  writeLabJson(s);
}

async function startAgent(s: ProcessStack, host: string): Promise<void> {
  const opts = s.opts!;
  const spec = agentSpec(host);
  const dir = join(s.workDir, 'agents');
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, `${spec.name}.yml`);
  const dataDir = join(dir, `${spec.name}-data`);
  // #29 drill: through a relay a partition can cut (agentRelays), else straight to the central store.
  const central = s.endpoints!.prometheusUrl;
  const writeTo = opts.agentRelays ? `http://${await openAgentRelay(s, spec.name, central)}` : central;
  writeFileSync(
    configPath,
    agentPrometheusConfig(readFileSync(paths(s.root).prometheusYml, 'utf8'), {
      sdFiles: [join(s.sdDir, `${host}.json`)],
      scrapeIntervalMs: opts.scrapeIntervalMs,
      producerScrape: { ...opts.producerScrape, off: false }, // an agent scrapes its pods
      remoteWriteUrl: `${writeTo}/api/v1/write`,
    }),
  );
  const started = await startOnFreePort(
    s,
    spec.name,
    BINARIES.prometheus,
    (port) => processArgs(spec, port, [`--config.file=${configPath}`, `--storage.agent.path=${dataDir}`]),
    '/-/ready',
    opts.signal,
  );
  s.agents.set(spec.name, { name: spec.name, host, url: started.url });
}
