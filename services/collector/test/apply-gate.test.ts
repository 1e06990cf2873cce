// The OTLP receiver's apply stage (transport/apply-gate.ts): bytes inside bounded, one request alone
// always enters, waiters enter in arrival order once they fit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplyGate } from '../src/transport/apply-gate.ts';

type Op = ['enter', number] | ['leave', number];

const cases: {
  name: string;
  capacity: number;
  ops: Op[];
  inside: number[];
  bytes: number;
  queued: number;
}[] = [
  {
    name: 'fits',
    capacity: 100,
    ops: [
      ['enter', 40],
      ['enter', 60],
    ],
    inside: [0, 1],
    bytes: 100,
    queued: 0,
  },
  {
    name: 'a request alone always enters',
    capacity: 100,
    ops: [['enter', 500]],
    inside: [0],
    bytes: 500,
    queued: 0,
  },
  {
    name: 'over capacity waits',
    capacity: 100,
    ops: [
      ['enter', 60],
      ['enter', 60],
    ],
    inside: [0],
    bytes: 60,
    queued: 1,
  },
  {
    name: 'a leave lets the next in',
    capacity: 100,
    ops: [
      ['enter', 60],
      ['enter', 60],
      ['leave', 60],
    ],
    inside: [0, 1],
    bytes: 60,
    queued: 0,
  },
  {
    name: 'FIFO: a small one does not overtake a waiting large one',
    capacity: 100,
    ops: [
      ['enter', 60],
      ['enter', 90],
      ['enter', 10],
    ],
    inside: [0],
    bytes: 60,
    queued: 2,
  },
  {
    name: 'several waiters enter together when they fit',
    capacity: 100,
    ops: [
      ['enter', 100],
      ['enter', 30],
      ['enter', 30],
      ['enter', 50],
      ['leave', 100],
    ],
    inside: [0, 1, 2],
    bytes: 60,
    queued: 1,
  },
  {
    name: 'an empty gate takes the head waiter however large',
    capacity: 100,
    ops: [
      ['enter', 10],
      ['enter', 300],
      ['leave', 10],
    ],
    inside: [0, 1],
    bytes: 300,
    queued: 0,
  },
];

describe('ApplyGate', () => {
  for (const c of cases)
    it(c.name, async () => {
      const g = new ApplyGate(c.capacity);
      const entered: number[] = [];
      let i = 0;
      for (const op of c.ops) {
        if (op[0] === 'enter') {
          const k = i++;
          void g.enter(op[1]).then(() => entered.push(k));
        } else g.leave(op[1]);
        await Promise.resolve();
        await Promise.resolve();
      }
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(
        entered.sort((a, b) => a - b),
        c.inside,
      );
      assert.equal(g.bytes, c.bytes);
      assert.equal(g.queued, c.queued);
    });

  it('tryEnter never jumps the queue', () => {
    const g = new ApplyGate(100);
    assert.equal(g.tryEnter(80), true);
    void g.enter(50);
    assert.equal(g.queued, 1);
    assert.equal(g.tryEnter(10), false, 'fits, but someone is waiting');
  });
});
