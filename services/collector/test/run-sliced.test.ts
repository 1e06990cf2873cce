// runSliced (transport/slices.ts) ends a slice on CPU time spent, not on wall time: on a shared
// machine a descheduled process sees wall time pass without doing work, and a wall-clock slice then
// yielded after nearly every step (each turn putting the request behind all the others).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSliced } from '../src/transport/slices.ts';

const pause = new Int32Array(new SharedArrayBuffer(4));
/** Wall time passes, no CPU is used (the thread sleeps, as when the scheduler runs another process). */
const sleepStep = (ms: number) => Atomics.wait(pause, 0, 0, ms);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** `ms` of CPU time is used (however long that takes on a shared machine). */
const busyStep = (ms: number) => {
  const end = cpuMs() + ms;
  let x = 0;
  while (cpuMs() < end) x++;
  return x;
};

function* steps(n: number, step: (ms: number) => unknown, ms: number): Generator<void, number, undefined> {
  for (let i = 0; i < n; i++) {
    step(ms);
    yield;
  }
  return n;
}

/** Runs the generator through runSliced and counts the event-loop turns other work got meanwhile. */
async function turnsDuring(gen: Generator<void, number, undefined>, sliceMs: number): Promise<number> {
  let turns = 0;
  let done = false;
  const tick = () => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  assert.equal(await runSliced(gen, sliceMs), 10);
  done = true;
  return turns;
}

describe('runSliced', () => {
  const cases = [
    // 10 steps that each sleep longer than a slice: a wall-clock slice would turn after every step (10);
    // other threads of the process (JIT, GC, the TypeScript loader at start) use some CPU meanwhile — CI saw
    // 6 turns with 12 ms sleeps against 10 ms slices while another test file ran beside it — so the slice is
    // large against that noise, and the bound stays well under the wall-clock 10
    {
      name: 'steps that sleep (wall time, no CPU) stay in one slice',
      step: sleepStep,
      ms: 60,
      slice: 50,
      min: 0,
      max: 4,
    },
    { name: 'steps that burn CPU are cut into slices', step: busyStep, ms: 3, slice: 2, min: 8, max: 11 },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const turns = await turnsDuring(steps(10, c.step, c.ms), c.slice);
      assert.ok(turns >= c.min && turns <= c.max, `${turns} turns, want ${c.min}..${c.max}`);
    });
});

describe('runSliced with a UDP backlog', () => {
  /** A socket that reads one batch (at most 32 datagrams) per turn of the loop, as libuv does. */
  function fakeSocket(pending: number) {
    let read = 0;
    let left = pending;
    const onTurn = () => {
      const n = Math.min(32, left);
      left -= n;
      read += n;
      if (left > 0) setImmediate(onTurn);
    };
    setImmediate(onTurn);
    return { read: () => read };
  }
  const cases = [
    { name: 'no backlog: one batch per slice', maxTurns: 0, readBeforeSecondStep: 32 },
    { name: 'the backlog is drained before the next slice', maxTurns: 64, readBeforeSecondStep: 320 },
    {
      name: 'a flood is bounded: at most maxTurns batches per slice',
      maxTurns: 4,
      readBeforeSecondStep: 128,
    },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const sock = fakeSocket(320);
      let seen = -1;
      function* work(): Generator<void, number, undefined> {
        busyStep(3); // more than one slice of CPU: the loop gets its turn(s) here
        yield;
        seen = sock.read();
        return 10;
      }
      const backlog = c.maxTurns > 0 ? { read: sock.read, batch: 32, maxTurns: c.maxTurns } : undefined;
      assert.equal(await runSliced(work(), 2, backlog), 10);
      assert.equal(seen, c.readBeforeSecondStep);
    });
});
