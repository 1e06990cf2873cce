import { LabError } from '@pushpull/common';
import { capabilitiesOf } from '../runtime/capabilities.ts';
import type { RuntimeKind } from '../runtime/types.ts';
import type { Column, FailureMode, Scenario } from './scenario.ts';
import type { Reader } from './scenario-reader.ts';

// #28, the drill's `2 replicas` column: what a scenario of the Prometheus pair may say, checked at load time with
// the rest of the file (errors name the file and the field). Its faults hit a pull replica (`replica: 1|2`,
// the replica's label) instead of a producer; its cells go in the column `pull-pair` and nowhere else.

export const PAIR_MODES: readonly FailureMode[] = ['replica-dies', 'replica-paused'];

export const PAIR_COLUMN: Column = 'pull-pair';

/** The fault schedule each pair mode runs, in order. */
const PAIR_FAULTS: Record<string, readonly string[]> = {
  'replica-dies': ['kill'],
  'replica-paused': ['pause', 'resume'],
};

export const isPairMode = (m: FailureMode): boolean => PAIR_MODES.includes(m);

export function checkPairScenario(r: Reader, s: Scenario): void {
  const pair = isPairMode(s.mode);
  const misplaced = (column: Column) => pair !== (column === PAIR_COLUMN);
  const why = pair
    ? `mode ${s.mode} measures the Prometheus pair: its cells go in column ${PAIR_COLUMN}`
    : `column ${PAIR_COLUMN} belongs to the pair modes (${PAIR_MODES.join(', ')})`;
  s.variants.forEach((v, i) => {
    if (misplaced(v.column)) r.fail(`variants[${i}].column`, why);
  });
  s.expect.forEach((e, i) => {
    if (misplaced(e.column)) r.fail(`expect[${i}].column`, why);
  });
  s.faults.forEach((f, i) => {
    if (!pair && f.replica !== undefined)
      r.fail(`faults[${i}].replica`, `only the pair modes (${PAIR_MODES.join(', ')}) fault a pull replica`);
    if (pair && f.replica === undefined)
      r.fail(`faults[${i}].replica`, `mode ${s.mode} faults a pull replica: say which (1 or 2)`);
  });
  if (!pair) return;
  const want = PAIR_FAULTS[s.mode] ?? [];
  const got = s.faults.map((f) => f.action);
  if (got.join() !== want.join())
    r.fail('faults', `mode ${s.mode} runs exactly ${want.join(' then ')} (got ${got.join(', ') || 'none'})`);
  const [first, second] = s.faults;
  if (first && second) {
    if (second.atMs <= first.atMs)
      r.fail('faults[1].at', `the ${second.action} must come after the ${first.action}`);
    if (second.replica !== first.replica)
      r.fail('faults[1].replica', `${second.action} the replica the ${first.action} hit (${first.replica})`);
  }
}

/** Why a pair scenario cannot run on this runtime (null: it can): the drill leaves it out, `scenario` refuses. */
export function pairUnsupported(s: Scenario, runtime: RuntimeKind): string | null {
  if (!isPairMode(s.mode) || capabilitiesOf(runtime).pairDrill) return null;
  return `${s.name} faults a replica of the Prometheus pair: the lab does that on --runtime process, not ${runtime}`;
}

/** `scenario <pair scenario>` elsewhere than the process runtime: a clear error; `drill`: left out with a note. */
export function pairScenarios(
  verb: 'drill' | 'scenario',
  scenarios: readonly Scenario[],
  runtime: RuntimeKind,
  note: (s: string) => void,
): Scenario[] {
  const why = scenarios.map((s) => pairUnsupported(s, runtime));
  const first = why.find((w) => w !== null);
  if (first && verb === 'scenario') throw new LabError('LAB_ERR_FAULT_UNSUPPORTED', first, { runtime });
  const left = scenarios.filter((_, i) => why[i] !== null).map((s) => s.name);
  if (left.length > 0)
    note(`drill: ${left.join(', ')} left out: the Prometheus pair's drill runs on --runtime process\n`);
  return scenarios.filter((_, i) => why[i] === null);
}
