import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isLabError,
  PRODUCER_OPTIONS,
  type ProducerArgValues,
  type ProducerOptionDef,
  parseArgs,
  renderProducerArgs,
} from '@pushpull/common';
import { DEFAULTS, flagNamer, inputFromFlags, JOB_FLAGS, resolveConfig, SERVE_FLAGS } from '../src/config.ts';

// One options table: what the lab renders is what the producer parses, and the limits are the table's.

describe('producer options table', () => {
  const roundTrips: [string, ProducerArgValues, Record<string, unknown>][] = [
    ['counts', { pods: 7, seed: 3, fleetPods: 1400 }, { pods: 7, seed: 3, fleetPods: 1400 }],
    ['switch off', { jitter: false }, { jitter: false }],
    ['switch on', { jitter: true }, { jitter: true }],
    ['durations in ms', { flushInterval: 2000, heartbeat: 750 }, { flushIntervalMs: 2000, heartbeatMs: 750 }],
    ['heartbeat 0 is off', { heartbeat: 0 }, { heartbeatMs: 0 }],
    [
      'choices',
      { pushMode: 'aggregated', otlpTemporality: 'delta' },
      { pushMode: 'aggregated', otlpTemporality: 'delta' },
    ],
    [
      'addresses',
      { http: '0.0.0.0:9100', statsd: 'tcp://collector:8125', advertise: '10.0.0.2:9100' },
      { http: { host: '0.0.0.0', port: 9100 }, advertise: '10.0.0.2:9100' },
    ],
    [
      'names and dirs',
      { name: 'producer-3', podPrefix: 'x-', sdDir: '/sd' },
      { name: 'producer-3', podPrefix: 'x-', sdDir: '/sd' },
    ],
  ];
  for (const [what, values, want] of roundTrips)
    it(`renders what the producer's CLI parses back: ${what}`, () => {
      const { flags } = parseArgs(renderProducerArgs(values), SERVE_FLAGS);
      const cfg = resolveConfig(inputFromFlags(flags), flagNamer) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(want)) assert.deepEqual(cfg[k], v, k);
    });

  const outOfLimits: [ProducerArgValues, string][] = [
    [{ pods: 0 }, '--pods'],
    [{ pods: PRODUCER_OPTIONS.pods.max + 1 }, '--pods'],
    [{ seed: -1 }, '--seed'],
    [{ flushInterval: PRODUCER_OPTIONS.flushInterval.min - 1 }, '--flush-interval'],
    [{ heartbeat: PRODUCER_OPTIONS.heartbeat.max + 1 }, '--heartbeat'],
    [{ pushMode: 'pigeon' as never }, '--push-mode'],
    [{ pods: 1.5 }, '--pods'],
  ];
  for (const [values, flag] of outOfLimits)
    it(`refuses to render ${JSON.stringify(values)} outside the table's limits`, () =>
      assert.throws(
        () => renderProducerArgs(values),
        (e) => isLabError(e, 'LAB_ERR_FLAG_VALUE') && (e as Error).message.startsWith(flag),
      ));

  it("renders the job command's own flags from the same tables", () => {
    const argv = renderProducerArgs({ name: 'j', duration: 8000, pushgateway: 'http://127.0.0.1:9091' });
    const { flags } = parseArgs(argv, JOB_FLAGS);
    assert.equal(flags.duration, '8000ms');
    assert.equal(flags.pushgateway, 'http://127.0.0.1:9091');
    assert.throws(() => parseArgs(argv, SERVE_FLAGS), /unknown flag "--duration"/);
  });

  it('renders only what it is given, each flag once, as the table spells it', () => {
    assert.deepEqual(renderProducerArgs({ pods: 2, jitter: false }), ['--pods', '2', '--jitter', 'off']);
    assert.deepEqual(renderProducerArgs({}), []);
  });

  it('derives flags, env vars and defaults from the table', () => {
    for (const [key, o] of Object.entries(PRODUCER_OPTIONS) as [string, ProducerOptionDef][]) {
      const flag = o.flag;
      if (o.default !== null) assert.equal((DEFAULTS as Record<string, unknown>)[key], o.default, key);
      if (flag === undefined) continue;
      const spec = SERVE_FLAGS[flag];
      assert.ok(spec, `--${flag}`);
      assert.equal(spec.env, o.env, flag);
      if (o.default !== null) assert.equal(spec.default, o.default, flag);
    }
  });

  it('validates each option against the same limits resolveConfig applies', () => {
    assert.throws(
      () => resolveConfig({ pods: PRODUCER_OPTIONS.pods.max + 1 }),
      (e) => isLabError(e, 'LAB_ERR_CONFIG') && e.details?.field === 'pods',
    );
    assert.equal(resolveConfig({ pods: PRODUCER_OPTIONS.pods.max }).pods, PRODUCER_OPTIONS.pods.max);
    assert.throws(
      () => resolveConfig({ tickMs: 0 }),
      (e) => isLabError(e, 'LAB_ERR_CONFIG') && e.details?.field === 'tickMs',
    );
    assert.throws(() => resolveConfig({ jitter: 'maybe' as never }), /jitter/);
    assert.throws(() => resolveConfig({ nope: 1 } as never), /unknown configuration key/);
  });
});
