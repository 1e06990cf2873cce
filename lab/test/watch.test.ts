import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import { parse } from 'yaml';
import { parseBurstFlags } from '../src/burst/flags.ts';
import { holdLines, holdUntil, watchedFactory } from '../src/burst/watch.ts';
import {
  dashboardUrl,
  datasourceYaml,
  type GrafanaStartOptions,
  grafanaImage,
  readComposeText,
  writeProvisioning,
} from '../src/runtime/grafana.ts';
import type { Runtime, RuntimeFactory, StackEndpoints, StackOptions } from '../src/runtime/types.ts';
import { ROOT } from './cli-helpers.ts';

// `burst --hold` / `--grafana` (burst/watch.ts, runtime/grafana.ts): the provisioning file, the URLs, the
// runtime wrapper's announcements and order of teardown, the hold, and the flags. A real Grafana is not run
// here (no image on this machine); lab/test/watch.int.test.ts runs the hold and the missing-image path for real.

describe('Grafana provisioning for one run', () => {
  it("points the datasource (uid prometheus, the dashboards' default) at the run's Prometheus and interval", () => {
    const doc = parse(datasourceYaml('http://127.0.0.1:40123/', 2000)) as {
      apiVersion: number;
      datasources: Record<string, unknown>[];
    };
    assert.equal(doc.apiVersion, 1);
    assert.equal(doc.datasources.length, 2, '#24: both stores (one shared store: both at its URL)');
    assert.equal(doc.datasources[1]!.uid, 'prometheus-push');
    assert.equal(doc.datasources[1]!.url, 'http://127.0.0.1:40123');
    assert.equal(doc.datasources[1]!.isDefault, false);
    const ds = doc.datasources[0]!;
    assert.equal(ds.uid, 'prometheus');
    assert.equal(ds.type, 'prometheus');
    assert.equal(ds.url, 'http://127.0.0.1:40123');
    assert.equal(ds.isDefault, true);
    assert.deepEqual((ds.jsonData as Record<string, unknown>).timeInterval, '2s');
  });

  it('keeps every key of the repo datasource but url and timeInterval', () => {
    const repo = parse(readFileSync(join(ROOT, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'));
    const run = parse(datasourceYaml('http://prometheus:9090', 15_000, 'http://prometheus-push:9090'));
    assert.deepEqual(run, repo, 'at the compose values the generated file equals the checked-in one');
  });

  it('refuses a URL that is not http(s)', () => {
    assert.throws(() => datasourceYaml('prometheus:9090', 15_000), /not an http URL/);
    assert.throws(() => datasourceYaml('http://a b', 15_000), /not an http URL/);
  });

  it('writes the provisioning tree that is mounted at /etc/grafana/provisioning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'grafana-prov-'));
    try {
      const d = writeProvisioning(dir, ROOT, 'http://127.0.0.1:9999', 5000);
      const ds = parse(readFileSync(join(d.provisioning, 'datasources/prometheus.yml'), 'utf8'));
      assert.equal(ds.datasources[0].url, 'http://127.0.0.1:9999');
      const provider = parse(readFileSync(join(d.provisioning, 'dashboards/pushpull.yml'), 'utf8'));
      assert.equal(
        provider.providers[0].options.path,
        '/var/lib/grafana/dashboards',
        'where the dashboards go',
      );
      assert.equal(d.dashboards, join(ROOT, 'grafana/dashboards'));
      assert.ok(
        readFileSync(join(d.dashboards, 'market-open.json'), 'utf8').includes('pushpull-market-open'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the dashboard URL covers the run: from its start to now, the market-open dashboard's uid", () => {
    assert.equal(
      dashboardUrl('http://127.0.0.1:3000/', 1_764_600_000_123.7),
      'http://127.0.0.1:3000/d/pushpull-market-open?from=1764600000123&to=now&refresh=5s',
    );
  });

  it("the image: PUSHPULL_GRAFANA_IMAGE, else the compose file's default", () => {
    assert.equal(grafanaImage({}, readComposeText(ROOT)), 'grafana/grafana:10.4.2');
    assert.equal(
      grafanaImage({}, ['image: $', '{PUSHPULL_GRAFANA_IMAGE:-mirror/grafana:11}'].join('')),
      'mirror/grafana:11',
    );
    assert.equal(grafanaImage({ PUSHPULL_GRAFANA_IMAGE: 'local/g:1' }, readComposeText(ROOT)), 'local/g:1');
    assert.equal(grafanaImage({}, null), 'grafana/grafana:10.4.2');
  });
});

const ENDPOINTS: StackEndpoints = {
  prometheusUrl: 'http://127.0.0.1:41000',
  pushgatewayUrl: 'http://127.0.0.1:41001',
  collectorHttpUrl: 'http://127.0.0.1:41002',
  nodeExporterUrl: null,
};

/** A runtime that records calls (a unit test's stand-in; the integration test uses the real one). */
function fakeRuntime(calls: string[], placement = true): Runtime {
  const rt = {
    kind: 'process' as const,
    marker: 42,
    async up() {
      calls.push('up');
      return ENDPOINTS;
    },
    async down() {
      calls.push('down');
    },
    members() {
      return [];
    },
    ownMethod(this: { marker: number }) {
      return this.marker;
    },
  } as unknown as Runtime;
  if (placement)
    (rt as { grafanaPlacement?: Runtime['grafanaPlacement'] }).grafanaPlacement = () => ({
      network: 'host',
      prometheusUrl: ENDPOINTS.prometheusUrl,
    });
  return rt;
}

function factoryOf(rt: Runtime): RuntimeFactory {
  return {
    kind: 'process',
    available: async () => ({ ok: true, reason: '' }),
    create: () => rt,
    attach: async () => rt,
    reap: async () => [],
  };
}

function stackOpts(logs: string[]): StackOptions {
  return {
    runId: 'r1',
    workDir: '/nonexistent',
    scrapeIntervalMs: 2000,
    withNodeExporter: false,
    log: (m) => logs.push(m),
  };
}

describe('watching a run (burst/watch.ts)', () => {
  it('prints the Prometheus and Pushgateway URLs once the stack is up; without --grafana starts nothing', async () => {
    const calls: string[] = [];
    const logs: string[] = [];
    let started = 0;
    const { factory, watch } = watchedFactory(factoryOf(fakeRuntime(calls)), {
      grafana: false,
      root: ROOT,
      env: {},
      start: async () => {
        started++;
        return { ok: false, reason: 'x' };
      },
    });
    const rt = factory.create();
    assert.deepEqual(await rt.up(stackOpts(logs)), ENDPOINTS);
    assert.equal(started, 0);
    assert.deepEqual(logs, ['Prometheus: http://127.0.0.1:41000   Pushgateway: http://127.0.0.1:41001']);
    assert.deepEqual(watch.endpoints, ENDPOINTS);
    assert.equal((rt as unknown as { ownMethod(): number }).ownMethod(), 42, 'other members keep their this');
    await rt.down();
    assert.deepEqual(calls, ['up', 'down']);
  });

  it('--grafana: started against the placement, dashboard URL from the run start, stopped before the stack', async () => {
    const calls: string[] = [];
    const logs: string[] = [];
    let got: GrafanaStartOptions | null = null;
    const { factory, watch } = watchedFactory(factoryOf(fakeRuntime(calls)), {
      grafana: true,
      root: ROOT,
      env: { PUSHPULL_GRAFANA_IMAGE: 'local/grafana:1' },
      now: () => 1_000_000,
      start: async (o) => {
        got = o;
        return {
          ok: true,
          url: 'http://127.0.0.1:43000',
          stop: async () => {
            calls.push('grafana-stop');
          },
        };
      },
    });
    const rt = factory.create();
    await rt.up(stackOpts(logs));
    assert.equal(got!.image, 'local/grafana:1');
    assert.deepEqual(got!.placement, { network: 'host', prometheusUrl: ENDPOINTS.prometheusUrl });
    assert.equal(got!.scrapeIntervalMs, 2000);
    assert.equal(
      logs[1],
      'Grafana: http://127.0.0.1:43000/d/pushpull-market-open?from=1000000&to=now&refresh=5s',
    );
    assert.equal(
      watch.dashboardUrl,
      'http://127.0.0.1:43000/d/pushpull-market-open?from=1000000&to=now&refresh=5s',
    );
    await rt.down();
    await rt.down();
    assert.deepEqual(calls, ['up', 'grafana-stop', 'down', 'down'], 'Grafana first, once');
  });

  it('--grafana without the image (or a runtime that cannot host it): one line, and up() still succeeds', async () => {
    for (const placement of [true, false]) {
      const logs: string[] = [];
      const { factory, watch } = watchedFactory(factoryOf(fakeRuntime([], placement)), {
        grafana: true,
        root: ROOT,
        env: {},
        start: async () => ({ ok: false, reason: 'image grafana/grafana:10.4.2 is not present here' }),
      });
      assert.deepEqual(await factory.create().up(stackOpts(logs)), ENDPOINTS);
      assert.equal(logs.length, 2);
      assert.match(
        logs[1]!,
        placement
          ? /^Grafana: not started — image grafana\/grafana:10.4.2 is not present/
          : /^Grafana: not available on the process runtime/,
      );
      assert.match(logs[1]!, /the run goes on without it$/);
      assert.equal(watch.dashboardUrl, null);
    }
  });

  it('a Grafana starter that throws is a message too', async () => {
    const logs: string[] = [];
    const { factory } = watchedFactory(factoryOf(fakeRuntime([])), {
      grafana: true,
      root: ROOT,
      env: {},
      start: async () => {
        throw new Error('boom');
      },
    });
    await factory.create().up(stackOpts(logs));
    assert.match(logs[1]!, /^Grafana: not started — .*boom/);
  });

  it('the hold ends on the abort signal (Ctrl-C) or after its maximum; its message names the URLs', async () => {
    const ctl = new AbortController();
    const p = holdUntil(ctl.signal, 60_000);
    ctl.abort();
    assert.equal(await p, 'signal');
    assert.equal(await holdUntil(new AbortController().signal, 20), 'timeout');
    assert.equal(await holdUntil(AbortSignal.abort(), 60_000), 'signal');
    const lines = holdLines({ endpoints: ENDPOINTS, grafanaUrl: null, dashboardUrl: 'http://g/d/x' });
    assert.match(lines.join('\n'), /Ctrl-C ends the run/);
    assert.match(lines.join('\n'), /Prometheus: http:\/\/127\.0\.0\.1:41000/);
    assert.match(lines.join('\n'), /Grafana: http:\/\/g\/d\/x/);
  });
});

describe('burst --hold / --grafana flags', () => {
  it('default off; flags and env vars turn them on', () => {
    assert.deepEqual({ ...parseBurstFlags([], {}).watch }, { hold: false, grafana: false });
    assert.deepEqual(
      { ...parseBurstFlags(['--hold', '--grafana'], {}).watch },
      { hold: true, grafana: true },
    );
    assert.deepEqual(
      { ...parseBurstFlags([], { LAB_HOLD: '1', LAB_GRAFANA: 'on' }).watch },
      { hold: true, grafana: true },
    );
    assert.deepEqual(
      { ...parseBurstFlags(['--no-hold'], { LAB_HOLD: '1' }).watch },
      { hold: false, grafana: false },
    );
  });

  it('--hold with --repeat is refused before anything starts', () => {
    assert.throws(
      () => parseBurstFlags(['--hold', '--repeat', '2'], {}),
      (e: unknown) => isLabError(e, 'LAB_ERR_FLAG_VALUE') && /--hold/.test((e as Error).message),
    );
  });
});
