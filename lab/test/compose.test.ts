// docker-compose.yml without Docker: compose's variable substitution as the lab's docker runtime reads it,
// ONE image naming scheme shared by compose, the lab and scripts/airgap-images.sh, and the file's rules
// (loopback ports, no `version:`, health-gated start-up, overridable resource limits).
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's ${VAR} syntax is what is under test
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../src/core/paths.ts';
import { interpolate, readCompose, STACK_SERVICES } from '../src/runtime/docker/compose.ts';

const root = repoRoot();

describe('compose variable substitution', () => {
  const env = { SET: 'x', EMPTY: '' };
  const cases: [string, string][] = [
    ['${SET}', 'x'],
    ['$SET/y', 'x/y'],
    ['${NOPE}', ''],
    ['${NOPE:-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${NOPE-d}', 'd'],
    ['${SET:-d}', 'x'],
    ['a$$b', 'a$b'],
    ['${NOPE:-pushpull-airgap/prometheus:2.42.0-debian}', 'pushpull-airgap/prometheus:2.42.0-debian'],
  ];
  for (const [text, want] of cases)
    it(`${text} → "${want}"`, () => assert.equal(interpolate(text, env), want));
  it('${VAR:?msg} fails with LAB_ERR_CONFIG naming the variable', () =>
    assert.throws(
      () => interpolate('${NOPE:?set it to an image}', env),
      (e) => isLabError(e, 'LAB_ERR_CONFIG') && /NOPE is required: set it to an image/.test(e.message),
    ));
});

/** `service=image` lines of the air-gap script, for an environment. */
function scriptImages(env: NodeJS.ProcessEnv): Record<string, string> {
  const out = execFileSync('bash', ['scripts/airgap-images.sh', '--print-images'], {
    cwd: root,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
  });
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split('=') as [string, string]),
  );
}

function labImages(env: NodeJS.ProcessEnv): Record<string, string> {
  const c = readCompose(root, env);
  return Object.fromEntries(STACK_SERVICES.map((s) => [s, c.services[s]!.image]));
}

describe('one image naming scheme: compose, the lab, the air-gap script', () => {
  it('defaults: the air-gapped tags, never an upstream name', () => {
    const lab = labImages({});
    const script = scriptImages({});
    for (const s of STACK_SERVICES) assert.equal(script[s], lab[s], s);
    assert.match(script['node-base']!, /^pushpull-airgap\/node:\d+-debian$/);
    assert.deepEqual(lab, {
      prometheus: 'pushpull-airgap/prometheus:2.42.0-debian',
      pushgateway: 'pushpull-airgap/pushgateway:1.5.1-debian',
      collector: 'pushpull/collector:0.1.0',
      'node-exporter': 'pushpull-airgap/node-exporter:1.5.0-debian',
      producer: 'pushpull/producer:0.1.0',
    });
  });
  it('PUSHPULL_<SERVICE>_IMAGE overrides all three alike (empty = the default, as `:-` says)', () => {
    const env = {
      PUSHPULL_PROMETHEUS_IMAGE: 'prom/prometheus:v2.42.0',
      PUSHPULL_PRODUCER_IMAGE: 'registry.example/producer:1',
      PUSHPULL_PUSHGATEWAY_IMAGE: '',
    };
    const lab = labImages(env);
    assert.equal(lab.prometheus, 'prom/prometheus:v2.42.0');
    assert.equal(lab.producer, 'registry.example/producer:1');
    assert.equal(lab.pushgateway, 'pushpull-airgap/pushgateway:1.5.1-debian');
    const script = scriptImages(env);
    for (const s of STACK_SERVICES) assert.equal(script[s], lab[s], s);
  });
});

interface Svc {
  image: string;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }> | string[];
  deploy?: { resources?: { limits?: { cpus?: string; memory?: string } } };
}

describe('docker-compose.yml rules', () => {
  const raw = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
    version?: unknown;
    services: Record<string, Svc>;
  };
  const resolved = readCompose(root, {}) as unknown as { services: Record<string, Svc> };
  it('has no obsolete version key', () => assert.equal(raw.version, undefined));
  it('publishes every port on 127.0.0.1 only', () => {
    for (const [name, s] of Object.entries(resolved.services))
      for (const p of s.ports ?? []) assert.match(p, /^127\.0\.0\.1:/, `${name}: ${p}`);
  });
  it('health-gates start-up where the image can run a check, and only there', () => {
    for (const name of ['collector', 'producer']) {
      const test = resolved.services[name]!.healthcheck?.test ?? [];
      assert.deepEqual(test.slice(0, 3), ['CMD', 'node', '-e'], `${name}: exec form, no shell in the image`);
      assert.match(test[3]!, /fetch\('http:\/\/127\.0\.0\.1:\d+\/healthz'\)/, name);
    }
    for (const [name, s] of Object.entries(resolved.services)) {
      assert.ok(!Array.isArray(s.depends_on), `${name}: depends_on names a condition`);
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {}))
        assert.equal(
          condition,
          resolved.services[dep]!.healthcheck ? 'service_healthy' : 'service_started',
          `${name} → ${dep}`,
        );
    }
  });
  it('limits CPU and memory of every service, overridable by env; push and pull get the same budget', () => {
    for (const [name, s] of Object.entries(raw.services)) {
      const l = s.deploy?.resources?.limits;
      const key = name.toUpperCase().replace(/-/g, '_');
      assert.equal(l?.cpus?.startsWith(`\${PUSHPULL_${key}_CPUS:-`), true, `${name} cpus: ${l?.cpus}`);
      assert.equal(
        l?.memory?.startsWith(`\${PUSHPULL_${key}_MEMORY:-`),
        true,
        `${name} memory: ${l?.memory}`,
      );
    }
    const lim = (n: string, env = {}) =>
      (readCompose(root, env) as unknown as { services: Record<string, Svc> }).services[n]!.deploy!.resources!
        .limits!;
    assert.deepEqual(lim('collector'), lim('prometheus'));
    assert.equal(lim('collector', { PUSHPULL_COLLECTOR_CPUS: '1.5' }).cpus, '1.5');
  });
});
