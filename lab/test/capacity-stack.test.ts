import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TrialStack } from '../src/capacity/stack.ts';
import { overheadParts } from '../src/capacity/trial.ts';
import type { PhaseMark } from '../src/core/record.ts';
import type { Runtime, RuntimeFactory } from '../src/runtime/types.ts';

// One stack per search (#25): the trials share it until one could not run or a base component died; the
// search's end tears it down. A trial's overhead is split by its record's phase marks.

/** A fake runtime factory (unit test only): counts what was created and torn down; `dead` is settable. */
function fakeFactory() {
  const made: { downs: number; dead: string[] }[] = [];
  const factory = {
    kind: 'process',
    available: async () => ({ ok: true, reason: '' }),
    create: () => {
      const st = { downs: 0, dead: [] as string[] };
      made.push(st);
      return {
        kind: 'process',
        dead: async () => st.dead,
        down: async () => {
          st.downs++;
        },
      } as unknown as Runtime;
    },
    attach: async () => {
      throw new Error('not used');
    },
    reap: async () => [],
  } as unknown as RuntimeFactory;
  return { factory, made };
}

describe('TrialStack: one stack per search, retired when it cannot go on', () => {
  const cases: {
    name: string;
    /** Per trial: did it run, and which base components are dead after it. */
    trials: { ran: boolean; dead?: string[] }[];
    stacks: number;
    reused: boolean[];
  }[] = [
    {
      name: 'three healthy trials share one stack',
      trials: [{ ran: true }, { ran: true }, { ran: true }],
      stacks: 1,
      reused: [false, true, true],
    },
    {
      name: 'a trial that could not run retires the stack',
      trials: [{ ran: true }, { ran: false }, { ran: true }],
      stacks: 2,
      reused: [false, true, false],
    },
    {
      name: 'a dead collector retires the stack',
      trials: [{ ran: true, dead: ['collector'] }, { ran: true }, { ran: true }],
      stacks: 2,
      reused: [false, false, true],
    },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const { factory, made } = fakeFactory();
      const ts = new TrialStack({ factory, keepRunIds: [], log: () => {} });
      const reused: boolean[] = [];
      for (const t of c.trials) {
        const { reused: r } = await ts.next();
        reused.push(r);
        made[made.length - 1]!.dead = t.dead ?? [];
        await ts.after(t.ran);
      }
      await ts.close();
      await ts.close(); // twice is safe
      assert.deepEqual(reused, c.reused);
      assert.equal(ts.stacks, c.stacks);
      assert.equal(made.length, c.stacks);
      for (const m of made) assert.equal(m.downs, 1, 'every stack torn down exactly once');
    });

  it('the same runtime and work dir for every trial on one stack', async () => {
    const { factory } = fakeFactory();
    const ts = new TrialStack({ factory, keepRunIds: [], log: () => {} });
    const a = await ts.next();
    await ts.after(true);
    const b = await ts.next();
    assert.equal(a.stack.runtime, b.stack.runtime);
    assert.equal(a.stack.workDir, b.stack.workDir);
    assert.deepEqual([a.stack.reused, b.stack.reused], [false, true]);
    assert.match(a.stack.workDir, /pushpull-lab-/);
    await ts.close();
  });
});

describe('overheadParts: a trial split by its phase marks', () => {
  const marks = (xs: [PhaseMark['phase'], number][]): PhaseMark[] =>
    xs.map(([phase, startMs]) => ({ phase, startMs }));
  const full = marks([
    ['start', 1_000],
    ['warmup', 4_600],
    ['scheduled', 14_600],
    ['ramp', 17_600],
    ['quiesce', 32_600],
    ['final-scrapes', 32_600],
    ['collect', 43_700],
    ['done', 47_600],
  ]);
  const cases: [string, PhaseMark[], number, object][] = [
    [
      'every phase reached',
      full,
      48_100,
      { setupS: 3.6, warmupS: 10, leadS: 3, settleS: 15, teardownS: 0.5 },
    ],
    [
      'stopped in warm-up: later parts unknown',
      full.slice(0, 2),
      9_000,
      { setupS: 3.6, warmupS: null, leadS: null, settleS: null, teardownS: null },
    ],
  ];
  for (const [name, phases, end, want] of cases)
    it(name, () => assert.deepEqual(overheadParts(phases, 1_000, end, 3_000), want));
});
