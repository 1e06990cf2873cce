// Integration (#25): capacity trials on one reused stack — real Prometheus, collector, Pushgateway and
// producers on 127.0.0.1 (process runtime). Three push trials (8, 4, 6 pods: the fleet shrinks and grows)
// share one stack, then two pull trials (8, 4) another; each trial's record must hold only its own fleet, its own
// ledgers and its own loss: without the rebasing a later push trial counts the earlier ones' orders as
// delivered (more than it emitted), and a later pull trial reads earlier samples of the same pods.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { BurstPath } from '../src/capacity/criteria.ts';
import { type CapacityConfig, parseCapacityFlags } from '../src/capacity/flags.ts';
import type { TrialOutcome } from '../src/capacity/search.ts';
import { TrialStack } from '../src/capacity/stack.ts';
import { burstTrial } from '../src/capacity/trial.ts';
import type { RunRecord } from '../src/core/record.ts';
import { processRuntimeFactory } from '../src/runtime/process/runtime.ts';
import { assertBuilt, markedPids, ROOT, scratchTmp, workDirs } from './cli-helpers.ts';
import { onPath, skipUnless } from './requirements.ts';

const { base, tmp } = scratchTmp('pushpull-lab-capacity-reuse-int-');
const skip = skipUnless(
  'capacity-reuse.int.test.ts',
  onPath('prometheus', 'prometheus-pushgateway'),
  'prometheus, prometheus-pushgateway',
  'bash scripts/setup.sh',
);

/** The shared stacks' run ids (their processes carry them). */
const stackIds: string[] = [];

interface Trial {
  outcome: TrialOutcome;
  record: RunRecord;
}

/** Runs `loads` as consecutive trials of `path` on one shared stack; the stack is closed at the end. */
async function trialsOnOneStack(c: CapacityConfig, path: BurstPath, loads: number[]): Promise<Trial[]> {
  const factory = processRuntimeFactory(ROOT);
  const stacks = new TrialStack({
    factory,
    keepRunIds: [],
    log: () => {},
    onRuntime: (_rt, workDir) => stackIds.push(basename(workDir).slice('pushpull-lab-'.length)),
  });
  const out = join(base, path);
  const got: Trial[] = [];
  try {
    for (const [i, pods] of loads.entries()) {
      const outcome = await burstTrial(c, path, pods, i + 1, out, Date.now() + 120_000, c.criteria, {
        root: ROOT,
        factory,
        selectionReasons: [],
        keepRunIds: [],
        signal: new AbortController().signal,
        log: () => {},
        stacks,
      });
      assert.ok(
        outcome.record,
        `${path} trial ${i + 1} (${pods} pods) wrote a record: ${outcome.failedValue}`,
      );
      got.push({ outcome, record: JSON.parse(readFileSync(join(out, outcome.record), 'utf8')) as RunRecord });
      const m = outcome.metrics;
      console.log(
        `${path} ${pods} pods: wall ${m.wallS} s, overhead ${m.overheadS} s (setup ${m.setupS}, warm-up ${m.warmupS}, lead ${m.leadS}, settle ${m.settleS}, teardown ${m.teardownS}), reused ${m.stackReused}`,
      );
    }
  } finally {
    await stacks.close();
  }
  return got;
}

/** This trial's fleet and nothing else: its pods in the config and in the ledgers, emitted = delivered + lost. */
function assertOwnFleet(t: Trial, pods: number, path: BurstPath): void {
  const r = t.record;
  assert.equal(r.config.pods, pods);
  assert.equal(
    r.ledgers.reduce((a, l) => a + Object.keys(l.pods).length, 0),
    pods,
    'ledgers: this trial’s pods only',
  );
  const a = r.paths[path];
  assert.ok(a.emitted > 1_000, `${path}: a burst happened (${a.emitted} orders)`);
  assert.equal(a.emitted, a.delivered + a.lost);
  assert.ok(a.delivered <= a.emitted, `${path}: delivered ${a.delivered} of ${a.emitted} emitted`);
  const causes = (a.causes ?? []).reduce((s, x) => s + x.orders, 0);
  assert.equal(causes, a.lost, `${path}: the causes sum to the loss`);
}

describe('capacity trials on one reused stack (integration)', { skip, timeout: 240_000 }, () => {
  let push: Trial[] = [];
  let pull: Trial[] = [];
  let config: CapacityConfig;

  before(async () => {
    assertBuilt();
    process.env.TMPDIR = tmp;
    const { config: c } = parseCapacityFlags(
      ['--runtime', 'process', '--pods-per-producer', '4', '--scrape-interval', '1s'],
      {},
    );
    config = { ...c, trialDurationMs: 5_000 }; // below the flag's floor: a test-sized window
    push = await trialsOnOneStack(config, 'push', [8, 4, 6]);
    pull = await trialsOnOneStack(config, 'pull', [8, 4]); // shrinking: earlier pods stay in Prometheus
  });

  it('one stack per search: the first trial brings it up, the others reuse it and say so', () => {
    for (const ts of [push, pull]) {
      const reused = ts.map((_, i) => i > 0);
      assert.deepEqual(
        ts.map((t) => t.outcome.metrics.stackReused === 1),
        reused,
      );
      assert.equal(new Set(ts.map((t) => t.record.runId)).size, ts.length, 'each trial its own run id');
      assert.deepEqual(
        ts.map((t) => t.record.environment.notes.some((n) => /^shared stack \(capacity, #25\)/.test(n))),
        reused,
        'a trial on a stack an earlier one left up says so',
      );
      for (const t of ts)
        for (const k of ['setupS', 'warmupS', 'leadS', 'settleS', 'teardownS', 'overheadS'])
          assert.equal(typeof t.outcome.metrics[k], 'number', k);
    }
  });

  it('push: each trial holds only its own fleet, ledgers, deliveries and causes', () => {
    for (const [i, pods] of [8, 4, 6].entries()) assertOwnFleet(push[i]!, pods, 'push');
    for (const t of push) {
      const d = t.record.datagrams!;
      assert.ok(d.received <= d.sent, `datagrams: received ${d.received} of ${d.sent} sent`);
      // at 4–8 pods on loopback the collector keeps up: most of what was emitted arrived
      assert.ok(t.record.paths.push.delivered >= 0.5 * t.record.paths.push.emitted);
    }
  });

  it('pull: each trial reads only its own samples (every order of its pods, none of earlier trials)', () => {
    for (const [i, pods] of [8, 4].entries()) assertOwnFleet(pull[i]!, pods, 'pull');
    for (const t of pull) {
      const a = t.record.paths.pull;
      assert.equal(a.delivered, a.emitted);
      // what Prometheus had stored (its rule, every probe second, from the open on: warm-up has scraped every
      // pod of the trial anew by then) never exceeds what this trial emitted — the earlier, larger fleet's
      // pods are still in last_over_time(…[1m]) and are taken out
      const stored = t.record.series
        .filter((x) => x.tMs >= t.record.burstAtMs)
        .map((x) => x.pull?.storedOrders ?? 0);
      assert.ok(
        stored.some((v) => v > 0),
        'the stored total was read',
      );
      assert.ok(Math.max(...stored) <= a.emitted, `stored ${Math.max(...stored)} of ${a.emitted} emitted`);
    }
  });

  it('leaves no work dir and no process behind', () => {
    assert.deepEqual(workDirs(tmp), []);
    assert.equal(stackIds.length, 2, 'one stack per search');
    for (const id of stackIds) assert.deepEqual(markedPids(id), []);
  });
});
