import { LabError, type LedgerCounts, sumCounts } from '@pushpull/common';
import { httpText } from '../core/http.ts';
import type { ResourcePlan } from '../core/resources.ts';
import { abortableSleep, throwIfAborted } from '../core/time.ts';
import { transportOf } from '../core/transports.ts';
import { newWorkDir, removeWorkDir } from '../core/workdir.ts';
import type { NodesState } from '../nodes/state.ts';
import { ControlClient } from '../probe/control.ts';
import { parseExposition } from '../probe/exposition.ts';
import { PromClient } from '../probe/prom.ts';
import { capabilitiesOf } from '../runtime/capabilities.ts';
import type {
  ProducerMember,
  ProducerOptions,
  Runtime,
  RuntimeFactory,
  StackEndpoints,
  StackOptions,
} from '../runtime/types.ts';
import { PUSH_AGENT_COLUMN, PUSH_AGENT_CUT_MODES } from './modes/push-agent-scenario.ts';
import type { Scenario, Variant } from './scenario.ts';

// One drill variant runs on a fresh stack: up → scale → warm-up (every pod scraped) → the mode's
// measurement → down. The stack is always torn down, also on failure and Ctrl-C.

export interface DrillDeps {
  root: string;
  factory: RuntimeFactory;
  log: (msg: string) => void;
  signal: AbortSignal;
  /** Every stack's CPU and memory plan (--cpus, --cpuset, --memory); absent = none. */
  resources?: ResourcePlan;
  /** The worker nodes `nodes up` made (its state file), for the node drills; null/absent = none. */
  nodes?: { state: NodesState; statePath: string } | null;
  /**
   * Variants of one scenario run at once, each on its own stack (absent = 1, one after another). The tests
   * use more to fit CI's time: a drill is mostly waiting (alerts' `for`, partitions). Keep 1 where the
   * variants compare load (a peak, a spread) on a machine they would share.
   */
  variantsAtOnce?: number;
}

export interface Stack {
  runtime: Runtime;
  endpoints: StackEndpoints;
  members: ProducerMember[];
  prom: PromClient;
  scenario: Scenario;
  variant: Variant;
  deps: DrillDeps;
  runId: string;
}

export const INCIDENT_FLEET_PODS = 1400;

export async function withStack<T>(
  deps: DrillDeps,
  scenario: Scenario,
  variant: Variant,
  extra: Pick<
    StackOptions,
    'producerScrape' | 'collectorFlags' | 'pullTopology' | 'agentRelays' | 'prometheusReplicas'
  > & {
    producers?: Pick<ProducerOptions, 'restartPolicy'>;
  },
  fn: (s: Stack) => Promise<T>,
): Promise<T> {
  const { producers: producerExtra, ...stackExtra } = extra;
  const runId = `drill-${scenario.name}-${variant.name}-${Date.now().toString(36)}`;
  const workDir = newWorkDir(runId);
  const runtime = deps.factory.create();
  try {
    const endpoints = await runtime.up({
      runId,
      workDir,
      scrapeIntervalMs: scenario.scrapeIntervalMs,
      withNodeExporter: capabilitiesOf(runtime.kind).nodeExporter,
      log: deps.log,
      signal: deps.signal,
      ...stackExtra,
      ...(deps.resources ? { resources: deps.resources } : {}),
      // A partition must reach every path (process runtime: through the lab's relays per producer). Only
      // for a scenario that partitions: the relays are an extra hop the other measurements must not carry.
      partitionable:
        scenario.faults.some((f) => f.action === 'partition') || PUSH_AGENT_CUT_MODES.includes(scenario.mode), // #27: the agents' forward paths through relays
    });
    const producers = Math.ceil(scenario.pods / scenario.podsPerProducer);
    const members = await runtime.scale(producers, {
      podsPerProducer: scenario.podsPerProducer,
      totalPods: scenario.pods,
      seed: 42,
      pushMode: variant.push.mode,
      jitter: variant.push.jitter,
      transport: variant.push.transport,
      ...(variant.push.otlpTemporality ? { otlpTemporality: variant.push.otlpTemporality } : {}),
      heartbeatMs: variant.push.heartbeatMs,
      flushIntervalMs: variant.push.flushIntervalMs,
      fleetPods: INCIDENT_FLEET_PODS,
      ...(variant.column === PUSH_AGENT_COLUMN ? { pushTopology: 'agent' as const } : {}), // #27
      ...producerExtra,
    });
    const prom = new PromClient(endpoints.prometheusUrl);
    const stack: Stack = { runtime, endpoints, members, prom, scenario, variant, deps, runId };
    // Warm-up: at least the scenario's warm-up, until every pod has been scraped successfully and, with
    // OTLP, every pod has had an export accepted (its first export comes one interval after its start:
    // a fault before it would measure a pod the receiver never knew — on swarm, whose stacks start slower,
    // the victim was killed before its first export).
    const otlp = transportOf(variant.push.transport).sdk && variant.push.mode !== 'off';
    const warmStart = Date.now();
    const warmLimit =
      warmStart +
      scenario.warmupMs +
      30_000 +
      4 * scenario.scrapeIntervalMs +
      (otlp ? 2 * variant.push.flushIntervalMs : 0);
    for (let i = 0; i < 10_000; i++) {
      throwIfAborted(deps.signal);
      const up = (await prom.scalar('count(up{job="producers"} == 1)').catch(() => null)) ?? 0;
      const ready = up >= scenario.pods && Date.now() - warmStart >= scenario.warmupMs;
      if (ready && (!otlp || (await everyPodExported(members, deps.signal)))) break;
      if (Date.now() > warmLimit)
        throw new LabError(
          'LAB_ERR_TIMEOUT',
          `${scenario.name}/${variant.name}: only ${up} of ${scenario.pods} pods scraped${otlp ? ' (or not every pod had an OTLP export accepted)' : ''} within the warm-up`,
        );
      await abortableSleep(500, deps.signal);
    }
    return await fn(stack);
  } finally {
    await runtime.down().catch((e: Error) => deps.log(`teardown: ${e.message}`));
    removeWorkDir(workDir);
  }
}

/** Every pod of every producer has had an OTLP export accepted (its ledger's otlpOrdersExported > 0). */
async function everyPodExported(members: readonly ProducerMember[], signal: AbortSignal): Promise<boolean> {
  const ledgers = await Promise.all(
    members.map((m) => new ControlClient(m.baseUrl, 5000).ledger(signal).catch(() => null)),
  );
  return ledgers.every(
    (l) => l !== null && Object.values(l.pods).every((c) => (c.otlpOrdersExported ?? 0) > 0),
  );
}

/** Polls `probe` every `everyMs` until it returns true or `timeoutMs` passes; returns ms waited or null. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  o: { timeoutMs: number; everyMs?: number; signal?: AbortSignal },
): Promise<number | null> {
  const start = Date.now();
  for (let i = 0; i < 1_000_000; i++) {
    throwIfAborted(o.signal);
    if (await probe().catch(() => false)) return Date.now() - start;
    if (Date.now() - start >= o.timeoutMs) return null;
    await abortableSleep(
      Math.min(o.everyMs ?? 500, Math.max(0, o.timeoutMs - (Date.now() - start))),
      o.signal,
    );
  }
  return null;
}

/** Σ of the collector's `orders` series whose pod label is one of `pods` (push delivered, per pod set). */
export async function collectorOrdersFor(collectorUrl: string, pods: ReadonlySet<string>): Promise<number> {
  const text = await httpText(`${collectorUrl}/metrics`, { timeoutMs: 10_000 });
  let sum = 0;
  for (const s of parseExposition(
    text,
    (n) => n === 'orders',
    () => true,
  )) {
    if (pods.has(s.labels.pod ?? '') && Number.isFinite(s.value)) sum += s.value;
  }
  return sum;
}

/** Σ over the given pods of the victim's ground-truth counts (control API): orders, pushes, OTLP exports. */
export async function ledgerFor(
  member: ProducerMember,
  pods: ReadonlySet<string> | null = null,
): Promise<Required<LedgerCounts>> {
  const l = await new ControlClient(member.baseUrl).ledger();
  return sumCounts(Object.entries(l.pods).flatMap(([pod, c]) => (pods && !pods.has(pod) ? [] : [c])));
}

/** Whether an alert with this name is firing for any series matching `labelMatch` (exact label values). */
export async function alertFiring(
  prom: PromClient,
  alertname: string,
  match: (labels: Record<string, string>) => boolean,
): Promise<boolean> {
  const items = await prom.vector(`ALERTS{alertname="${alertname}",alertstate="firing"}`);
  return items.some((i) => match(i.metric));
}

export function pct(lost: number, emitted: number): number | null {
  return emitted > 0 ? (100 * lost) / emitted : null;
}

export const secondsSince = (t: number) => Math.round((Date.now() - t) / 100) / 10;
