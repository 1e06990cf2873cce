// One component description, rendered by every runtime (#20): a StackOptions must mean the same on the
// process, docker and swarm runtimes. Each runtime's own rendering code is run (pure: no engine, no process),
// and what each component would run with is compared — the collector's resolved configuration and
// Prometheus' configuration and flags. The swarm runtime once built the collector from the compose command
// alone, silently dropping `--series-budget`'s --max-series: this test is the one that would have caught it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { flagSpecs, inputFromFlags, resolveConfig } from '@pushpull/collector';
import { isLabError, parseArgs } from '@pushpull/common';
import { parse as parseYaml } from 'yaml';
import { scrapeTimeoutFor } from '../src/burst/context.ts';
import { BURST_USAGE } from '../src/commands/burst/cli.ts';
import { paths } from '../src/core/paths.ts';
import { RUNTIME_CHOICES, RUNTIME_KINDS } from '../src/core/record.ts';
import { CAPABILITIES } from '../src/runtime/capabilities.ts';
import {
  BASE_COMPONENTS,
  checkSupported,
  containerCommand,
  stackComponents,
} from '../src/runtime/components.ts';
import { readCompose } from '../src/runtime/docker/compose.ts';
import { prometheusConfig as dockerPrometheusConfig } from '../src/runtime/docker/stack.ts';
import { collectorArgv, processArgs, processPrometheusConfig } from '../src/runtime/process/stack.ts';
import { storeRoles } from '../src/runtime/prometheus-config.ts';
import { composeServices, observerSpecs, swarmPrometheusConfig } from '../src/runtime/swarm/specs.ts';
import type { StackOptions } from '../src/runtime/types.ts';

const root = join(import.meta.dirname, '..', '..');
const p = paths(root);

/** One StackOptions as a burst with a series budget, OTLP on and the collector's byte limits would ask. */
const OPTS: Pick<
  StackOptions,
  'collectorFlags' | 'pushgatewayFlags' | 'withNodeExporter' | 'scrapeIntervalMs' | 'producerScrape'
> = {
  pushgatewayFlags: ['--push.disable-consistency-check'],
  collectorFlags: [
    '--max-series',
    '1200',
    '--max-series-bytes',
    '3MiB',
    '--max-label-value-length',
    '512',
    '--otlp-max-request-size',
    '2MiB',
  ],
  withNodeExporter: false,
  scrapeIntervalMs: 2000,
  producerScrape: { sampleLimit: 60 },
};

const LISTEN_KEYS = ['statsdUdp', 'statsdTcp', 'http', 'otlpHttp'];

/** The collector's configuration as a command line resolves it, listen addresses left out (where, not what). */
function effectiveCollector(args: readonly string[]): Record<string, unknown> {
  const { flags } = parseArgs([...args], flagSpecs(), {});
  const cfg: Record<string, unknown> = { ...resolveConfig(inputFromFlags(flags)) };
  for (const k of LISTEN_KEYS) delete cfg[k];
  return cfg;
}

/** What a Prometheus config says about the run: intervals and the producers job's limits. */
function promFacts(yaml: string): Record<string, unknown> {
  const doc = parseYaml(yaml) as {
    global: Record<string, unknown>;
    scrape_configs: Record<string, unknown>[];
  };
  const job = doc.scrape_configs.find((j) => j.job_name === 'producers')!;
  return {
    interval: doc.global.scrape_interval,
    timeout: doc.global.scrape_timeout,
    evaluation: doc.global.evaluation_interval,
    sampleLimit: job.sample_limit ?? null,
    bodySizeLimit: job.body_size_limit ?? null,
    jobs: doc.scrape_configs.map((j) => j.job_name),
  };
}

/** Flags with a meaning: placement (paths) and listen addresses dropped. */
const meaningful = (args: readonly string[]) =>
  args.filter((a) => !/^--(config\.file|storage\.tsdb\.path|web\.listen-address)=/.test(a));

function swarmSpecs() {
  const ctx = { runId: 'r1', networkId: 'n1', compose: composeServices(root), observerConstraints: [] };
  return observerSpecs(ctx, [], OPTS);
}
const swarmArgs = (component: string): string[] =>
  (
    swarmSpecs().find((s) => s.Labels?.['pushpull.component'] === component)?.TaskTemplate as
      | { ContainerSpec?: { Args?: string[] } }
      | undefined
  )?.ContainerSpec?.Args ?? [];

describe('one component description, every runtime', () => {
  const specs = stackComponents(OPTS);
  const expected = effectiveCollector(OPTS.collectorFlags ?? []);

  it('the plan itself asks for the budget (the comparison below is not vacuous)', () => {
    assert.equal(expected.maxSeries, 1200);
    assert.equal(expected.maxSeriesBytes, 3 * 2 ** 20);
    assert.equal(expected.otlpMaxRequestSize, 2 * 2 ** 20);
  });

  it('the collector runs with the same configuration on process, docker and swarm', () => {
    const process = effectiveCollector(collectorArgv(p, specs.collector).slice(1));
    const docker = effectiveCollector(containerCommand(specs.collector));
    const swarm = effectiveCollector(swarmArgs('collector'));
    assert.deepEqual(process, expected, 'process');
    assert.deepEqual(docker, expected, 'docker');
    assert.deepEqual(swarm, expected, 'swarm');
  });

  it('Prometheus gets the same configuration and flags on process, docker and swarm', () => {
    const jobs = { collector: '127.0.0.1:1', pushgateway: '127.0.0.1:2', 'node-exporter': null };
    const process = promFacts(
      processPrometheusConfig(p, '/tmp/sd', OPTS, { ...jobs, prometheus: '127.0.0.1:3' }).yaml,
    );
    const docker = promFacts(dockerPrometheusConfig(root, OPTS as StackOptions));
    const swarm = promFacts(swarmPrometheusConfig(readFileSync(p.prometheusYml, 'utf8'), OPTS));
    assert.equal(process.sampleLimit, 60);
    assert.equal(process.interval, '2s');
    assert.deepEqual(docker, process, 'docker');
    assert.deepEqual(swarm, process, 'swarm');
    const flags = meaningful(processArgs(specs.prometheus, 9090));
    assert.deepEqual(meaningful(containerCommand(specs.prometheus)), flags, 'docker flags');
    assert.deepEqual(meaningful(swarmArgs('prometheus')), flags, 'swarm flags');
    assert.ok(flags.includes('--enable-feature=extra-scrape-metrics'));
  });

  // #24: both store modes, every runtime. Each store's config per runtime (process, docker, swarm) and its
  // flags; swarm runs exactly the stores the mode asks for.
  for (const store of ['per-path', 'shared'] as const)
    it(`--store ${store}: every store gets the same configuration and flags on process, docker and swarm`, () => {
      const roles = storeRoles(store);
      const jobs = { collector: '127.0.0.1:1', pushgateway: '127.0.0.1:2', 'node-exporter': null };
      const scraped = (yaml: string) =>
        (parseYaml(yaml) as { scrape_configs: Record<string, unknown>[] }).scrape_configs
          .filter((j) => !JSON.stringify(j.relabel_configs ?? []).includes('"drop"'))
          .filter(
            (j) =>
              !Array.isArray(j.static_configs) || JSON.stringify(j.static_configs) !== '[{"targets":[]}]',
          )
          .map((j) => j.job_name);
      for (const { component, role } of roles) {
        const o = { ...OPTS, role };
        const process = processPrometheusConfig(p, '/tmp/sd', o, { ...jobs, prometheus: '127.0.0.1:3' }).yaml;
        const docker = dockerPrometheusConfig(root, o as unknown as StackOptions);
        const swarm = swarmPrometheusConfig(readFileSync(p.prometheusYml, 'utf8'), o);
        assert.deepEqual(promFacts(docker), promFacts(process), `${component}: docker`);
        assert.deepEqual(promFacts(swarm), promFacts(process), `${component}: swarm`);
        const want =
          role === 'pull'
            ? ['producers', 'prometheus']
            : role === 'push'
              ? ['collector', 'pushgateway', 'prometheus']
              : ['producers', 'collector', 'pushgateway', 'prometheus'];
        for (const [rt, y] of [
          ['process', process],
          ['docker', docker],
          ['swarm', swarm],
        ] as const)
          assert.deepEqual(scraped(y), want, `${component} on ${rt} scrapes its path's targets only`);
        const spec = specs[component as 'prometheus' | 'prometheus-push'];
        const flags = meaningful(processArgs(spec, 9090));
        assert.deepEqual(meaningful(containerCommand(spec)), flags, `${component}: docker flags`);
        const swarmSvc = observerSpecs(
          { runId: 'r1', networkId: 'n1', compose: composeServices(root), observerConstraints: [] },
          [],
          { ...OPTS, store },
        ).find((x) => x.Labels?.['pushpull.component'] === component);
        const swarmFlags = (swarmSvc?.TaskTemplate as { ContainerSpec?: { Args?: string[] } } | undefined)
          ?.ContainerSpec?.Args;
        assert.deepEqual(meaningful(swarmFlags ?? []), flags, `${component}: swarm flags`);
      }
      const swarmStores = observerSpecs(
        { runId: 'r1', networkId: 'n1', compose: composeServices(root), observerConstraints: [] },
        [],
        { ...OPTS, store },
      )
        .map((x) => x.Labels?.['pushpull.component'])
        .filter((c) => c?.startsWith('prometheus'));
      assert.deepEqual(
        swarmStores,
        roles.map((r) => r.component),
        'swarm runs the stores of the mode',
      );
    });

  it('the Pushgateway keeps its groups in memory everywhere', () => {
    assert.ok(processArgs(specs.pushgateway, 1).includes('--persistence.file='));
    assert.ok(containerCommand(specs.pushgateway).includes('--persistence.file='));
    assert.ok(swarmArgs('pushgateway').includes('--persistence.file='));
  });

  it("the Pushgateway's extra flags (capacity: the consistency check off) reach it on every runtime", () => {
    for (const args of [
      processArgs(specs.pushgateway, 1),
      containerCommand(specs.pushgateway),
      swarmArgs('pushgateway'),
    ])
      assert.ok(args.includes('--push.disable-consistency-check'), args.join(' '));
    assert.ok(
      !containerCommand(stackComponents({ withNodeExporter: true }).pushgateway).includes(
        '--push.disable-consistency-check',
      ),
    );
  });

  it('docker-compose.yml runs exactly what the lab renders for the default options', () => {
    const compose = readCompose(root, {});
    const defaults = stackComponents({ withNodeExporter: true });
    for (const name of BASE_COMPONENTS)
      assert.deepEqual(compose.services[name]?.command, containerCommand(defaults[name]), name);
  });

  it('a runtime refuses what it cannot honour, naming the field (swarm: node-exporter)', () => {
    assert.throws(
      () => checkSupported({ withNodeExporter: true }, { runtime: 'swarm', nodeExporter: false }),
      (e: unknown) => isLabError(e, 'LAB_ERR_CONFIG') && /withNodeExporter/.test((e as Error).message),
    );
    assert.throws(
      () =>
        observerSpecs(
          { runId: 'r', networkId: 'n', compose: composeServices(root), observerConstraints: [] },
          [],
          { ...OPTS, withNodeExporter: true },
        ),
      /withNodeExporter/,
    );
  });
});

describe("the producers' scrape timeout, asked of the config's owner", () => {
  it('the source timeout, capped at the run interval', () => {
    assert.equal(scrapeTimeoutFor(root, 15_000), 10_000);
    assert.equal(scrapeTimeoutFor(root, 2000), 2000);
  });
});

describe('the runtime kinds: one list', () => {
  it('every kind has its capabilities, and `--runtime` offers auto plus every kind', () => {
    assert.deepEqual(Object.keys(CAPABILITIES).sort(), [...RUNTIME_KINDS].sort());
    assert.deepEqual(RUNTIME_CHOICES, ['auto', ...RUNTIME_KINDS]);
  });
  it('burst -h names every runtime', () => {
    for (const k of RUNTIME_CHOICES) assert.match(BURST_USAGE, new RegExp(`\\b${k}\\b`));
  });
});
