import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConditionInput, conditionOf } from '../src/analysis/conditions.ts';
import { generatorShortfall, scheduledOrders } from '../src/analysis/resources.ts';
import { withResources } from '../src/analysis/verdict.ts';
import type { CollectorSnapshot, ProbeSample } from '../src/core/record.ts';
import {
  defaultPlan,
  type Enforcement,
  RESOURCE_COMPONENTS,
  type ResourceCounters,
} from '../src/core/resources.ts';
import { newSample } from '../src/probe/sample.ts';

// The plan with one shared store (Prometheus and the collector 0.45 cores each): the conditions read any plan.
const plan = defaultPlan({ cores: 2, memoryBytes: 24 * 2 ** 30 }, 'shared');
const enforced = Object.fromEntries(
  RESOURCE_COMPONENTS.map((c) => [c, { enforcedBy: 'cgroup-v1' }]),
) as Enforcement;
const unenforced = Object.fromEntries(
  RESOURCE_COMPONENTS.map((c) => [c, { enforcedBy: 'unenforced', note: 'no permission' }]),
) as Enforcement;

/** Per-second CFS throttling of a component: `share` of 10 periods throttled, `cores` used. */
interface Load {
  share: number;
  cores: number;
}

/**
 * 20 probe seconds. Drops grow (socketDrops) in seconds 5–9 and scrapes are slow in 12–15; in the seconds
 * listed in `during`, each component runs at the given load, otherwise idle (no throttling).
 */
function series(
  during: Partial<Record<'collector' | 'prometheus' | 'producers', Load>>,
  growing: 'drops' | 'scrapes',
): ProbeSample[] {
  const out: ProbeSample[] = [];
  const acc: Record<string, ResourceCounters> = {};
  let drops = 0;
  for (let i = 0; i < 20; i++) {
    const s = newSample('peak');
    s.tMs = 1_000_000 + i * 1000;
    const hot = growing === 'drops' ? i >= 5 && i <= 9 : i >= 12 && i <= 15;
    if (growing === 'drops' && hot) drops += 500;
    s.collector = { socketDrops: drops } as CollectorSnapshot;
    if (growing === 'scrapes')
      s.pull = {
        scrapeMax: hot ? 9 : 0.1,
        slowTargets: hot ? 3 : 0,
        targets: 10,
        targetsUp: 10,
      } as ProbeSample['pull'];
    s.resources = {};
    for (const c of ['collector', 'prometheus', 'producers'] as const) {
      const l = hot ? (during[c] ?? { share: 0, cores: 0.05 }) : { share: 0, cores: 0.05 };
      acc[c] ??= {
        cpuSeconds: 0,
        nrPeriods: 0,
        nrThrottled: 0,
        memoryBytes: 1,
        memoryPeakBytes: 1,
        memoryLimitBytes: null,
        oomKills: 0,
      };
      const a = acc[c];
      if (i > 0) {
        a.cpuSeconds! += l.cores;
        a.nrPeriods! += 10;
        a.nrThrottled! += Math.round(l.share * 10);
      }
      s.resources[c] = { ...a };
    }
    out.push(s);
  }
  return out;
}

const input = (samples: ProbeSample[], over: Partial<ConditionInput> = {}): ConditionInput => ({
  samples,
  plan,
  enforcement: enforced,
  threshold: 0.2,
  rcvbufBytes: 425_984,
  scrapeTimeoutSeconds: 10,
  window: { fromMs: samples[0]!.tMs, toMs: samples[samples.length - 1]!.tMs },
  ...over,
});

/** #27: the drops of `series(…, 'drops')` moved from the central collector's socket to the agents'. */
const agentDrops = (xs: ProbeSample[]) =>
  xs.map((x) => ({
    ...x,
    pushAgentDrops: x.collector?.socketDrops ?? null,
    collector: { socketDrops: 0 } as CollectorSnapshot,
  }));

describe('the condition classifier: which resource ran out', () => {
  const cases: {
    what: string;
    name: string;
    path: 'pull' | 'push';
    samples: ProbeSample[];
    over?: Partial<ConditionInput>;
    resource: string;
    component: string | null;
    text: RegExp;
    knob: RegExp;
  }[] = [
    {
      what: 'kernel drops while the collector was throttled above the threshold → its CPU budget',
      name: 'kernel-rcvbuf',
      path: 'push',
      samples: series({ collector: { share: 0.8, cores: 0.45 } }, 'drops'),
      resource: 'cpu-budget',
      component: 'collector',
      text: /the collector ran out of its 0\.45-core CPU budget \(throttled in 80% .* over the 5 s in which it grew\)/,
      knob: /^cores for the collector$/,
    },
    {
      what: 'the same drops with the collector below the threshold → the receive buffer',
      name: 'kernel-rcvbuf',
      path: 'push',
      samples: series({ collector: { share: 0.1, cores: 0.2 } }, 'drops'),
      resource: 'rcvbuf',
      component: 'collector',
      text: /the receive buffer \(425,984 bytes\) overflowed in bursts while the collector had CPU to spare \(throttled in 10%/,
      knob: /receive buffer/,
    },
    {
      what: 'throttling outside the seconds the drops grew does not count',
      name: 'kernel-rcvbuf',
      path: 'push',
      // collector throttled only in scrape seconds (12–15), while drops grew in 5–9: not its CPU
      samples: series({ collector: { share: 0.9, cores: 0.45 } }, 'scrapes').map((s, i) => {
        s.collector = {
          socketDrops: i >= 5 && i <= 9 ? (i - 4) * 100 : i > 9 ? 500 : 0,
        } as CollectorSnapshot;
        return s;
      }),
      resource: 'rcvbuf',
      component: 'collector',
      text: /throttled in 0%/,
      knob: /receive buffer/,
    },
    {
      what: "#27 the agents' socket drops grew while the collector's group (with the agents) was throttled → their budget",
      name: 'agent-rcvbuf',
      path: 'push',
      // The central collector's own socket never drops; the agents' drops grow in 5–9, when the group is hot.
      samples: agentDrops(series({ collector: { share: 0.9, cores: 0.25 } }, 'drops')),
      over: { pushAgents: true },
      resource: 'cpu-budget',
      component: 'collector',
      text: /the collector and its agents ran out of push's receiving 0\.45-core CPU budget \(throttled in 90% of their CFS periods, .* over the 5 s in which it grew\)/,
      knob: /^cores for the collector and its agents$/,
    },
    {
      what: "#27 the agents' drops are read from the agents, not the central collector's socket",
      name: 'agent-udp-drop',
      path: 'push',
      // The group is hot in 5–9 (when the central socket drops), but the agents' drops grow in 12–15, when
      // it had CPU to spare: the agents' buffers, not the budget.
      samples: series({ collector: { share: 0.9, cores: 0.45 } }, 'drops').map((x, i) => ({
        ...x,
        pushAgentDrops: i >= 12 && i <= 15 ? (i - 11) * 100 : i > 15 ? 400 : 0,
      })),
      over: { pushAgents: true },
      resource: 'rcvbuf',
      component: 'collector',
      text: /the agents' receive buffers \(425,984 bytes each, as the collector's\) overflowed in bursts while the collector and its agents had CPU to spare \(throttled in 0% .* over the 4 s in which it grew\)/,
      knob: /the agents' --rcvbuf/,
    },
    {
      what: 'slow scrapes with Prometheus throttled → its CPU budget',
      name: 'slow-scrape',
      path: 'pull',
      samples: series({ prometheus: { share: 0.6, cores: 0.45 } }, 'scrapes'),
      resource: 'cpu-budget',
      component: 'prometheus',
      text: /Prometheus ran out of its 0\.45-core CPU budget/,
      knob: /cores for Prometheus/,
    },
    {
      what: 'slow scrapes with the pods throttled → the targets were too slow to serialise',
      name: 'scrape-failed',
      path: 'pull',
      samples: series({ producers: { share: 0.7, cores: 0.8 } }, 'scrapes'),
      resource: 'scrape-targets',
      component: 'producers',
      text: /the targets were too slow to serialise: the pods \(producers\) were throttled in 70%/,
      knob: /scrape interval or jitter/,
    },
    {
      what: 'slow scrapes with neither throttled',
      name: 'slow-scrape',
      path: 'pull',
      samples: series({}, 'scrapes'),
      resource: 'none',
      component: 'prometheus',
      text: /neither Prometheus nor the pods ran out of CPU/,
      knob: /scrape interval or jitter/,
    },
    {
      what: 'refusals at a configured limit → the limit',
      name: 'collector-refused:max_series',
      path: 'push',
      samples: series({}, 'drops'),
      over: {
        budgets: {
          push: { seriesStored: 1200, seriesLimit: 1200, setBy: 'user', failsBy: '' },
          pull: { seriesStored: 1, seriesLimit: 1200, setBy: 'user', failsBy: '' },
        },
      },
      resource: 'limit',
      component: 'collector',
      text: /refused at a configured limit \(max_series 1,200 series, set by user\)/,
      knob: /^the limit$/,
    },
    {
      what: 'enforced, but the CPU probe read nothing while the drops grew → the burst is read instead, and said',
      name: 'kernel-rcvbuf',
      path: 'push',
      samples: series({ collector: { share: 0.8, cores: 0.45 } }, 'drops').map((s, i) => {
        if (i >= 4 && i <= 9) s.resources = {};
        return s;
      }),
      resource: 'rcvbuf',
      component: 'collector',
      text: /over the burst \(the CPU probe took no reading in the 5 s in which it grew\)/,
      knob: /receive buffer/,
    },
    {
      what: 'enforced, but no CPU reading at all → unmeasured (never "no budget was enforced")',
      name: 'kernel-rcvbuf',
      path: 'push',
      samples: series({ collector: { share: 0.8, cores: 0.45 } }, 'drops').map((s) => {
        s.resources = {};
        return s;
      }),
      resource: 'unmeasured',
      component: 'collector',
      text: /the CPU budget of the collector was enforced, but the CPU probe took no reading/,
      knob: /re-run/,
    },
    {
      what: 'slow scrapes, budgets enforced, no CPU reading → unmeasured',
      name: 'slow-scrape',
      path: 'pull',
      samples: series({ prometheus: { share: 0.6, cores: 0.45 } }, 'scrapes').map((s) => {
        s.resources = {};
        return s;
      }),
      resource: 'unmeasured',
      component: 'prometheus',
      text: /the CPU budget of Prometheus and the pods \(producers\) was enforced/,
      knob: /re-run/,
    },
    {
      what: 'no budget enforced → says it cannot tell',
      name: 'kernel-rcvbuf',
      path: 'push',
      samples: series({ collector: { share: 0.8, cores: 0.45 } }, 'drops'),
      over: { enforcement: unenforced },
      resource: 'unenforced',
      component: 'collector',
      text: /no CPU budget was enforced on the collector \(no permission\).* cannot be told/,
      knob: /enforce the budgets/,
    },
  ];
  for (const c of cases)
    it(c.what, () => {
      const got = conditionOf(c.name, c.path, input(c.samples, c.over));
      assert.equal(got.resource, c.resource, got.text);
      assert.equal(got.component, c.component);
      assert.match(got.text, c.text);
      assert.match(got.knob, c.knob);
    });
});

describe('the generator shortfall', () => {
  const profile = {
    name: 't',
    steadyOrdersPerSecond: 1400,
    peakOrdersPerSecond: 14_000,
    afterOrdersPerSecond: 1400,
    rampMs: 1000,
    holdMs: 5000,
    decayMs: 1000,
    fitted: false,
  };
  it('scheduled orders integrate the profile (a 140-pod fleet of 1,400: a tenth)', () => {
    assert.equal(Math.round(scheduledOrders(profile, 0.1, 1000, 6000)), 7000);
    assert.equal(Math.round(scheduledOrders(profile, 0.1, 0, 1000)), 770);
  });

  const samplesAt = (ratePerSecond: (t: number) => number) => {
    const out: ProbeSample[] = [];
    let orders = 0;
    for (let i = 0; i <= 8; i++) {
      const s = newSample('peak');
      s.tMs = 10_000 + i * 1000;
      if (i > 0) orders += ratePerSecond(i);
      s.ledger = { orders } as ProbeSample['ledger'];
      s.ledgerProducers = 2;
      out.push(s);
    }
    return out;
  };
  const config = { profile, pods: 140, fleetPods: 1400, producers: 2 };

  const rows: [string, number, RegExp | null][] = [
    ['kept up: no mention', 1.0, null],
    ['4% behind: not said', 0.96, null],
    [
      '12% behind: said first in the headline',
      0.88,
      /^the generator fell 12\.0% behind the profile .*: this answer is for a lighter burst than the profile; push failed first/,
    ],
  ];
  for (const [what, ratio, re] of rows)
    it(what, () => {
      const sched = (i: number) => scheduledOrders(profile, 0.1, (i - 1) * 1000, i * 1000);
      const sf = generatorShortfall(
        samplesAt((i) => Math.round(sched(i) * ratio)),
        config,
        10_000,
        18_000,
      );
      assert.ok(sf);
      assert.ok(Math.abs(sf.share - (1 - ratio)) < 0.005, `share ${sf.share}`);
      assert.equal(sf.perSecond.length, 8);
      const headline = withResources('push failed first: …', { shortfall: sf });
      if (re) assert.match(headline, re);
      else assert.equal(headline, 'push failed first: …');
    });

  it('behind at the peak only (caught up in the decay): the whole burst says 0, the peak says so first', () => {
    const sched = (i: number) => scheduledOrders(profile, 0.1, (i - 1) * 1000, i * 1000);
    let debt = 0;
    // 20% short in every peak second (2–6), all of it made up in the last two seconds.
    const rate = (i: number) => {
      const s = sched(i);
      if (i >= 2 && i <= 6) {
        debt += 0.2 * s;
        return Math.round(0.8 * s);
      }
      if (i >= 7) {
        const pay = debt / (9 - i);
        debt -= pay;
        return Math.round(s + pay);
      }
      return Math.round(s);
    };
    const sf = generatorShortfall(samplesAt(rate), config, 10_000, 18_000);
    assert.ok(sf);
    assert.ok(sf.share < 0.01, `share ${sf.share}`);
    assert.ok(Math.abs((sf.peakShare ?? 0) - 0.2) < 0.01, `peak ${sf.peakShare}`);
    assert.match(
      withResources('push failed first: …', { shortfall: sf }),
      /^the generator fell 20\.0% behind the profile at its peak \(it caught up later\): this answer is for a lighter peak/,
    );
  });

  it('unenforced budgets are said at the end', () =>
    assert.match(
      withResources('pull held', { shortfall: null, unenforced: ['collector', 'prometheus'] }),
      /^pull held; resources unenforced for collector, prometheus/,
    ));
});

describe('the headline names the resource and the knob', () => {
  it('a first signal without loss carries its condition into the verdict', async () => {
    const { verdictSentence } = await import('../src/analysis/verdict.ts');
    const account = {
      emitted: 100,
      delivered: 100,
      lost: 0,
      lossPct: 0,
      emittedFrom: '',
      deliveredFrom: '',
      causes: [],
    };
    const v = verdictSentence({
      config: { pushMode: 'per-event', transport: 'udp', flushIntervalMs: 10_000 },
      paths: { pull: account, push: account },
      firstFailures: [
        {
          path: 'pull',
          signal: 'slow-scrape',
          secondsAfterBurst: 2,
          detail: '',
          condition: {
            resource: 'cpu-budget',
            component: 'prometheus',
            text: 'Prometheus ran out of its 0.45-core CPU budget',
            knob: 'cores for Prometheus',
          },
        },
      ],
      peaks: { scrapeP99Seconds: 1 },
      scrapeTimeoutSeconds: 10,
    });
    assert.match(
      v,
      /^pull failed first: a scrape took over half its timeout 2\.0 s after the open \(no orders lost; Prometheus ran out of its 0\.45-core CPU budget; knob: cores for Prometheus\)/,
    );
  });
});
