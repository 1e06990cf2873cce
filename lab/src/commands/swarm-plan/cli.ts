import { readFileSync } from 'node:fs';
import { type FlagSpecs, formatHelp, LabError, parseArgs } from '@pushpull/common';
import type { CliIo } from '../../core/cli.ts';
import { repoRoot } from '../../core/paths.ts';
import { swarmPlanText } from '../../runtime/select.ts';

// `pushpull-lab swarm-plan --pods N [--pods-per-producer M]`: prints where the swarm runtime would place a
// fleet on the swarm this Docker engine manages, and what each node needs. Starts nothing.

export const SWARM_PLAN_USAGE =
  'pushpull-lab swarm-plan [--pods 1400] [--pods-per-producer 50] [--capacity runs/<id>/capacity.json]';

export const SWARM_PLAN_FLAGS: FlagSpecs = {
  pods: { kind: 'int', env: 'LAB_PODS', default: 1400, min: 1, max: 100_000, help: 'virtual pods to place' },
  'pods-per-producer': {
    kind: 'int',
    env: 'LAB_PODS_PER_PRODUCER',
    default: 50,
    min: 1,
    max: 10_000,
    help: 'pods hosted by one producer service',
  },
  capacity: {
    kind: 'string',
    env: 'LAB_CAPACITY',
    placeholder: 'FILE',
    help: "a `capacity` result (capacity.json): size the nodes from the pods per core it measured for each path's pipeline and the generator",
  },
  help: { kind: 'bool', help: 'show help' },
};

export async function swarmPlanCommand(
  argv: string[],
  io: CliIo,
  deps: { root?: string } = {},
): Promise<number> {
  const { flags } = parseArgs(argv, SWARM_PLAN_FLAGS, io.env);
  if (flags.help) {
    io.out(`${formatHelp(SWARM_PLAN_USAGE, SWARM_PLAN_FLAGS)}\n`);
    return 0;
  }
  const file = typeof flags.capacity === 'string' ? flags.capacity : null;
  const text = await swarmPlanText(
    deps.root ?? repoRoot(),
    Number(flags.pods),
    Number(flags['pods-per-producer']),
    file === null ? undefined : { file, data: readCapacity(file) },
  );
  io.out(`${text}\n`);
  return 0;
}

/** The capacity file as JSON (LAB_ERR_CONFIG naming it when unreadable); its shape is checked by the plan. */
function readCapacity(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new LabError('LAB_ERR_CONFIG', `--capacity ${file}: ${(e as Error).message}`, { value: file });
  }
}
