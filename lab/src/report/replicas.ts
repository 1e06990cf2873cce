import { formatLossPct } from '../analysis/accounting.ts';
import { causeText, dominantCause } from '../analysis/causes.ts';
import type { RunRecord } from '../core/record.ts';
import type { Table } from './table.ts';

// #28, the Prometheus pair: pull's delivered per replica and merged, whether one replica's gap was covered by
// the other, where the two replicas' scrapes of a pod land, and what the pods' scrapes cost at the open.

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const s3 = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${v.toFixed(3)} s`);

/** One row per replica and the merged view (null without the pair). */
export function replicasTable(r: RunRecord): Table | null {
  const p = r.pullReplicas;
  if (!p?.perReplica || !p.merged) return null;
  const top = (causes: Parameters<typeof dominantCause>[0]) => {
    const c = dominantCause(causes);
    return c ? `${causeText(c.cause)} ${int(c.orders)}` : '–';
  };
  const rows = p.perReplica.map((a) => [
    `replica ${a.replica} (${a.component}${a.died ? ', died' : ''})`,
    int(a.delivered),
    int(a.lost),
    formatLossPct(a.lossPct),
    int(a.coveredByOther.orders),
    top(a.causes),
  ]);
  rows.push([
    'merged (max across replicas)',
    int(p.merged.delivered),
    int(p.merged.lost),
    formatLossPct(p.merged.lossPct),
    '–',
    top(p.merged.causes),
  ]);
  return {
    head: ['Prometheus pair', 'delivered', 'lost', 'loss', 'covered by the other', 'largest cause'],
    rows,
    align: ['l', 'r', 'r', 'r', 'r', 'l'],
  };
}

/** Sentences under the table: the gaps, the scrape offsets, the cost at the open (also for one replica). */
export function replicasNotes(r: RunRecord): string[] {
  const p = r.pullReplicas;
  if (!p) return [];
  const out: string[] = [];
  if (p.gaps) out.push(`Gaps: ${p.gaps}.`);
  const o = p.scrapeOffset;
  if (o && o.targets > 0)
    out.push(
      `The two replicas' scrapes of one pod land ${int(o.p50Ms ?? 0)} ms apart at the median (${int(o.minMs ?? 0)}–${int(o.maxMs ?? 0)} ms over ${o.targets} pods; ${o.within10Pct} within 10% of the ${o.intervalMs / 1000} s interval): Prometheus hashes each target's offset with the replica's external labels.`,
    );
  const budget = r.config.resources?.prometheus;
  if (p.replicas > 1 && budget)
    out.push(
      `Budget: both replicas run in pull's one budget (${budget.cpus === null ? 'no CPU quota' : `${budget.cpus} cores`}${budget.memoryBytes === null ? '' : `, ${(budget.memoryBytes / 2 ** 30).toFixed(2)} GiB`}), equal to push's total: pull runs two stores on the budget of one, each replica about half of it.`,
    );
  const c = p.atOpen;
  if (c && (p.replicas > 1 || c.producerCores !== null)) {
    const scrapes = c.scrape
      .filter((x) => x.ticks > 0)
      .map((x) => `${x.component} p50 ${s3(x.p50)}, p99 ${s3(x.p99)}, max ${s3(x.max)}`)
      .join('; ');
    out.push(
      `At the open (+${c.fromS.toFixed(0)}…+${c.toS.toFixed(0)} s) with ${p.replicas} pull replica(s): producers ${c.producerCores === null ? 'not measured' : `${c.producerCores.toFixed(2)} cores`}${scrapes ? `; pod scrapes ${scrapes}` : ''}.`,
    );
  }
  return out;
}
