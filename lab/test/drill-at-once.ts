// For the drill tests that run a scenario's variants at once (DrillDeps.variantsAtOnce): a log sink that notes
// when each variant's fault was injected, and the check that the variants really overlapped.
import assert from 'node:assert/strict';

export interface FaultClock {
  /** The drill's log: keeps the time of each `<scenario>/<variant>: kill|partition …` line. */
  log: (msg: string) => void;
  /**
   * Every one of `variants` had its fault, and the first `atOnce` of them within `withinS` s of each other
   * (one variant after another, they are a whole variant's run apart).
   */
  assertRanAtOnce: (variants: number, atOnce: number, withinS: number) => void;
}

export function faultClock(scenario: string): FaultClock {
  const at = new Map<string, number>();
  const line = new RegExp(`^${scenario}/([\\w-]+): (kill|partition) `);
  return {
    log: (m) => {
      // Where the time goes, in the test's output: each variant's start and fault, and any failure.
      console.log(`${new Date().toISOString().slice(11, 19)} ${m}`);
      const f = line.exec(m);
      if (f && !at.has(f[1]!)) at.set(f[1]!, Date.now());
    },
    assertRanAtOnce: (variants, atOnce, withinS) => {
      const times = [...at.values()].sort((a, b) => a - b);
      assert.equal(times.length, variants, `a fault per variant: ${[...at.keys()].join(', ')}`);
      const spreadS = (times[atOnce - 1]! - times[0]!) / 1000;
      assert.ok(spreadS < withinS, `the variants ran at once: their faults ${spreadS.toFixed(1)} s apart`);
    },
  };
}
