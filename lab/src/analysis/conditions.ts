import type { PathBudget, PathName, ProbeSample, ResourceCondition } from '../core/record.ts';
import type { Enforcement, ResourceComponent, ResourcePlan } from '../core/resources.ts';

// Which resource ran out (DESIGN.md "Budgets make an answer transfer"): for each loss cause and failure
// signal, the resource behind it, measured over the probe seconds in which that cause grew — the collector
// out of its CPU budget (throttled above --throttled-share) against its receive buffer overflowing while it
// had CPU to spare; Prometheus throttled against the pods (producers) throttled for slow scrapes; a
// configured limit. Each condition names the knob that would move it. Pure.

export interface ConditionInput {
  samples: readonly ProbeSample[];
  plan: ResourcePlan | null;
  enforcement: Enforcement | null;
  /** --throttled-share */
  threshold: number;
  /** What the collector's socket was granted (SO_RCVBUF read back). */
  rcvbufBytes: number | null;
  scrapeTimeoutSeconds: number;
  budgets?: Record<PathName, PathBudget>;
  /** The burst window: used when no second shows the cause growing. */
  window: { fromMs: number; toMs: number };
  /** #27 --push-topology agent: the agents share the collector's budget (one group), and their sockets drop. */
  pushAgents?: boolean;
}

type Kind = 'receiver' | 'scrape' | 'limit' | 'fault';

const LIMIT =
  /^(collector-refused|receiver-refused|agent-refused):|^(scrape-over-limit|collector-drop|otlp-refused|sample-limit|alert:SampleLimitHit)$/;
const SCRAPE = new Set([
  'scrape-failed',
  'prometheus-overloaded',
  'not-stored',
  'unverified',
  'slow-scrape',
  'failed-scrape',
  'interval-stretch',
  'prometheus-unresponsive',
]);
const FAULT = /^(target-died|died:|agent-died)/;
const RCVBUF = new Set([
  'kernel-rcvbuf',
  'kernel-udp-drop',
  'datagram-loss',
  'agent-rcvbuf',
  'agent-udp-drop',
]);
/** #27: causes and signals of the agents' own sockets (not the central collector's). */
const AGENT_SOCKET = new Set(['agent-rcvbuf', 'agent-udp-drop']);

function kindOf(name: string, path: PathName): Kind {
  if (LIMIT.test(name)) return 'limit';
  if (FAULT.test(name)) return 'fault';
  if (SCRAPE.has(name)) return 'scrape';
  return path === 'push' ? 'receiver' : 'scrape';
}

/** The per-second "did it grow here" test of each kind (previous and current sample). */
function grewFn(
  kind: Kind,
  timeout: number,
  agents: boolean,
): (prev: ProbeSample, cur: ProbeSample) => boolean {
  if (kind === 'receiver')
    return (a, b) => {
      const drops = (s: ProbeSample) =>
        agents
          ? (s.pushAgentDrops ?? null)
          : (s.collector?.socketDrops ?? s.collector?.kernelRcvbufErrors ?? null);
      const da = drops(a);
      const db = drops(b);
      return da !== null && db !== null && db > da;
    };
  return (_a, b) => {
    const p = b.pull;
    if (!p) return false;
    return (
      (p.scrapeMax ?? 0) > timeout / 2 ||
      (p.slowTargets ?? 0) > 0 ||
      (p.targets !== null && p.targetsUp !== null && p.targetsUp < p.targets)
    );
  };
}

interface Use {
  /** Throttled / periods summed over the growing seconds (null: no counters). */
  throttled: number | null;
  /** Mean cores used over those seconds. */
  cores: number | null;
}

/** CFS throttling and CPU use of one component, summed over the seconds selected. */
function useOver(pairs: readonly [ProbeSample, ProbeSample][], c: ResourceComponent): Use {
  let periods = 0;
  let throttled = 0;
  let cpu = 0;
  let secs = 0;
  let counted = false;
  for (const [a, b] of pairs) {
    const x = a.resources?.[c];
    const y = b.resources?.[c];
    const ca = x?.cpuSeconds ?? a.cpu?.[c];
    const cb = y?.cpuSeconds ?? b.cpu?.[c];
    if (ca != null && cb != null && cb >= ca) {
      cpu += cb - ca;
      secs += (b.tMs - a.tMs) / 1000;
    }
    if (x?.nrPeriods != null && y?.nrPeriods != null && x.nrThrottled != null && y.nrThrottled != null) {
      periods += y.nrPeriods - x.nrPeriods;
      throttled += y.nrThrottled - x.nrThrottled;
      counted = true;
    }
  }
  return {
    throttled: counted ? (periods > 0 ? throttled / periods : 0) : null,
    cores: secs > 0 ? cpu / secs : null,
  };
}

/** The seconds (consecutive sample pairs) in which the cause grew; the burst window when none did. */
function growingPairs(
  kind: Kind,
  v: ConditionInput,
  agents: boolean,
): { pairs: [ProbeSample, ProbeSample][]; grew: boolean } {
  const grew = grewFn(kind, v.scrapeTimeoutSeconds, agents);
  const all: [ProbeSample, ProbeSample][] = [];
  for (let i = 1; i < v.samples.length; i++) all.push([v.samples[i - 1]!, v.samples[i]!]);
  const hit = all.filter(([a, b]) => grew(a, b));
  if (hit.length > 0) return { pairs: hit, grew: true };
  return { pairs: burstPairs(v), grew: false };
}

function burstPairs(v: ConditionInput): [ProbeSample, ProbeSample][] {
  const out: [ProbeSample, ProbeSample][] = [];
  for (let i = 1; i < v.samples.length; i++) {
    const a = v.samples[i - 1]!;
    const b = v.samples[i]!;
    if (a.tMs >= v.window.fromMs && b.tMs <= v.window.toMs) out.push([a, b]);
  }
  return out;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const cores = (x: number | null) => (x === null ? '?' : x.toFixed(2));
const LABEL: Record<string, string> = {
  collector: 'the collector',
  prometheus: 'Prometheus',
  producers: 'the pods (producers)',
};

function enforced(v: ConditionInput, c: ResourceComponent): boolean {
  return (
    (v.enforcement?.[c]?.enforcedBy ?? 'unenforced') !== 'unenforced' && (v.plan?.[c].cpus ?? null) !== null
  );
}

/**
 * Who a component's budget holds: with the agent tier, the collector's group holds the agents too (one cgroup
 * on the process runtime; on docker and swarm the group's budget split between the central collector and them).
 */
const AGENTS_GROUP = 'the collector and its agents';
const labelOf = (v: ConditionInput, c: ResourceComponent) =>
  c === 'collector' && v.pushAgents ? AGENTS_GROUP : (LABEL[c] ?? c);

function outOfCpu(v: ConditionInput, c: ResourceComponent, u: Use, when: string): ResourceCondition {
  const who = labelOf(v, c);
  return {
    resource: 'cpu-budget',
    component: c,
    text: `${who} ran out of ${who === AGENTS_GROUP ? "push's receiving" : 'its'} ${v.plan![c].cpus}-core CPU budget (throttled in ${pct(u.throttled!)} of ${who === AGENTS_GROUP ? 'their' : 'its'} CFS periods, ${cores(u.cores)} cores used, ${when})`,
    knob: `cores for ${who}`,
  };
}

function unenforced(v: ConditionInput, cs: ResourceComponent[], u: Use, when: string): ResourceCondition {
  const note = v.enforcement?.[cs[0]!]?.note;
  return {
    resource: 'unenforced',
    component: cs[0]!,
    text: `no CPU budget was enforced on ${cs.map((c) => LABEL[c] ?? c).join(' or ')}${note ? ` (${note})` : ''}; ${LABEL[cs[0]!] ?? cs[0]} used ${cores(u.cores)} cores ${when}, so which resource ran out cannot be told`,
    knob: 'enforce the budgets (--cpus; the process runtime needs root for cgroups)',
  };
}

/** Budgets were enforced but the CPU probe read nothing for them in the window: say that, not "unenforced". */
function unmeasured(cs: ResourceComponent[], when: string): ResourceCondition {
  return {
    resource: 'unmeasured',
    component: cs[0]!,
    text: `the CPU budget of ${cs.map((c) => LABEL[c] ?? c).join(' and ')} was enforced, but the CPU probe took no reading ${when}, so which resource ran out cannot be told`,
    knob: 'none (re-run; the observer fell behind)',
  };
}

function receiver(
  name: string,
  v: ConditionInput,
  pairs: [ProbeSample, ProbeSample][],
  when: string,
): ResourceCondition {
  const u = useOver(pairs, 'collector');
  if (!enforced(v, 'collector')) return unenforced(v, ['collector'], u, when);
  if (u.throttled === null) return unmeasured(['collector'], when);
  if (u.throttled > v.threshold) return outOfCpu(v, 'collector', u, when);
  const spare = `throttled in ${pct(u.throttled)} of its periods, ${cores(u.cores)} of its ${v.plan!.collector.cpus} cores used`;
  if (AGENT_SOCKET.has(name))
    return {
      resource: 'rcvbuf',
      component: 'collector',
      text: `the agents' receive buffers (${v.rcvbufBytes === null ? 'size unknown' : `${v.rcvbufBytes.toLocaleString('en-US')} bytes each, as the collector's`}) overflowed in bursts while ${labelOf(v, 'collector')} had CPU to spare (${spare}, ${when})`,
      knob: "receive buffer (the agents' --rcvbuf, capped by net.core.rmem_max)",
    };
  if (RCVBUF.has(name) || name === 'unexplained')
    return {
      resource: 'rcvbuf',
      component: 'collector',
      text: `the receive buffer (${v.rcvbufBytes === null ? 'size unknown' : `${v.rcvbufBytes.toLocaleString('en-US')} bytes`}) overflowed in bursts while the collector had CPU to spare (${spare}, ${when})`,
      knob: "receive buffer (the collector's --rcvbuf, capped by net.core.rmem_max)",
    };
  return {
    resource: 'none',
    component: 'collector',
    text: `the collector had CPU to spare (${spare}, ${when})`,
    knob: 'the push client (its batching and retries)',
  };
}

function scrape(v: ConditionInput, pairs: [ProbeSample, ProbeSample][], when: string): ResourceCondition {
  const prom = useOver(pairs, 'prometheus');
  const pods = useOver(pairs, 'producers');
  const promOn = enforced(v, 'prometheus') && prom.throttled !== null;
  const podsOn = enforced(v, 'producers') && pods.throttled !== null;
  if (promOn && prom.throttled! > v.threshold && (!podsOn || prom.throttled! >= pods.throttled!))
    return outOfCpu(v, 'prometheus', prom, when);
  if (podsOn && pods.throttled! > v.threshold)
    return {
      resource: 'scrape-targets',
      component: 'producers',
      text: `the targets were too slow to serialise: the pods (producers) were throttled in ${pct(pods.throttled!)} of their ${v.plan!.producers.cpus}-core budget's periods (${when})`,
      knob: 'scrape interval or jitter (or cores for the pods)',
    };
  if (!promOn && !podsOn)
    return enforced(v, 'prometheus') || enforced(v, 'producers')
      ? unmeasured(['prometheus', 'producers'], when)
      : unenforced(v, ['prometheus', 'producers'], prom, when);
  return {
    resource: 'none',
    component: 'prometheus',
    text: `neither Prometheus nor the pods ran out of CPU (throttled in ${promOn ? pct(prom.throttled!) : '?'} and ${podsOn ? pct(pods.throttled!) : '?'} of their periods, ${when}): the scrapes are too large or too many for the interval`,
    knob: 'scrape interval or jitter',
  };
}

function limit(name: string, path: PathName, v: ConditionInput): ResourceCondition {
  const b = v.budgets?.[path];
  const what = name.includes(':')
    ? name.slice(name.indexOf(':') + 1)
    : name === 'scrape-over-limit' || name === 'sample-limit'
      ? 'sample_limit'
      : 'a limit';
  const value =
    b?.seriesLimit != null && /max_series|sample/.test(what)
      ? ` ${b.seriesLimit.toLocaleString('en-US')} series`
      : '';
  return {
    resource: 'limit',
    component: path === 'push' ? 'collector' : 'prometheus',
    text: `refused at a configured limit (${what}${value}${b ? `, set by ${b.setBy}` : ''})`,
    knob: 'the limit',
  };
}

/** The resource behind a loss cause (`kernel-rcvbuf`, `collector-refused:max_series`, …) or a failure signal. */
export function conditionOf(name: string, path: PathName, v: ConditionInput): ResourceCondition {
  const kind = kindOf(name, path);
  if (kind === 'limit') return limit(name, path, v);
  if (kind === 'fault')
    return {
      resource: 'fault',
      component: null,
      text: 'a component stopped (a fault, not a resource running out)',
      knob: 'none',
    };
  const grown = growingPairs(kind, v, kind === 'receiver' && AGENT_SOCKET.has(name));
  let { pairs } = grown;
  let when = grown.grew ? `over the ${pairs.length} s in which it grew` : 'over the burst';
  // A sparse CPU probe may have taken no reading in the seconds the cause grew: read the burst instead, and
  // say so, rather than report an enforced budget as unenforced.
  const comp: ResourceComponent = kind === 'receiver' ? 'collector' : 'prometheus';
  if (grown.grew && enforced(v, comp) && useOver(pairs, comp).throttled === null) {
    when = `over the burst (the CPU probe took no reading in the ${pairs.length} s in which it grew)`;
    pairs = burstPairs(v);
  }
  return kind === 'receiver' ? receiver(name, v, pairs, when) : scrape(v, pairs, when);
}
