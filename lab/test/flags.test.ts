import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isLabError } from '@pushpull/common';
import { parseBurstFlags } from '../src/burst/flags.ts';
import { runCli, VERBS } from '../src/commands/index.ts';
import { repoRoot } from '../src/core/paths.ts';

function io(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (s: string) => out.push(s),
    err: (s: string) => err.push(s),
    isTTY: false,
    env,
    o: out,
    e: err,
  };
}

describe('burst flags', () => {
  it('defaults: 60 pods (the generator holds the peak on 2 cores), 50 per producer, per-event UDP, jitter on, 15 s scrape', () => {
    const { config } = parseBurstFlags([], {});
    assert.equal(config.pods, 60);
    assert.equal(config.podsPerProducer, 50);
    assert.equal(config.producers, 2);
    assert.equal(config.pushMode, 'per-event');
    assert.equal(config.transport, 'udp');
    assert.equal(config.jitter, true);
    assert.equal(config.scrapeIntervalMs, 15_000);
    assert.equal(config.durationMs, 0, '0 = the profile length');
    assert.equal(config.fleetPods, 1400);
    assert.equal(config.runtime, 'auto');
  });

  it('parses every flag', () => {
    const { config } = parseBurstFlags(
      [
        '--runtime',
        'process',
        '--pods',
        '20',
        '--pods-per-producer',
        '7',
        '--push-mode',
        'aggregated',
        '--jitter',
        'off',
        '--scrape-interval',
        '2s',
        '--duration',
        '60',
        '--out',
        '/tmp/o',
        '--fail-on',
        'push.lossPct>1',
        '--seed',
        '7',
        '--transport',
        'tcp',
        '--node-exporter',
        'off',
      ],
      {},
    );
    assert.deepEqual(
      [
        config.runtime,
        config.pods,
        config.podsPerProducer,
        config.producers,
        config.pushMode,
        config.jitter,
        config.scrapeIntervalMs,
        config.durationMs,
        config.out,
        config.failOn,
        config.seed,
        config.transport,
        config.nodeExporter,
      ],
      ['process', 20, 7, 3, 'aggregated', false, 2000, 60_000, '/tmp/o', 'push.lossPct>1', 7, 'tcp', false],
    );
  });

  it('env vars are read, flags win', () => {
    const { config } = parseBurstFlags(['--pods', '30'], { LAB_PODS: '10', LAB_PUSH_MODE: 'buffered' });
    assert.equal(config.pods, 30);
    assert.equal(config.pushMode, 'buffered');
  });

  it('pods-per-producer is capped by pods', () => {
    assert.equal(parseBurstFlags(['--pods', '20'], {}).config.podsPerProducer, 20);
  });

  const bad: [string[], string, RegExp][] = [
    [['--bogus', '1'], 'LAB_ERR_FLAG_UNKNOWN', /--bogus/],
    [['--pods', 'many'], 'LAB_ERR_FLAG_VALUE', /--pods: "many"/],
    [['--pods', '0'], 'LAB_ERR_FLAG_VALUE', /--pods: 0 is below the minimum 1/],
    [['--push-mode', 'carrier-pigeon'], 'LAB_ERR_FLAG_VALUE', /--push-mode: "carrier-pigeon"/],
    [['--jitter', 'maybe'], 'LAB_ERR_FLAG_VALUE', /--jitter: "maybe"/],
    [['--runtime', 'k8s'], 'LAB_ERR_FLAG_VALUE', /--runtime: "k8s"/],
    [['--scrape-interval', '10 parsecs'], 'LAB_ERR_FLAG_VALUE', /--scrape-interval: "10 parsecs"/],
    [['--scrape-interval', '100ms'], 'LAB_ERR_FLAG_VALUE', /--scrape-interval: "100ms" is out of range/],
    [['--duration', '2s'], 'LAB_ERR_FLAG_VALUE', /--duration: "2s" is out of range/],
    [['--fail-on', 'push.lossPct >> 1'], 'LAB_ERR_FLAG_VALUE', /--fail-on/],
    [['--transport', 'quic'], 'LAB_ERR_FLAG_VALUE', /--transport: "quic"/],
    [['--seed', '-1'], 'LAB_ERR_FLAG_VALUE', /--seed/],
    [['extra'], 'LAB_ERR_FLAG_VALUE', /unexpected argument "extra"/],
    [['-p', '3'], 'LAB_ERR_FLAG_UNKNOWN', /"-p"/],
  ];
  for (const [argv, code, re] of bad)
    it(`rejects ${argv.join(' ')} with ${code}`, () =>
      assert.throws(
        () => parseBurstFlags(argv, {}),
        (e) => isLabError(e) && e.code === code && re.test(e.message),
      ));
});

describe('CLI dispatch: exit codes and messages', () => {
  it('unknown flag → exit 2, message names it', async () => {
    const x = io();
    assert.equal(await runCli(['burst', '--podz', '3'], x), 2);
    assert.match(x.e.join(''), /LAB_ERR_FLAG_UNKNOWN: unknown flag "--podz"/);
  });
  it('bad value → exit 2', async () => {
    const x = io();
    assert.equal(await runCli(['up', '--pods', 'lots'], x), 2);
    assert.match(x.e.join(''), /--pods: "lots"/);
  });
  it('unknown verb → exit 2', async () => {
    const x = io();
    assert.equal(await runCli(['explode'], x), 2);
    assert.match(x.e.join(''), /unknown verb "explode"/);
  });
  it('scale needs one integer argument', async () => {
    for (const argv of [['scale'], ['scale', 'ten'], ['scale', '0'], ['scale', '5', '6']]) {
      const x = io();
      assert.equal(await runCli(argv, x), 2, argv.join(' '));
      assert.match(x.e.join(''), /scale/);
    }
  });
  it('help: usage lists the verbs; per-verb help lists the flags; no verb → usage and exit 2', async () => {
    const x = io();
    assert.equal(await runCli(['help'], x), 0);
    for (const v of ['up', 'down', 'status', 'scale', 'burst', 'model', 'cost'])
      assert.match(x.o.join(''), new RegExp(`\\b${v}\\b`));
    const y = io();
    assert.equal(await runCli(['help', 'burst'], y), 0);
    assert.match(y.o.join(''), /--fail-on/);
    assert.match(y.o.join(''), /--scrape-interval/);
    const z = io();
    assert.equal(await runCli([], z), 2);
    const w = io();
    assert.equal(await runCli(['burst', '--help'], w), 0);
    assert.match(w.o.join(''), /--pods-per-producer/);
    // `help <verb>` for the verbs with flags of their own prints those flags, not the general usage.
    const own: Record<string, RegExp> = {
      drill: /--scenarios/,
      scenario: /scenario <name>/,
      model: /--producers/,
      cost: /--events/,
    };
    for (const [verb, flag] of Object.entries(own)) {
      const h = io();
      assert.equal(await runCli(['help', verb], h), 0, verb);
      assert.match(h.o.join(''), flag, verb);
      assert.doesNotMatch(h.o.join(''), /^Verbs:/m, verb);
    }
  });
  // One generator (formatHelp/formatUsage in @pushpull/common) makes every help text: each verb of the
  // command table answers -h, --help and `help <verb>` with one `Usage: pushpull-lab <verb>` line first.
  for (const verb of VERBS)
    for (const argv of [
      [verb, '-h'],
      [verb, '--help'],
      ['help', verb],
    ]) {
      it(`${argv.join(' ')}: starts with the one Usage line, exit 0`, async () => {
        const x = io();
        assert.equal(await runCli(argv, x), 0, `${argv.join(' ')}: ${x.e.join('')}`);
        const text = x.o.join('');
        const first = text.split('\n')[0]!;
        const synopsis = verb === 'help' ? 'pushpull-lab <verb>' : `pushpull-lab ${verb}`;
        assert.ok(first.startsWith(`Usage: ${synopsis}`), `${argv.join(' ')}: first line "${first}"`);
        assert.equal(text.match(/usage:/gi)?.length, 1, 'one Usage line');
        if (verb !== 'help')
          assert.match(text, /^Flags:\n[\s\S]*^ {2}-h, --help /m, 'the generated flag table');
        assert.equal(x.e.join(''), '', 'writes no error');
      });
    }
  it('--version prints the version from lab/package.json, exit 0', async () => {
    const x = io();
    assert.equal(await runCli(['--version'], x), 0);
    const pkg = JSON.parse(readFileSync(join(repoRoot(), 'lab', 'package.json'), 'utf8')) as {
      version: string;
    };
    assert.equal(x.o.join(''), `pushpull-lab ${pkg.version}\n`);
  });
  it('help <unknown topic> → exit 2 naming the known topics', async () => {
    const x = io();
    assert.equal(await runCli(['help', 'nosuch'], x), 2);
    assert.match(
      x.e.join(''),
      /no topic "nosuch"; topics: up, status, scale, down, burst, drill, scenario, capacity, model, cost, report, compare, swarm-plan, nodes, help/,
    );
    assert.equal(x.o.join(''), '');
  });
  it('burst help: value placeholders and the true --duration default (the profile length)', async () => {
    const x = io();
    assert.equal(await runCli(['help', 'burst'], x), 0);
    const text = x.o.join('');
    assert.match(
      text,
      /^Usage: pushpull-lab burst \[--runtime auto\|docker\|process\|swarm\] \[--pods N\] \[--duration D\]/,
    );
    assert.doesNotMatch(text, /--duration 60s/);
    assert.match(text, /^ {2}--pods N +virtual pods/m);
    assert.match(text, /^ {2}--out DIR +record/m);
    // 800 ms ramp + 30 s hold + 90 s decay, fitted in whole seconds like the run does
    assert.match(
      text.replace(/\s+/g, ' '),
      /default: the profile's ramp\+hold\+decay, 121 s; env LAB_DURATION/,
    );
  });
  it('status without a stack: exit 3 and says how to start one', async () => {
    const x = io();
    assert.equal(await runCli(['status', '--state-dir', '/tmp/pushpull-lab-test-no-such-state'], x), 3);
    assert.match(x.o.join(''), /no stack is up/);
  });
  it('model and cost are dispatched to their modules', async () => {
    const x = io();
    const code = await runCli(['model', '--help'], x);
    assert.equal(code, 0);
    assert.match(x.o.join(''), /model/);
    const y = io();
    assert.equal(await runCli(['cost', '--definitely-not-a-flag'], y), 2);
  });
});
