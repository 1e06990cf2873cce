import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { TRANSPORTS, type Transport } from '@pushpull/common';
import { pushLabel, TRANSPORT_DESCRIPTORS, transportNamed, transportOf } from '../src/core/transports.ts';
import { containerCollectorAddress, producerArgs } from '../src/runtime/producer-args.ts';
import { ROOT } from './cli-helpers.ts';
import { walk } from './layers.ts';

// Transport is a concept: one descriptor per transport (lab/src/core/transports.ts) beside common's
// TRANSPORTS, and no code elsewhere in lab/src compares a transport's name as a string.

const SRC = join(ROOT, 'lab', 'src');
const DESCRIPTORS_FILE = 'core/transports.ts';
/** Files that may name transports in comparisons, each with why. */
const ALLOWED: Readonly<Record<string, string>> = {
  'drill/modes/cut.ts':
    "discriminates the relays' counts (a datagram relay's vs a stream relay's, keyed udp/tcp in RelayCounts), not the push transport",
};
const NAMES = TRANSPORTS.join('|');
const COMPARISON = new RegExp(
  `[!=]==\\s*['"](${NAMES})['"]|['"](${NAMES})['"]\\s*[!=]==|case\\s+['"](${NAMES})['"]|['"](${NAMES})['"]\\s+in\\b|\\.includes\\(\\s*['"](${NAMES})['"]`,
);

/** `path:line: text` for every comparison of a transport name outside the descriptors and the allowed files. */
export function transportComparisons(files: readonly { path: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    if (f.path === DESCRIPTORS_FILE || ALLOWED[f.path] !== undefined) continue;
    f.text.split('\n').forEach((line, i) => {
      if (!/^\s*(\/\/|\*)/.test(line) && COMPARISON.test(line))
        out.push(`${f.path}:${i + 1}: ${line.trim()}`);
    });
  }
  return out;
}

describe('transport descriptors (core/transports.ts)', () => {
  it('one descriptor per transport in common TRANSPORTS, in its order', () => {
    assert.deepEqual(
      TRANSPORT_DESCRIPTORS.map((d) => d.name),
      [...TRANSPORTS],
    );
    for (const t of TRANSPORTS) assert.equal(transportOf(t).name, t);
    assert.equal(transportNamed('udp'), transportOf('udp'));
    assert.equal(transportNamed('carrier-pigeon'), undefined);
  });

  it('lab/src compares no transport name as a string outside the descriptors', () => {
    const files = walk(SRC).map((p) => ({
      path: relative(SRC, p).split(sep).join('/'),
      text: readFileSync(p, 'utf8'),
    }));
    assert.ok(files.length > 100, `read ${files.length} files`);
    assert.deepEqual(transportComparisons(files), []);
  });

  const detected: [string, string, boolean][] = [
    ["x.transport === 'otlp'", 'a === comparison', true],
    ["if ('tcp' !== t)", 'reversed !==', true],
    ["case 'udp':", 'a switch case', true],
    ["['udp', 'tcp'].includes('udp')", 'an includes', true],
    ['transportOf(x.transport).sdk', 'asking the descriptor', false],
    ["// x.transport === 'otlp'", 'a comment', false],
  ];
  for (const [text, what, hit] of detected)
    it(`the grep ${hit ? 'finds' : 'ignores'} ${what}`, () =>
      assert.equal(transportComparisons([{ path: 'burst/x.ts', text }]).length, hit ? 1 : 0));

  const cases: {
    t: Transport;
    label: string;
    container: string;
    listener: string | undefined;
    temporality: boolean;
  }[] = [
    {
      t: 'udp',
      label: 'push (per-event UDP)',
      container: 'collector:8125',
      listener: 'u:1',
      temporality: false,
    },
    {
      t: 'tcp',
      label: 'push (per-event TCP)',
      container: 'collector:8125',
      listener: 't:2',
      temporality: false,
    },
    {
      t: 'otlp',
      label: 'push (OTLP/HTTP, 10 s export)',
      container: 'collector:4318',
      listener: 'o:3',
      temporality: true,
    },
  ];
  for (const c of cases)
    it(`${c.t}: label, container address, collector listener, producer flags`, () => {
      assert.equal(pushLabel({ pushMode: 'per-event', transport: c.t, flushIntervalMs: 10_000 }), c.label);
      assert.equal(containerCollectorAddress(c.t), c.container);
      assert.equal(transportOf(c.t).listener({ udp: 'u:1', tcp: 't:2', otlp: 'o:3' }), c.listener);
      const args = producerArgs(
        'p-0',
        2,
        {
          podsPerProducer: 2,
          seed: 1,
          pushMode: 'per-event',
          jitter: true,
          transport: c.t,
          heartbeatMs: 5000,
          flushIntervalMs: 10_000,
          fleetPods: 1400,
        },
        'h:9',
        '/sd',
      );
      assert.equal(args[args.indexOf('--statsd') + 1], `${c.t}://h:9`);
      assert.equal(args.includes('--otlp-temporality'), c.temporality);
    });

  it('TCP falls back to the UDP listener; OTLP has none without its receiver', () => {
    assert.equal(transportOf('tcp').listener({ udp: 'u:1', tcp: null }), 'u:1');
    assert.equal(transportOf('otlp').listener({ udp: 'u:1' }), undefined);
    assert.equal(transportOf('udp').listener(null), undefined);
  });
});
