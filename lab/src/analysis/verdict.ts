import type { BurstConfig, FirstFailure, PathAccount, PathBudget, PathName, Peaks } from '../core/record.ts';
import { type GeneratorShortfall, SHORTFALL_HEADLINE_SHARE } from '../core/resources.ts';
import { pushLabel } from '../core/transports.ts';
import { formatLossPct } from './accounting.ts';
import { causeText, dominantCause } from './causes.ts';

// The verdict in one sentence, generated from the record only (pure). It names what failed first, and for
// a path that lost orders the dominant cause with its share (run@2 records carry the loss by cause), so a
// reader fixes the cause, not the first symptom. Examples:
//   push (per-event UDP) failed first: lost 58.4% of orders — 98% of that refused by the collector
//   (max_series); first sign: kernel receive-buffer drops began 1.9 s after the open; pull held with …
//   pull: 57% of orders could not be verified — Prometheus stopped answering 5.5 s after the open; …

export interface VerdictInput {
  config: Pick<BurstConfig, 'pushMode' | 'transport' | 'flushIntervalMs' | 'pull'>;
  paths: Record<PathName, PathAccount>;
  firstFailures: readonly FirstFailure[];
  peaks: Pick<Peaks, 'scrapeP99Seconds'>;
  scrapeTimeoutSeconds: number;
  /** run@2: the limits in force (a loss to a limit the user set is configuration, not the path failing). */
  budgets?: Record<PathName, PathBudget>;
  /** run@2: the scrape interval, to judge when stored data trailing the orders is worth a mention. */
  scrapeIntervalSeconds?: number;
  /** run@3: the generator against the profile; more than 5% behind is said first. */
  shortfall?: GeneratorShortfall | null;
  /** run@3: components whose budget nobody enforced (said last, so a reader knows the budgets are not real). */
  unenforced?: string[];
}

const SIGNAL_PHRASES: Record<string, string> = {
  'kernel-udp-drop': 'kernel receive-buffer drops began',
  'agent-udp-drop': "kernel receive-buffer drops on the agents' sockets began",
  'datagram-loss': "the run's datagrams began going missing",
  'collector-drop': 'the collector began dropping lines',
  'send-error': 'push sends began failing',
  'export-throttled': 'the OTLP receiver began asking exporters to back off (429/503)',
  'export-failed': 'OTLP exports began failing after retries',
  'otlp-refused': 'the OTLP receiver began refusing points',
  'slow-scrape': 'a scrape took over half its timeout',
  'failed-scrape': 'scrapes began failing (up == 0)',
  'sample-limit': 'sample_limit began discarding scrapes',
  'interval-stretch': 'Prometheus fell behind its scrape interval',
  'prometheus-unresponsive': 'Prometheus stopped answering queries',
  'collector-unresponsive': 'the collector stopped answering',
  // #29: pull through per-host agents
  'remote-write-behind': "an agent's remote-write queue fell behind",
  'remote-write-shards-max': "an agent's remote write reached its maximum shards",
  'remote-write-refused': 'the central store began refusing remote writes (429/5xx)',
  'remote-write-retried': 'agents began retrying remote writes',
  'remote-write-failed': 'agents began giving up samples',
};

export function signalPhrase(signal: string): string {
  if (signal.startsWith('alert:')) return `alert ${signal.slice(6)} fired`;
  if (signal.startsWith('died:')) return `${signal.slice(5)} stopped running`;
  return SIGNAL_PHRASES[signal] ?? signal;
}

export function whenPhrase(seconds: number): string {
  const a = Math.abs(seconds);
  if (a < 0.05) return 'at the open';
  return `${a.toFixed(1)} s ${seconds > 0 ? 'after' : 'before'} the open`;
}

const secondsText = (s: number) => (s >= 10 ? s.toFixed(1) : s >= 1 ? s.toFixed(2) : s.toFixed(2));

/** The push path's label (core/transports.ts). */
export { pushLabel };

function lossText(a: PathAccount): string {
  if (a.emitted === 0) return 'nothing emitted';
  if (a.lost === 0) return 'no orders lost';
  if (a.lost < 0)
    return `${(-a.lost).toLocaleString('en-US')} more orders delivered than emitted${a.overDelivery ? ` (${a.overDelivery})` : ''}`;
  const top = a.causes ? dominantCause(a.causes) : null;
  if (!top) return `lost ${formatLossPct(a.lossPct)} of orders`;
  if (top.cause === 'unverified') {
    const verified = a.lost - top.orders;
    const rest =
      verified > 0 ? `, and a further ${formatLossPct((verified / a.emitted) * 100)} of orders lost` : '';
    return `${formatLossPct((top.orders / a.emitted) * 100)} of orders could not be verified (Prometheus did not answer for their producers)${rest}`;
  }
  const cond = top.condition ? ` — ${top.condition.text}; knob: ${top.condition.knob}` : '';
  return `lost ${formatLossPct(a.lossPct)} of orders — ${formatLossPct(top.share * 100)} of that ${causeText(top.cause)}${cond}`;
}

/** run@3: the generator's shortfall first (the answer is for a lighter burst), the unenforced budgets last. */
export function withResources(sentence: string, v: Pick<VerdictInput, 'shortfall' | 'unenforced'>): string {
  const sf = v.shortfall;
  const peak = sf?.peakShare ?? 0;
  const first =
    sf && sf.share > SHORTFALL_HEADLINE_SHARE
      ? `the generator fell ${formatLossPct(sf.share * 100)} behind the profile (${sf.generated.toLocaleString('en-US')} of ${sf.scheduled.toLocaleString('en-US')} orders scheduled): this answer is for a lighter burst than the profile; `
      : sf && peak > SHORTFALL_HEADLINE_SHARE
        ? `the generator fell ${formatLossPct(peak * 100)} behind the profile at its peak (it caught up later): this answer is for a lighter peak than the profile; `
        : '';
  const last =
    v.unenforced && v.unenforced.length > 0
      ? `; resources unenforced for ${v.unenforced.join(', ')}: their budgets are not measured limits`
      : '';
  return `${first}${sentence}${last}`;
}

/** Causes that are a limit the user configured (--series-budget) rather than the path failing. */
const BUDGET_CAUSES = new Set([
  'collector-refused:max_series',
  'receiver-refused:max_series',
  'scrape-over-limit',
]);

/** Orders this path lost to a limit the user set, when that is all it lost (null otherwise). */
function configuredOnly(path: PathName, v: VerdictInput): number | null {
  const a = v.paths[path];
  const b = v.budgets?.[path];
  if (!a.causes || a.lost <= 0 || b?.setBy !== 'user') return null;
  const configured = a.causes.filter((c) => BUDGET_CAUSES.has(c.cause)).reduce((x, c) => x + c.orders, 0);
  return configured === a.lost ? configured : null;
}

/** "but what Prometheus had stored trailed the orders by 24 s at p90", when that exceeds 2 intervals. */
function lateText(path: PathName, v: VerdictInput): string {
  const vis = v.paths[path].visibility;
  const p90 = vis?.p90Seconds;
  const interval = v.scrapeIntervalSeconds;
  if (p90 === undefined || interval === undefined) return '';
  // Coarse readings (Prometheus missed its rule evaluations) make every delay an upper bound: no claim.
  if ((vis?.resolutionSeconds ?? 0) > 2 * interval) return '';
  if (vis && vis.seconds > 0 && vis.neverCaughtUp === vis.seconds)
    return ', but Prometheus stored none of it during the burst (what the lab counted was read from the collector directly)';
  if (p90 === null)
    return v.paths[path].visibility
      ? ', but what Prometheus had stored never caught up with the orders for the slowest tenth of the burst'
      : '';
  return p90 > 2 * interval
    ? `, but what Prometheus had stored trailed the orders by ${p90.toFixed(0)} s at p90`
    : '';
}

function heldText(path: PathName, v: VerdictInput): string {
  const a = v.paths[path];
  const configured = configuredOnly(path, v);
  if (configured !== null) {
    const b = v.budgets![path];
    return `${path === 'pull' ? 'pull' : pushLabel(v.config)} lost ${formatLossPct(a.lossPct)} of orders to the series budget you set (${b.seriesLimit?.toLocaleString('en-US')}): a configured limit, not the path failing`;
  }
  if (path === 'pull') {
    const p99 = v.peaks.scrapeP99Seconds;
    const scrape =
      p99 === null
        ? 'no scrape duration observed'
        : `p99 scrape ${secondsText(p99)} s of a ${v.scrapeTimeoutSeconds} s timeout`;
    return `pull held with ${scrape}${lateText('pull', v)}`;
  }
  return `${pushLabel(v.config)} held: ${a.delivered.toLocaleString('en-US')} of ${a.emitted.toLocaleString('en-US')} orders delivered, no drops observed${lateText('push', v)}`;
}

interface PathOutcome {
  path: PathName;
  first: FirstFailure | null;
  lossy: boolean;
  failed: boolean;
}

/**
 * The signals a configured series budget raises when it is reached. A scrape over sample_limit is discarded
 * whole, so `up` goes to 0 too ('failed-scrape'): when every lost order was the budget's, that is the same
 * limit, not the path failing (a swarm run of 2026-12-07 with --series-budget 1200 headlined "pull failed
 * first" for it while calling push's refusals "a configured limit").
 */
const BUDGET_SIGNALS = new Set([
  'collector-drop',
  'otlp-refused',
  'sample-limit',
  'alert:SampleLimitHit',
  'failed-scrape',
]);

export function verdictSentence(v: VerdictInput): string {
  return withResources(pathsSentence(v), v);
}

function pathsSentence(v: VerdictInput): string {
  const pushOff = v.config.pushMode === 'off';
  const outcome = (path: PathName): PathOutcome => {
    // A loss that is only the user's own budget, with no other signal, is configuration, not a failure.
    const configured = configuredOnly(path, v) !== null;
    const first =
      v.firstFailures.find((f) => f.path === path && !(configured && BUDGET_SIGNALS.has(f.signal))) ?? null;
    // More delivered than emitted is wrong data too (duplicates), not a path that held.
    const lossy = v.paths[path].lost !== 0 && !configured;
    return { path, first, lossy, failed: first !== null || lossy };
  };
  const label = (p: PathName) => (p === 'pull' ? 'pull' : pushLabel(v.config));
  const failedText = (o: PathOutcome) => {
    const a = v.paths[o.path];
    if (o.first && a.causes && a.lost > 0)
      return `${lossText(a)}; first sign: ${signalPhrase(o.first.signal)} ${whenPhrase(o.first.secondsAfterBurst)}`;
    const c = o.first?.condition;
    const cond = c && c.resource !== 'fault' ? `; ${c.text}; knob: ${c.knob}` : '';
    return o.first
      ? `${signalPhrase(o.first.signal)} ${whenPhrase(o.first.secondsAfterBurst)} (${lossText(a)}${cond})`
      : `${lossText(a)} with no failure signal observed`;
  };

  const pullOff = v.config.pull === false;
  const pull = pullOff
    ? { path: 'pull' as const, first: null, lossy: false, failed: false }
    : outcome('pull');
  const push = pushOff
    ? { path: 'push' as const, first: null, lossy: false, failed: false }
    : outcome('push');
  const pushOffText = 'push was off (--push-mode off)';

  const pullOffText = 'pull was not measured (--pull off: the pods were not scraped)';
  if (pullOff && !push.failed) return `${heldText('push', v)}; ${pullOffText}`;
  if (!pull.failed && !push.failed) {
    return pushOff
      ? `pull held with ${heldText('pull', v).replace(/^pull held with /, '')}; ${pushOffText}`
      : `neither path failed: ${heldText('pull', v)}; ${heldText('push', v)}`;
  }
  if (pull.failed !== push.failed) {
    const bad = pull.failed ? pull : push;
    const good: PathName = pull.failed ? 'push' : 'pull';
    const rest =
      pushOff && good === 'push' ? pushOffText : pullOff && good === 'pull' ? pullOffText : heldText(good, v);
    return `${label(bad.path)} failed first: ${failedText(bad)}; ${rest}`;
  }
  // Both failed: order by the first signal (a path that only lost data, without a signal, comes last).
  const t = (o: PathOutcome) => (o.first ? o.first.secondsAfterBurst : Number.POSITIVE_INFINITY);
  const [first, second] = t(pull) <= t(push) ? [pull, push] : [push, pull];
  if (!first.first) {
    return `both paths lost data without a failure signal: pull ${lossText(v.paths.pull)}, ${pushLabel(v.config)} ${lossText(v.paths.push)}`;
  }
  // Within one probe tick of each other: the probes cannot order them; say so.
  if (second.first && Math.abs(second.first.secondsAfterBurst - first.first.secondsAfterBurst) < 1) {
    return `both paths failed within the same second, ${whenPhrase(first.first.secondsAfterBurst)}: pull — ${signalPhrase(pull.first!.signal)} (${lossText(v.paths.pull)}); ${pushLabel(v.config)} — ${signalPhrase(push.first!.signal)} (${lossText(v.paths.push)})`;
  }
  const later =
    second.first !== null
      ? `${label(second.path)} followed ${(second.first.secondsAfterBurst - first.first.secondsAfterBurst).toFixed(1)} s later: ${failedText(second)}`
      : `${label(second.path)} also failed: ${failedText(second)}`;
  return `${label(first.path)} failed first: ${failedText(first)}; ${later}`;
}

/**
 * For a run that failed before its accounting: what had failed by then, per path, without loss claims
 * (the delivered counts of an unfinished run are not final).
 */
export function partialVerdict(
  error: string,
  v: Pick<VerdictInput, 'config' | 'firstFailures'> & { interruptedDuring?: string },
): string {
  const label = (p: PathName) => (p === 'pull' ? 'pull' : pushLabel(v.config));
  const firsts = (['pull', 'push'] as const)
    .map((p) => v.firstFailures.find((f) => f.path === p))
    .filter((f): f is FirstFailure => f !== undefined)
    .sort((a, b) => a.secondsAfterBurst - b.secondsAfterBurst);
  const sofar =
    firsts.length === 0
      ? 'no failure signal had been observed'
      : firsts
          .map(
            (f, i) =>
              `${i === 0 ? 'first ' : 'then '}${label(f.path)}: ${signalPhrase(f.signal)} ${whenPhrase(f.secondsAfterBurst)}`,
          )
          .join('; ');
  if (v.interruptedDuring !== undefined)
    return `run interrupted during ${v.interruptedDuring} (the numbers are partial); by then: ${sofar}`;
  return `run failed before completing (${error}); by then: ${sofar}`;
}
