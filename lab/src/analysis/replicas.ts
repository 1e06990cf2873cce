import type { AlertObservation, ProbeSample } from '../core/record.ts';
import type { OpenCost, ReplicaAccount, ScrapeOffsetSpread } from '../core/record-replicas.ts';
import { accountPath } from './accounting.ts';
import { type PullPodOutcome, pullLossCauses } from './causes.ts';

// #28, the Prometheus pair, pure: how far apart two replicas scrape one target, the merged view a deduplicating
// querier would answer, each replica's account and which of its gaps the other covered, alerts counted once
// per alert, and what the producers and scrapes cost at the open.

/** One pod as one replica stored it (the shape of the burst's per-pod pull accounting). */
export interface ReplicaPod {
  pod: string;
  producer: string;
  /** Its stored orders total; null = the replica did not answer for its producer. */
  stored: number | null;
  scrapedAfterQuiesce: boolean | null;
  overSampleLimit: boolean;
}

/** The merge, in words (docs/contracts.md): recorded with every merged view. */
export const MERGE_RULE =
  "per series, the larger stored value of the two replicas (max across replicas): computed per pod, which is the same — a scrape stores all of a pod's series at one instant and counters only rise, so the replica whose last scrape of the pod is later holds the larger value of every one of its series";

/** Circular distance of two instants within an interval: 0 … interval/2. */
export function circularDistanceMs(aMs: number, bMs: number, intervalMs: number): number {
  const d = (((aMs - bMs) % intervalMs) + intervalMs) % intervalMs;
  return Math.min(d, intervalMs - d);
}

/**
 * How far apart two replicas' scrapes of each target land: from each replica's last scrape instant per target
 * (`/api/v1/targets` lastScrape), folded into the interval. Only targets both had scraped count.
 */
export function scrapeOffsetSpread(
  a: ReadonlyMap<string, number>,
  b: ReadonlyMap<string, number>,
  intervalMs: number,
  readAtMs: number,
): ScrapeOffsetSpread {
  const d: number[] = [];
  for (const [target, ta] of a) {
    const tb = b.get(target);
    if (tb !== undefined && Number.isFinite(ta) && Number.isFinite(tb))
      d.push(circularDistanceMs(ta, tb, intervalMs));
  }
  d.sort((x, y) => x - y);
  const at = (q: number) => (d.length === 0 ? null : d[Math.min(d.length - 1, Math.floor(q * d.length))]!);
  return {
    targets: d.length,
    intervalMs,
    p50Ms: at(0.5),
    minMs: d.length === 0 ? null : d[0]!,
    maxMs: d.length === 0 ? null : d[d.length - 1]!,
    within10Pct: d.filter((x) => x <= 0.1 * intervalMs).length,
    readAtMs,
    from: "each replica's /api/v1/targets lastScrape per pod target, the circular distance within the interval",
  };
}

/**
 * The merged view: per pod the larger stored total of the replicas that answered for it; scraped after quiesce
 * when any replica scraped it then; over the sample limit only when every replica that answered saw it so.
 */
export function mergeReplicaPods(replicas: readonly (readonly ReplicaPod[])[]): ReplicaPod[] {
  const first = replicas[0] ?? [];
  return first.map((p0) => {
    const views = replicas.map((r) => r.find((p) => p.pod === p0.pod)).filter((p): p is ReplicaPod => !!p);
    const answered = views.filter((v) => v.stored !== null);
    const stored = answered.length === 0 ? null : Math.max(...answered.map((v) => v.stored as number));
    const after = answered.map((v) => v.scrapedAfterQuiesce);
    return {
      pod: p0.pod,
      producer: p0.producer,
      stored,
      scrapedAfterQuiesce: after.includes(true) ? true : after.includes(false) ? false : null,
      overSampleLimit: answered.length > 0 && answered.every((v) => v.overSampleLimit),
    };
  });
}

export interface ReplicaAccountInput {
  component: string;
  replica: string;
  pods: readonly ReplicaPod[];
  died: boolean;
}

/** Pods as pull's loss causes see them: each pod's ledger against what a view stored. */
export function podOutcomes(
  pods: readonly ReplicaPod[],
  emittedByPod: ReadonlyMap<string, number>,
  deadProducers: ReadonlySet<string>,
): PullPodOutcome[] {
  return pods.map((p) => ({
    pod: p.pod,
    emitted: emittedByPod.get(p.pod) ?? 0,
    stored: p.stored,
    scrapedAfterQuiesce: p.scrapedAfterQuiesce,
    died: deadProducers.has(p.producer),
    overSampleLimit: p.overSampleLimit,
  }));
}

/** Each replica's account (delivered, loss by cause) and the orders of its gaps the merged view holds. */
export function replicaAccounts(
  emitted: number,
  replicas: readonly ReplicaAccountInput[],
  merged: readonly ReplicaPod[],
  emittedByPod: ReadonlyMap<string, number>,
  deadProducers: ReadonlySet<string>,
  prometheusOverloaded: boolean,
): ReplicaAccount[] {
  const mergedBy = new Map(merged.map((p) => [p.pod, p.stored ?? 0]));
  return replicas.map((r) => {
    const delivered = r.pods.reduce((a, p) => a + (p.stored ?? 0), 0);
    const a = accountPath(emitted, delivered, '', '');
    let pods = 0;
    let orders = 0;
    for (const p of r.pods) {
      const more = (mergedBy.get(p.pod) ?? 0) - (p.stored ?? 0);
      if (more > 0) {
        pods += 1;
        orders += more;
      }
    }
    return {
      replica: r.replica,
      component: r.component,
      delivered,
      lost: a.lost,
      lossPct: a.lossPct,
      causes: pullLossCauses(a.lost, podOutcomes(r.pods, emittedByPod, deadProducers), prometheusOverloaded),
      died: r.died,
      unanswered: [...new Set(r.pods.filter((p) => p.stored === null).map((p) => p.producer))],
      coveredByOther: { pods, orders },
      podsStored: Object.fromEntries(r.pods.map((p) => [p.pod, p.stored])),
    };
  });
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');

/** Whether a gap in one replica was covered by the other, in one sentence. */
export function gapsSentence(accounts: readonly ReplicaAccount[], mergedLost: number): string {
  const gaps = accounts.filter((a) => a.lost > mergedLost || a.coveredByOther.orders > 0);
  if (gaps.length === 0)
    return mergedLost > 0
      ? `no replica had a gap the other covered: both lost the same ${n(mergedLost)} orders`
      : 'neither replica had a gap: each stored every order';
  const parts = gaps.map(
    (a) =>
      `replica ${a.replica} (${a.component}${a.died ? ', died' : ''}) lost ${n(a.lost)} orders; the other held ${n(a.coveredByOther.orders)} of them (${a.coveredByOther.pods} pod(s))`,
  );
  const tail =
    mergedLost > 0
      ? `; the merged view still lost ${n(mergedLost)} (no replica stored them)`
      : '; the merged view lost nothing';
  return `${parts.join('; ')}${tail}`;
}

/**
 * The same alert from two replicas is one page (Alertmanager deduplicates the pair's alerts): per alert and
 * state the larger instance count of the replicas, never their sum.
 */
export function dedupReplicaAlerts(replicas: readonly (readonly AlertObservation[])[]): AlertObservation[] {
  const by = new Map<string, AlertObservation>();
  for (const list of replicas)
    for (const a of list) {
      const key = `${a.name}\0${a.state}`;
      const cur = by.get(key);
      if (!cur || a.count > cur.count) by.set(key, { ...a });
    }
  return [...by.values()];
}

/**
 * Producers' CPU and the pod scrapes at the open: over the window [fromMs, toMs] (ramp and hold), the
 * producers' mean cores from their cumulative CPU seconds, and per replica the scrape durations its
 * /api/v1/targets reported each tick (replica 1 in `pull`, further ones in `replicas`).
 */
export function openCost(
  samples: readonly ProbeSample[],
  burstAtMs: number,
  window: { fromMs: number; toMs: number },
  components: readonly string[],
): OpenCost {
  const inWin = samples.filter((s) => s.tMs >= window.fromMs && s.tMs <= window.toMs);
  const withCpu = inWin.filter((s) => typeof s.cpu?.producers === 'number');
  const a = withCpu[0];
  const b = withCpu[withCpu.length - 1];
  const producerCores =
    a && b && b.tMs > a.tMs ? (b.cpu!.producers! - a.cpu!.producers!) / ((b.tMs - a.tMs) / 1000) : null;
  const scrape = components.map((component, i) => {
    const ticks = inWin
      .map((s) => (i === 0 ? s.pull : s.replicas?.[component]))
      .filter((t) => t && t.scrapeP50 !== null && t.scrapeP50 !== undefined);
    const p50s = ticks.map((t) => t!.scrapeP50 as number).sort((x, y) => x - y);
    const maxOf = (f: (t: NonNullable<(typeof ticks)[number]>) => number | null) =>
      ticks.reduce<number | null>((m, t) => {
        const v = f(t!);
        return v === null || !Number.isFinite(v) ? m : m === null || v > m ? v : m;
      }, null);
    return {
      component,
      p50: p50s.length === 0 ? null : p50s[Math.floor(p50s.length / 2)]!,
      p99: maxOf((t) => t.scrapeP99),
      max: maxOf((t) => t.scrapeMax),
      ticks: ticks.length,
    };
  });
  return {
    fromS: (window.fromMs - burstAtMs) / 1000,
    toS: (window.toMs - burstAtMs) / 1000,
    producerCores,
    scrape,
  };
}
