import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, LabError } from '@pushpull/common';
import { abortError, mapLimit } from '../core/time.ts';
import type { Cell, DrillRecord, ScenarioResult } from './grid.ts';
import { checkExpectations, terminalGrid } from './grid.ts';
import { type DrillDeps, withStack } from './harness.ts';
import { bodyBalloon } from './modes/body-balloon.ts';
import { networkPartition, targetDies } from './modes/lose-target.ts';
import { nodeLoss, nodePartition } from './modes/node-fault.ts';
import { centralStoreDown, pullAgentDies, pullAgentPartition } from './modes/pull-agents.ts'; // #29
import { agentDiesMode, agentPartitionMode, centralDownMode } from './modes/push-agent.ts';
import { replicaDies, replicaPaused } from './modes/replica-fault.ts';
import { scrapeStorm } from './modes/scrape-storm.ts';
import { shortLivedJob } from './modes/short-lived-job.ts';
import { synchronisedFlush } from './modes/synchronised-flush.ts';
import type { DrillMode, ModeOutcome } from './modes/types.ts';
import { renderDrillHtml } from './report.ts';
import { FAILURE_MODES, type FailureMode, parseScenario, type Scenario, type Variant } from './scenario.ts';

export const MODES: Record<FailureMode, DrillMode> = {
  'target-dies': targetDies,
  'network-partition': networkPartition,
  'short-lived-job': shortLivedJob,
  'synchronised-flush': synchronisedFlush,
  'scrape-storm': scrapeStorm,
  'body-balloon': bodyBalloon,
  'node-partition': nodePartition,
  'node-loss': nodeLoss,
  'agent-dies': agentDiesMode, // #27
  'central-down': centralDownMode, // #27
  'agent-partition': agentPartitionMode, // #27
  'replica-dies': replicaDies, // #28
  'replica-paused': replicaPaused, // #28
  'central-store-down': centralStoreDown, // #29
  'pull-agent-dies': pullAgentDies, // #29
  'pull-agent-partition': pullAgentPartition, // #29
};

/** Every scenario file in `dir`, validated, in the grid's row order. */
export function loadScenarios(dir: string): Scenario[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));
  const all = files.map((f) => parseScenario(readFileSync(join(dir, f), 'utf8'), join(dir, f)));
  return all.sort(
    (a, b) => FAILURE_MODES.indexOf(a.mode) - FAILURE_MODES.indexOf(b.mode) || a.name.localeCompare(b.name),
  );
}

export function findScenario(dir: string, name: string): Scenario {
  const all = loadScenarios(dir);
  const s = all.find((x) => x.name === name);
  if (!s)
    throw new LabError(
      'LAB_ERR_SCENARIO',
      `no scenario named "${name}" in ${dir} (known: ${all.map((x) => x.name).join(', ')})`,
    );
  return s;
}

/** What the scenario's mode adds to its stack (withStack's `extra`). */
export function stackExtra(mode: DrillMode, s: Scenario): Parameters<typeof withStack>[3] {
  const scrape = mode.producerScrape?.(s);
  return {
    ...(scrape ? { producerScrape: scrape } : {}),
    ...(mode.collectorFlags ? { collectorFlags: mode.collectorFlags(s) } : {}),
    ...(mode.producerOptions ? { producers: mode.producerOptions(s) } : {}),
    ...(mode.stackOptions ? mode.stackOptions(s) : {}), // #29, #28
  };
}

/** One variant's run: its outcome, or the error that ended it. */
export type VariantRun = { variant: string; outcome: ModeOutcome } | { variant: string; error: unknown };

/**
 * Merges the variants' runs in the scenario's variant order, as if they ran one after another: the first
 * failed variant ends the merge (the variants after it are not part of the result, also when they ran at
 * the same time). Pure.
 */
export function mergeVariantRuns(
  s: Scenario,
  runs: readonly (VariantRun | null)[],
  combine?: DrillMode['combine'],
): Pick<ScenarioResult, 'cells' | 'metrics' | 'series' | 'notes' | 'error'> & { swarm: string[] } {
  const outcomes = new Map<string, ModeOutcome>();
  const cells: Cell[] = [];
  const metrics: Record<string, number> = {};
  const series: Record<string, [number, number][]> = {};
  const notes: string[] = [];
  const swarm: string[] = [];
  const one = s.variants.length === 1;
  let error: string | null = null;
  for (const run of runs) {
    if (run === null) continue; // not started: an earlier variant had failed
    if ('error' in run) {
      error = `${run.variant}: ${describeError(run.error)}`;
      break;
    }
    const { variant, outcome: o } = run;
    outcomes.set(variant, o);
    cells.push(...o.cells);
    for (const [k, val] of Object.entries(o.metrics)) {
      metrics[`${variant}.${k}`] = val;
      if (one) metrics[k] = val;
    }
    for (const [k, val] of Object.entries(o.series)) series[one ? k : `${variant}: ${k}`] = val;
    notes.push(...o.notes.filter((n) => !notes.includes(n)));
    if (o.swarm !== undefined) swarm.push(one ? o.swarm : `${variant}: ${o.swarm}`);
  }
  if (!error && combine) Object.assign(metrics, combine(outcomes));
  return { cells, metrics, series, notes, error, swarm };
}

async function runVariant(deps: DrillDeps, s: Scenario, v: Variant): Promise<VariantRun> {
  const mode = MODES[s.mode];
  deps.log(
    `${s.name}: variant ${v.name} (${v.push.mode} ${v.push.transport}${v.push.otlpTemporality ? ` ${v.push.otlpTemporality}` : ''}, heartbeat ${v.push.heartbeatMs ? `${v.push.heartbeatMs} ms` : 'off'}, jitter ${v.push.jitter ? 'on' : 'off'})`,
  );
  try {
    return {
      variant: v.name,
      outcome: await withStack(deps, s, v, stackExtra(mode, s), (st) => mode.run(st)),
    };
  } catch (e) {
    if (!deps.signal.aborted) deps.log(`${s.name}: ${v.name}: ${describeError(e)}`);
    return { variant: v.name, error: e };
  }
}

/**
 * Runs every variant of one scenario on its own fresh stack, `deps.variantsAtOnce` at a time (default one
 * after another); a failure is recorded, not thrown, and no further variant starts after it. Ctrl-C: every
 * started variant tears its stack down first, then the interruption is thrown.
 */
export async function runScenario(
  deps: DrillDeps,
  s: Scenario,
  runtimeKind: string,
): Promise<ScenarioResult> {
  const started = Date.now();
  let failed = false;
  const runs = await mapLimit(s.variants, deps.variantsAtOnce ?? 1, async (v) => {
    if (failed || deps.signal.aborted) return null;
    const run = await runVariant(deps, s, v);
    if ('error' in run) failed = true;
    return run;
  });
  // Interrupted: the error a variant ended with (every started stack is down by now), as one at a time did.
  if (deps.signal.aborted && runs.some((r) => r === null || 'error' in r)) {
    const ended = runs.find((r) => r !== null && 'error' in r);
    throw ended && 'error' in ended ? ended.error : abortError(deps.signal);
  }
  const { swarm, error, ...merged } = mergeVariantRuns(s, runs, MODES[s.mode].combine);
  return {
    name: s.name,
    title: s.title,
    mode: s.mode,
    runtime: runtimeKind,
    startedAt: new Date(started).toISOString(),
    durationS: Math.round((Date.now() - started) / 1000),
    ...merged,
    expectations: error
      ? [{ text: `scenario failed: ${error}`, ok: false }]
      : checkExpectations(s, merged.cells, merged.metrics),
    error,
    ...(swarm.length > 0 ? { swarm: swarm.join(' | ') } : {}),
  };
}

export async function runDrill(
  deps: DrillDeps,
  scenarios: readonly Scenario[],
  runtimeKind: string,
  outDir: string,
): Promise<{ record: DrillRecord; files: string[] }> {
  const record: DrillRecord = { startedAt: new Date().toISOString(), runtime: runtimeKind, scenarios: [] };
  mkdirSync(outDir, { recursive: true });
  const files = [join(outDir, 'drill.json'), join(outDir, 'drill.html')];
  const write = () => {
    // Written after every scenario, so an interrupted drill still leaves what it measured.
    writeFileSync(files[0]!, `${JSON.stringify(record, null, 2)}\n`);
    writeFileSync(files[1]!, renderDrillHtml(record));
  };
  for (const s of scenarios) {
    record.scenarios.push(await runScenario(deps, s, runtimeKind));
    write();
  }
  write();
  return { record, files };
}

export { terminalGrid };
