import type { ProbeSample } from '../../core/record.ts';
import type { AgentSelf } from '../../core/record-agents.ts';
import type { Detection } from './detection.ts';
import { firstIncrease, firstWhere, fmt } from './scan.ts';

// #29: the pull agents' failure signals, from their own /metrics and the central store's receiver: the
// remote-write queue behind, its shards at their maximum, the central store answering 429/5xx (or refusing),
// samples retried (the central store unreachable) or given up. Agent by agent: the first agent to show it.

/** The remote-write queue trails the WAL by more than this many scrape intervals (and ≥ 10 s). */
export const BEHIND_INTERVALS = 2;

const names = (samples: readonly ProbeSample[]) => {
  const out = new Set<string>();
  for (const s of samples) for (const k of Object.keys(s.agents ?? {})) out.add(k);
  return [...out].sort();
};

/** The earliest first increase of one agent counter over every agent. */
function firstAgentIncrease(samples: readonly ProbeSample[], field: keyof AgentSelf) {
  let best: { sample: ProbeSample; delta: number; agent: string } | null = null;
  for (const agent of names(samples)) {
    const f = firstIncrease(samples, (s) => s.agents?.[agent]?.[field] ?? null);
    if (f && (!best || f.sample.tMs < best.sample.tMs)) best = { sample: f.sample, delta: f.delta, agent };
  }
  return best;
}

/** An agent's newest sent sample trails its newest appended by over max(10 s, 2 scrape intervals). */
export function remoteWriteBehind({ samples, opts, add }: Detection): void {
  const limit = Math.max(10, BEHIND_INTERVALS * opts.scrapeIntervalSeconds);
  const behind = firstWhere(samples, (s) => {
    for (const [agent, a] of Object.entries(s.agents ?? {})) {
      if (a.highestTs === null || a.highestSentTs === null || !(a.highestSentTs > 0)) continue;
      const lag = a.highestTs - a.highestSentTs;
      if (lag > limit)
        return `${agent}'s remote-write queue ${lag.toFixed(1)} s behind its WAL (newest sent vs newest appended; over ${limit} s)${a.samplesPending ? `, ${fmt(a.samplesPending)} samples pending` : ''}`;
    }
    return null;
  });
  if (behind) add('pull', 'remote-write-behind', behind.sample, behind.detail);
}

/** An agent runs as many remote-write shards as it may and wants more (or is at its maximum). */
export function shardsAtMax({ samples, add }: Detection): void {
  const at = firstWhere(samples, (s) => {
    for (const [agent, a] of Object.entries(s.agents ?? {})) {
      if (a.shards === null || a.shardsMax === null || !(a.shardsMax > 0)) continue;
      if (a.shards >= a.shardsMax)
        return `${agent} runs ${fmt(a.shards)} of at most ${fmt(a.shardsMax)} remote-write shards${a.shardsDesired !== null ? ` (desired ${fmt(Math.round(a.shardsDesired))})` : ''}`;
    }
    return null;
  });
  if (at) add('pull', 'remote-write-shards-max', at.sample, at.detail);
}

/**
 * The central store answered remote writes with 429 or 5xx, or refused them (4xx); or an agent had to retry
 * samples (no answer at all: the store down or cut off) or gave samples up.
 */
export function centralRefused({ samples, add }: Detection): void {
  const status = firstIncrease(samples, (s) => {
    const r = s.centralReceiver;
    return r ? r.throttled + r.errors + r.refused : null;
  });
  if (status) {
    const r = status.sample.centralReceiver!;
    add(
      'pull',
      'remote-write-refused',
      status.sample,
      `the central store answered +${fmt(status.delta)} remote writes with an error (so far: ${fmt(r.throttled)} × 429, ${fmt(r.errors)} × 5xx, ${fmt(r.refused)} × other 4xx)`,
    );
  }
  const counted: [keyof AgentSelf, string, string][] = [
    [
      'samplesRetried',
      'remote-write-retried',
      'retried +N samples (the central store did not take them: 429/5xx or no answer)',
    ],
    [
      'samplesFailed',
      'remote-write-failed',
      'gave up +N samples (non-recoverable error from the central store)',
    ],
  ];
  for (const [field, signal, what] of counted) {
    const f = firstAgentIncrease(samples, field);
    if (f) add('pull', signal, f.sample, `${f.agent} ${what.replace('N', fmt(f.delta))}`);
  }
}
