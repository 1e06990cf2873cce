import { describeError, LabError } from '@pushpull/common';
import {
  gapsSentence,
  MERGE_RULE,
  mergeReplicaPods,
  openCost,
  replicaAccounts,
  scrapeOffsetSpread,
} from '../analysis/replicas.ts';
import { httpJson } from '../core/http.ts';
import type { FirstFailure, PathAccount, ProbeSample } from '../core/record.ts';
import {
  PULL_REPLICA_COMPONENTS,
  type PullReplicasRecord,
  replicaLabel,
  type ScrapeOffsetSpread,
} from '../core/record-replicas.ts';
import type { ProbeTargets } from '../probe/loop.ts';
import { PromClient } from '../probe/prom.ts';
import { type ActiveTarget, lastScrapes } from '../probe/stores.ts';
import { capabilitiesOf } from '../runtime/capabilities.ts';
import type { StackOptions } from '../runtime/types.ts';
import type { PodStored, RunContext } from './context.ts';
import type { ProducerPods, Window } from './phases/pull-totals.ts';

// #28, the Prometheus pair in a burst: the stack option and the probe's further replicas, how far apart the two
// replicas scrape one target (read once after warm-up), every replica's per-pod totals and the merged view
// (pull's delivered), and the record's `pullReplicas`. What the run measured of the pair is kept per context.

interface PairState {
  perReplica: PodStored[][];
  offset: ScrapeOffsetSpread | null;
}

const state = new WeakMap<RunContext, PairState>();
const pairOf = (ctx: RunContext): PairState => {
  const s = state.get(ctx) ?? { perReplica: [], offset: null };
  state.set(ctx, s);
  return s;
};

/** How many pull replicas this run asked for (1 unless `--prometheus-replicas 2`). */
export const replicasOf = (ctx: RunContext): number => ctx.config.prometheusReplicas ?? 1;

/** `up`'s option; a runtime that cannot run the pair refuses it here, naming the runtime and the flag. */
export function replicaStackOptions(ctx: RunContext): Pick<StackOptions, 'prometheusReplicas'> {
  const n = replicasOf(ctx);
  if (n <= 1) return {};
  const max = capabilitiesOf(ctx.runtime.kind).prometheusReplicas;
  if (n > max)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--prometheus-replicas ${n}: the ${ctx.runtime.kind} runtime runs ${max} pull Prometheus; the pair runs on --runtime process or docker`,
      { flag: 'prometheus-replicas', value: String(n), runtime: ctx.runtime.kind },
    );
  if (ctx.config.pullTopology === 'agent')
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--prometheus-replicas ${n} with --pull-topology agent: the pair is two central stores scraping every pod; agents remote-write to one`,
      { flag: 'prometheus-replicas', value: String(n) },
    );
  if (ctx.config.pull === false)
    throw new LabError(
      'LAB_ERR_FLAG_VALUE',
      `--prometheus-replicas ${n} with --pull off: the pair would scrape no pod`,
      { flag: 'prometheus-replicas', value: String(n) },
    );
  return { prometheusReplicas: n };
}

/** The further replicas (`prometheus-2`) for the probe: their targets and alerts; their death is survivable. */
export function replicaProbeTargets(ctx: RunContext): Pick<ProbeTargets, 'pullReplicas' | 'survivable'> {
  const urls = ctx.stack.pullReplicaUrls ?? [];
  if (urls.length < 2) return {};
  const more = urls.slice(1).map((url, i) => ({
    component: PULL_REPLICA_COMPONENTS[i + 1] ?? `prometheus-${i + 2}`,
    prom: new PromClient(url),
  }));
  return { pullReplicas: more, survivable: new Set(more.map((r) => r.component)) };
}

/** After warm-up: how far apart the two replicas' last scrapes of every pod target land (best effort). */
export async function replicaOffsets(ctx: RunContext): Promise<void> {
  const urls = ctx.stack.pullReplicaUrls ?? [];
  if (urls.length < 2) return;
  try {
    const read = async (url: string) =>
      lastScrapes(
        (
          await httpJson<{ data?: { activeTargets?: ActiveTarget[] } }>(
            `${url}/api/v1/targets?state=active`,
            {
              timeoutMs: 10_000,
              signal: ctx.signal,
            },
          )
        ).data?.activeTargets ?? [],
        'producers',
      );
    const [a, b] = await Promise.all([read(urls[0]!), read(urls[1]!)]);
    pairOf(ctx).offset = scrapeOffsetSpread(a, b, ctx.config.scrapeIntervalMs, Date.now());
  } catch (e) {
    ctx.notes.push(`Prometheus pair: the scrape offsets could not be read (${describeError(e)})`);
  }
}

/**
 * Every further replica's pods (its own accounting budget, as replica 1 had), then the merged view — per pod the
 * larger stored total — replaces pull's pods and delivered count: what a deduplicating querier answers.
 */
export async function pairTotals(ctx: RunContext, w: Window, pods: ProducerPods): Promise<void> {
  const urls = ctx.stack.pullReplicaUrls ?? [];
  if (urls.length < 2 || !ctx.collected.pullDelivered) return;
  const pair = pairOf(ctx);
  pair.perReplica = [ctx.collected.pullPods];
  for (const url of urls.slice(1)) {
    const w2: Window = { ...w, budgetEnd: Date.now() + 60_000 };
    const prom = (t: number) => new PromClient(url, t);
    const mine: PodStored[] = [];
    for (const m of ctx.members) {
      const got = await pods(m, w2, prom);
      mine.push(
        ...(got ??
          m.podIds.map((pod) => ({
            pod,
            producer: m.name,
            stored: null,
            scrapedAfterQuiesce: null,
            overSampleLimit: false,
          }))),
      );
    }
    pair.perReplica.push(mine);
  }
  const merged = mergeReplicaPods(pair.perReplica);
  ctx.collected.pullPods = merged;
  ctx.collected.pullDelivered = {
    value: merged.reduce((a, p) => a + (p.stored ?? 0), 0),
    from: `the Prometheus pair merged (${urls.length} replicas): ${MERGE_RULE}; replica 1: ${ctx.collected.pullDelivered.from}`,
  };
}

/** The record's `pullReplicas`: per replica and merged (with 2), the offsets, and the cost at the open. */
export function replicasRecord(
  ctx: RunContext,
  samples: readonly ProbeSample[],
  t0: number,
  pull: PathAccount,
  firstFailures: readonly FirstFailure[],
): PullReplicasRecord {
  const n = replicasOf(ctx);
  const profile = ctx.config.profile;
  const components = PULL_REPLICA_COMPONENTS.slice(0, n);
  const atOpen =
    ctx.burstAtMs === null || !profile
      ? null
      : openCost(samples, t0, { fromMs: t0, toMs: t0 + profile.rampMs + profile.holdMs }, components);
  const out: PullReplicasRecord = { replicas: n, merge: MERGE_RULE, atOpen };
  const pair = state.get(ctx);
  if (n < 2 || !pair) return out;
  out.scrapeOffset = pair.offset;
  if (pair.perReplica.length < 2) return out;
  const emittedByPod = new Map<string, number>();
  for (const l of ctx.collected.ledgers)
    for (const [pod, c] of Object.entries(l.pods)) emittedByPod.set(pod, c.orders);
  const dead = new Set(samples.flatMap((s) => s.dead ?? []));
  const overloaded = firstFailures.some(
    (f) => f.path === 'pull' && (f.signal === 'interval-stretch' || f.signal === 'prometheus-unresponsive'),
  );
  out.perReplica = replicaAccounts(
    pull.emitted,
    pair.perReplica.map((pods, i) => ({
      component: components[i] ?? `prometheus-${i + 1}`,
      replica: replicaLabel(i),
      pods,
      died: dead.has(components[i] ?? ''),
    })),
    ctx.collected.pullPods,
    emittedByPod,
    dead,
    overloaded,
  );
  out.merged = {
    delivered: pull.delivered,
    lost: pull.lost,
    lossPct: pull.lossPct,
    causes: pull.causes ?? [],
  };
  out.gaps = gapsSentence(out.perReplica, pull.lost);
  return out;
}
