import { formatHelp, formatUsage, LabError } from '@pushpull/common';
import { type CliIo, EXIT, exitFor, labVersion } from '../core/cli.ts';
import { repoRoot } from '../core/paths.ts';
import type { SelectFn } from '../runtime/select.ts';
import { burstCommand, burstHelp } from './burst/cli.ts';
import { capacityCommand } from './capacity/cli.ts';
import { runCostCommand } from './cost/cli.ts';
import { drillCommand } from './drill/cli.ts';
import { runModelCommand } from './model/cli.ts';
import { nodesCommand } from './nodes/cli.ts';
import { compareCommand, reportCommand } from './report/cli.ts';
import {
  downCommand,
  STACK_USAGE,
  STACK_VERB_FLAGS,
  scaleCommand,
  statusCommand,
  upCommand,
} from './stack/cli.ts';
import { swarmPlanCommand } from './swarm-plan/cli.ts';

// The command table: `pushpull-lab <verb>` → the verb's own cli.ts. Only the entry files (main.ts,
// index.ts) import this file; every command owns its flags, help and core in its own folder.

export type { CliIo };
export { EXIT };

const USAGE = `pushpull-lab <verb> [flags]    (npm run lab:<verb> -- [flags]; every verb answers -h/--help)

Verbs:
  up               start the stack and a steady fleet (stays up; state in .lab/state.json)
  status           show the stack \`up\` started
  scale <pods>     resize the running fleet
  down             stop everything \`up\` started (and leftovers of crashed runs)
  burst            one market-open run: warm-up, open, hold, decay, drain; writes run.json + reports
  report DIR       re-render DIR/report.md and report.html from DIR/run.json
  compare DIR…     one side-by-side report of several runs (--out DIR)
  drill            every failure-mode scenario (lab/scenarios/): the measured push/pull grid
  capacity         the largest fleet each path (pull, push, Pushgateway) holds; what 1,400 pods need
  scenario <name>  one scenario (target-dies, network-partition, short-lived-job, synchronised-flush,
                   scrape-storm, body-balloon)
  model            the seeded burst model (flush/scrape peaks with and without jitter)
  cost             per-event cost of the push and pull paths
  swarm-plan       where a fleet would run on the Docker Swarm, and what each node needs
  nodes up N|down  N swarm worker nodes made on this machine (a dockerd per network namespace; root)
  help [verb]      this text, or a verb's flags
  --version        the lab's version

Exit codes: 0 ok, 1 lab error, 2 bad usage, 3 --fail-on met (burst) / no stack up (status), 130 interrupted.`;

export interface CliDeps {
  /** Runtime selection (tests inject fakes). */
  select?: SelectFn;
  /** Signal source (tests inject an emitter). */
  signals?: NodeJS.EventEmitter;
  root?: string;
}

type Command = (argv: string[], io: CliIo, deps: CliDeps) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  up: upCommand,
  status: statusCommand,
  scale: scaleCommand,
  down: downCommand,
  burst: burstCommand,
  drill: (argv, io, deps) => drillCommand('drill', argv, io, deps),
  scenario: (argv, io, deps) => drillCommand('scenario', argv, io, deps),
  capacity: (argv, io, deps) => capacityCommand(argv, io, deps),
  model: async (argv, io) => runModelCommand(argv, io),
  cost: async (argv, io) => runCostCommand(argv, io),
  report: (argv, io) => reportCommand(argv, io),
  compare: (argv, io) => compareCommand(argv, io),
  'swarm-plan': (argv, io, deps) => swarmPlanCommand(argv, io, deps),
  nodes: (argv, io) => nodesCommand(argv, io),
};

/** Every verb of the command table, and `help`. */
export const VERBS: readonly string[] = [...Object.keys(COMMANDS), 'help'];

/** `help [topic]`: the usage, or one verb's help (the verb's own `--help`); an unknown topic is bad usage. */
async function help(topic: string | undefined, io: CliIo, deps: CliDeps): Promise<void> {
  if (topic === undefined || topic === 'help' || topic === '-h' || topic === '--help') {
    io.out(`${formatUsage(USAGE)}\n`);
    return;
  }
  if (topic === 'burst') {
    io.out(`${burstHelp(deps.root ?? repoRoot(io.env))}\n`);
    return;
  }
  if (topic in STACK_USAGE) {
    const v = topic as keyof typeof STACK_USAGE;
    io.out(`${formatHelp(STACK_USAGE[v], STACK_VERB_FLAGS[v])}\n`);
    return;
  }
  const command = COMMANDS[topic];
  if (!command)
    throw new LabError('LAB_ERR_FLAG_VALUE', `help: no topic "${topic}"; topics: ${VERBS.join(', ')}`, {
      value: topic,
    });
  await command(['--help'], io, deps);
}

export async function runCli(argv: readonly string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  const verb = argv[0];
  const rest = argv.slice(1);
  try {
    if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
      await help(rest[0], io, deps);
      return verb === undefined ? EXIT.usage : EXIT.ok;
    }
    if (verb === '--version' || verb === '-V') {
      io.out(`pushpull-lab ${labVersion(deps.root ?? repoRoot(io.env))}\n`);
      return EXIT.ok;
    }
    const command = COMMANDS[verb];
    if (!command)
      throw new LabError(
        'LAB_ERR_FLAG_UNKNOWN',
        `unknown verb "${verb}"; verbs: ${VERBS.join(', ')}; flags: -h/--help, --version`,
      );
    return await command(rest, io, deps);
  } catch (e) {
    return exitFor(e, io);
  }
}
