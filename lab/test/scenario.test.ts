// Scenario validation at load time: every duration and number has a range, and an out-of-range value is
// rejected with LAB_ERR_SCENARIO naming the file, the field path and the value — not later, mid-drill,
// by a producer flag or a division by a zero interval.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isLabError } from '@pushpull/common';
import { parseScenario } from '../src/drill/scenario.ts';

const scenarioDir = join(dirname(fileURLToPath(import.meta.url)), '../scenarios');
const FILE = 'lab/scenarios/x.yml';

const base = `
name: t
title: T
mode: target-dies
description: d
fleet: { pods: 4, podsPerProducer: 2 }
scrapeInterval: 2s
warmup: 8s
observe: 30s
push: { mode: per-event, heartbeat: 2s }
variants:
  - { name: a, column: push-udp }
  - { name: b, column: push-tcp, push: { transport: tcp } }
faults:
  - { at: 0s, action: kill, producer: 1 }
expect:
  - { column: pull, variant: a, detectedWithin: 25s }
  - { column: push-udp, lostPctAtMost: 1 }
`;

/** `base` with one line replaced (the line must exist, so a typo in a case cannot pass vacuously). */
function edit(from: string, to: string, text = base): string {
  assert.ok(text.includes(from), `case edits a line of the base scenario: ${from}`);
  return text.replace(from, to);
}
const asMode = (mode: string, params: string) =>
  edit('mode: target-dies', `mode: ${mode}\nparams: ${params}`);

describe('scenario ranges: out-of-range values rejected at load time, naming file, field and value', () => {
  // [what, scenario text, field path, offending value as it appears in the message]
  const bad: [string, string, string, string][] = [
    ['zero scrape interval', edit('scrapeInterval: 2s', 'scrapeInterval: 0s'), 'scrapeInterval', '"0s"'],
    ['scrape interval over 5m', edit('scrapeInterval: 2s', 'scrapeInterval: 6m'), 'scrapeInterval', '"6m"'],
    [
      'sub-second scrape interval',
      edit('scrapeInterval: 2s', 'scrapeInterval: 500ms'),
      'scrapeInterval',
      '"500ms"',
    ],
    ['observe of 99999h', edit('observe: 30s', 'observe: 99999h'), 'observe', '"99999h"'],
    ['observe given as 99999 seconds', edit('observe: 30s', 'observe: 99999'), 'observe', '99999'],
    ['zero observe', edit('observe: 30s', 'observe: 0s'), 'observe', '"0s"'],
    ['warm-up over an hour', edit('warmup: 8s', 'warmup: 2h'), 'warmup', '"2h"'],
    [
      'zero flush interval',
      edit('heartbeat: 2s }', 'heartbeat: 2s, flushInterval: 0s }'),
      'push.flushInterval',
      '"0s"',
    ],
    [
      'a variant with a zero flush interval',
      edit('push: { transport: tcp }', 'push: { transport: tcp, flushInterval: 0ms }'),
      'variants[1].push.flushInterval',
      '"0ms"',
    ],
    [
      'a variant heartbeat faster than 100ms',
      edit('push: { transport: tcp }', 'push: { heartbeat: 10ms }'),
      'variants[1].push.heartbeat',
      '"10ms"',
    ],
    ['heartbeat over 5m', edit('heartbeat: 2s }', 'heartbeat: 99999h }'), 'push.heartbeat', '"99999h"'],
    [
      'zero detectedWithin',
      edit('detectedWithin: 25s', 'detectedWithin: 0s'),
      'expect[0].detectedWithin',
      '"0s"',
    ],
    ['negative loss bound', edit('lostPctAtMost: 1', 'lostPctAtMost: -1'), 'expect[1].lostPctAtMost', '-1'],
    [
      'loss bound over 100%',
      edit('lostPctAtMost: 1', 'lostPctAtMost: 150'),
      'expect[1].lostPctAtMost',
      '150',
    ],
    ['zero pods', edit('pods: 4,', 'pods: 0,'), 'fleet.pods', '0'],
    ['negative pods', edit('pods: 4,', 'pods: -4,'), 'fleet.pods', '-4'],
    [
      'zero pods per producer',
      edit('podsPerProducer: 2', 'podsPerProducer: 0'),
      'fleet.podsPerProducer',
      '0',
    ],
    ['negative producer index', edit('producer: 1', 'producer: -1'), 'faults[0].producer', '-1'],
    ['zero job duration', asMode('short-lived-job', '{ jobDuration: 0s }'), 'params.jobDuration', '"0s"'],
    ['a day-long job', asMode('short-lived-job', '{ jobDuration: 24h }'), 'params.jobDuration', '"24h"'],
    ['negative sample limit', asMode('body-balloon', '{ sampleLimit: -5 }'), 'params.sampleLimit', '-5'],
    ['fractional sample limit', asMode('body-balloon', '{ sampleLimit: 1.5 }'), 'params.sampleLimit', '1.5'],
    [
      'body size limit over 1GiB',
      asMode('body-balloon', '{ bodySizeLimit: 2GiB }'),
      'params.bodySizeLimit',
      '"2GiB"',
    ],
  ];
  for (const [what, text, field, value] of bad) {
    it(`rejects ${what} (${field})`, () => {
      assert.throws(
        () => parseScenario(text, FILE),
        (e) => {
          assert.ok(isLabError(e, 'LAB_ERR_SCENARIO'), String(e));
          assert.ok(e.message.startsWith(`${FILE}: ${field}: `), e.message);
          assert.ok(e.message.includes(value), `message carries the value ${value}: ${e.message}`);
          assert.equal(e.details?.field, field);
          return true;
        },
      );
    });
  }
});

describe('scenario keys: unknown ones rejected at every level', () => {
  const unknown: [string, string, string][] = [
    ['top level', `${base}bogus: 1\n`, 'bogus'],
    ['fleet', edit('podsPerProducer: 2 }', 'podsPerProducer: 2, nodes: 3 }'), 'fleet.nodes'],
    ['push', edit('heartbeat: 2s }', 'heartbeat: 2s, rate: 5 }'), 'push.rate'],
    ['variant', edit('column: push-tcp,', 'column: push-tcp, colour: red,'), 'variants[1].colour'],
    ['fault', edit('producer: 1 }', 'producer: 1, signal: 9 }'), 'faults[0].signal'],
    ['expectation', edit('lostPctAtMost: 1 }', 'lostPctAtMost: 1, soon: true }'), 'expect[1].soon'],
    // A misspelt knob would otherwise be ignored and the mode's default used without a word.
    ['mode param', asMode('short-lived-job', '{ jobDuraton: 8s }'), 'params.jobDuraton'],
    [
      'param of a mode that has none',
      edit('observe: 30s', 'observe: 30s\nparams: { jobDuration: 8s }'),
      'params.jobDuration',
    ],
  ];
  for (const [where, text, field] of unknown) {
    it(`${where}: ${field}`, () => {
      assert.throws(
        () => parseScenario(text, FILE),
        (e) => isLabError(e, 'LAB_ERR_SCENARIO') && e.message.startsWith(`${FILE}: ${field}: unknown key`),
      );
    });
  }
});

describe('scenario ranges: the bounds themselves are accepted', () => {
  const ok: [string, string, (s: ReturnType<typeof parseScenario>) => void][] = [
    [
      'scrapeInterval 1s',
      edit('scrapeInterval: 2s', 'scrapeInterval: 1s'),
      (s) => assert.equal(s.scrapeIntervalMs, 1000),
    ],
    [
      'scrapeInterval 5m',
      edit('scrapeInterval: 2s', 'scrapeInterval: 5m'),
      (s) => assert.equal(s.scrapeIntervalMs, 300_000),
    ],
    ['observe 1h', edit('observe: 30s', 'observe: 1h'), (s) => assert.equal(s.observeMs, 3_600_000)],
    ['warmup 0s', edit('warmup: 8s', 'warmup: 0s'), (s) => assert.equal(s.warmupMs, 0)],
    [
      'heartbeat off',
      edit('heartbeat: 2s }', 'heartbeat: off }'),
      (s) => assert.equal(s.variants[0]!.push.heartbeatMs, 0),
    ],
    [
      'flushInterval 100ms',
      edit('heartbeat: 2s }', 'heartbeat: 2s, flushInterval: 100ms }'),
      (s) => assert.equal(s.variants[0]!.push.flushIntervalMs, 100),
    ],
    [
      'loss bounds 0 and 100',
      edit('lostPctAtMost: 1', 'lostPctAtMost: 0, lostPctAtLeast: 100'),
      (s) => assert.deepEqual([s.expect[1]!.lostPctAtMost, s.expect[1]!.lostPctAtLeast], [0, 100]),
    ],
    [
      'sample limit 0 (no limit)',
      asMode('body-balloon', '{ sampleLimit: 0, bodySizeLimit: 120KB }'),
      (s) => assert.deepEqual(s.params, { sampleLimit: 0, bodySizeLimit: '120KB' }),
    ],
    [
      'job duration 10m, kept as written for the mode',
      asMode('short-lived-job', '{ jobDuration: 10m }'),
      (s) => assert.equal(s.params.jobDuration, '10m'),
    ],
  ];
  for (const [what, text, check] of ok) it(what, () => check(parseScenario(text, FILE)));
});

describe('shipped scenarios', () => {
  const files = readdirSync(scenarioDir).filter((f) => f.endsWith('.yml'));
  it('there are some', () => assert.ok(files.length >= 6, files.join(', ')));
  for (const f of files) {
    it(`${f} loads within every range`, () => {
      const s = parseScenario(readFileSync(join(scenarioDir, f), 'utf8'), join(scenarioDir, f));
      assert.equal(`${s.name}.yml`, f);
    });
  }
});
