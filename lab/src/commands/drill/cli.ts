import { join, resolve } from 'node:path';
import { type FlagSpecs, formatHelp, LabError, parseArgs } from '@pushpull/common';
import { type CliIo, withInterrupts } from '../../core/cli.ts';
import { RESOURCE_FLAGS, resourceFlags } from '../../core/flags.ts';
import { paths, repoRoot } from '../../core/paths.ts';
import { RUNTIME_CHOICES } from '../../core/record.ts';
import { makeRunId } from '../../core/workdir.ts';
import { agentScenarios } from '../../drill/agents-scenario.ts';
import { requireNodes } from '../../drill/modes/node-fault.ts';
import { pushAgentScenariosOn } from '../../drill/modes/push-agent-scenario.ts';
import { pairScenarios } from '../../drill/pair-scenario.ts';
import { findScenario, loadScenarios, runDrill, terminalGrid } from '../../drill/run.ts';
import { NODE_MODES, type Scenario } from '../../drill/scenario.ts';
import { DEFAULT_NODES_DIR } from '../../nodes/plan.ts';
import { type NodesState, readNodesState } from '../../nodes/state.ts';
import { defaultCandidates, selectRuntime } from '../../runtime/select.ts';
import type { RuntimeKind } from '../../runtime/types.ts';

// `pushpull-lab drill` (every scenario in lab/scenarios/) and `pushpull-lab scenario <name>` (one).
// Exit codes as the rest of the CLI: 0 every expectation held, 1 a scenario failed or an expectation
// did not hold, 2 bad usage, 130 interrupted (stacks torn down first).

export const DRILL_FLAGS: FlagSpecs = {
  ...RESOURCE_FLAGS,
  runtime: {
    kind: 'string',
    env: 'LAB_RUNTIME',
    default: 'auto',
    choices: [...RUNTIME_CHOICES],
    help: 'where the stacks run',
  },
  out: {
    kind: 'string',
    env: 'LAB_OUT',
    placeholder: 'DIR',
    defaultText: 'runs/drill-<run id>',
    help: 'output directory',
  },
  scenarios: {
    kind: 'string',
    env: 'LAB_SCENARIOS',
    placeholder: 'DIR',
    defaultText: 'lab/scenarios',
    help: 'scenario directory',
  },
  'nodes-dir': {
    kind: 'string',
    env: 'LAB_NODES_DIR',
    default: DEFAULT_NODES_DIR,
    help: 'where `nodes up` recorded its worker nodes (node-partition, node-loss: swarm only)',
  },
  help: { kind: 'bool', help: 'show help' },
};

const DRILL_USAGE =
  'pushpull-lab drill [flags]\nEvery failure-mode scenario, each variant on a fresh stack: the measured push/pull grid.';
const SCENARIO_USAGE =
  'pushpull-lab scenario <name> [flags]\nOne failure-mode scenario: a file name in --scenarios (e.g. target-dies, network-partition).';

export interface DrillIo {
  out(s: string): void;
  err(s: string): void;
  env: NodeJS.ProcessEnv;
}

export async function runDrillCommand(
  verb: 'drill' | 'scenario',
  argv: readonly string[],
  io: DrillIo,
  signal: AbortSignal,
): Promise<number> {
  const { flags, positionals } = parseArgs(argv, DRILL_FLAGS, io.env);
  if (flags.help) {
    io.out(`${formatHelp(verb === 'drill' ? DRILL_USAGE : SCENARIO_USAGE, DRILL_FLAGS)}\n`);
    return 0;
  }
  const root = repoRoot(io.env);
  const dir = typeof flags.scenarios === 'string' ? resolve(flags.scenarios) : join(root, 'lab', 'scenarios');
  let scenarios = loadScenarios(dir);
  if (verb === 'scenario') {
    const name = positionals[0];
    if (!name || positionals.length > 1)
      throw new LabError(
        'LAB_ERR_FLAG_VALUE',
        `scenario: name exactly one scenario (known: ${scenarios.map((s) => s.name).join(', ')})`,
      );
    scenarios = [findScenario(dir, name)];
  } else if (positionals.length > 0) {
    throw new LabError('LAB_ERR_FLAG_VALUE', `drill takes no arguments (got "${positionals.join(' ')}")`);
  }
  const sel = await selectRuntime(flags.runtime as RuntimeKind | 'auto', defaultCandidates(root));
  const nodesPath = join(String(flags['nodes-dir']), 'nodes.json');
  const nodesState = readNodesState(nodesPath);
  const nodes = nodesState ? { state: nodesState, statePath: nodesPath } : null;
  scenarios = nodeScenarios(verb, scenarios, sel.factory.kind, nodes, (m) => io.err(m), nodesPath);
  if (verb === 'drill') scenarios = pushAgentScenariosOn(sel.factory.kind, scenarios, (m) => io.err(m)); // #27
  scenarios = pairScenarios(verb, scenarios, sel.factory.kind, (m) => io.err(m)); // #28
  scenarios = agentScenarios(verb, scenarios, sel.factory.kind, (m) => io.err(m)); // #29
  const outDir =
    typeof flags.out === 'string' ? resolve(flags.out) : join(paths(root).runsDir, `drill-${makeRunId()}`);
  io.err(`drill: ${scenarios.length} scenario(s) on the ${sel.factory.kind} runtime → ${outDir}\n`);
  const started = Date.now();
  const { record, files } = await runDrill(
    {
      root,
      factory: sel.factory,
      signal,
      resources: resourceFlags(flags).resources,
      nodes,
      log: (m) => io.err(`[${Math.round((Date.now() - started) / 1000)}s] ${m}\n`),
    },
    scenarios,
    sel.factory.kind,
    outDir,
  );
  io.out(`${terminalGrid(record)}\n\nwrote ${files.join(', ')}\n`);
  const ok = record.scenarios.every((s) => !s.error && s.expectations.every((e) => e.ok));
  return ok ? 0 : 1;
}

/**
 * The node scenarios need the swarm runtime and worker nodes: named alone (`scenario node-partition`)
 * without them → a clear error before any stack starts; in `drill` (every scenario) they are left out with
 * a note instead.
 */
export function nodeScenarios(
  verb: 'drill' | 'scenario',
  scenarios: Scenario[],
  runtime: string,
  nodes: { state: NodesState; statePath: string } | null,
  note: (s: string) => void,
  where = '',
): Scenario[] {
  const usable = (s: Scenario) => {
    try {
      requireNodes(s, runtime, nodes, where);
      return true;
    } catch (e) {
      if (verb === 'scenario') throw e;
      return false;
    }
  };
  const out = scenarios.filter((s) => !NODE_MODES.includes(s.mode) || usable(s));
  const left = scenarios.filter((s) => !out.includes(s)).map((s) => s.name);
  if (left.length > 0)
    note(`drill: ${left.join(', ')} left out: they need --runtime swarm and worker nodes (\`nodes up 2\`)\n`);
  return out;
}

/** `drill` / `scenario <name>` with Ctrl-C wired: every stack a scenario started is torn down first. */
export async function drillCommand(
  verb: 'drill' | 'scenario',
  argv: string[],
  io: CliIo,
  deps: { signals?: NodeJS.EventEmitter } = {},
): Promise<number> {
  return withInterrupts(deps.signals ?? process, io, {}, (signal) => runDrillCommand(verb, argv, io, signal));
}
