import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accountPath } from '../src/analysis/accounting.ts';
import { partialVerdict, signalPhrase, verdictSentence, whenPhrase } from '../src/analysis/verdict.ts';
import type { FirstFailure } from '../src/core/record.ts';

const ok = (n: number) => accountPath(n, n, 'l', 'd');
const lossy = (n: number, d: number) => accountPath(n, d, 'l', 'd');
const f = (path: 'pull' | 'push', signal: string, s: number): FirstFailure => ({
  path,
  signal,
  secondsAfterBurst: s,
  detail: '',
});
const base = {
  config: { pushMode: 'per-event' as const, transport: 'udp' as const, flushIntervalMs: 10_000 },
  peaks: { scrapeP99Seconds: 0.41 },
  scrapeTimeoutSeconds: 10,
};

describe('verdict (one sentence, from the record only)', () => {
  it('push failed first, pull held — the issue example', () => {
    const v = verdictSentence({
      ...base,
      paths: { pull: ok(1000), push: lossy(1000, 880) },
      firstFailures: [f('push', 'kernel-udp-drop', 0.9)],
    });
    assert.equal(
      v,
      'push (per-event UDP) failed first: kernel receive-buffer drops began 0.9 s after the open (lost 12.0% of orders); pull held with p99 scrape 0.41 s of a 10 s timeout',
    );
  });

  it('neither failed', () => {
    const v = verdictSentence({ ...base, paths: { pull: ok(10), push: ok(10) }, firstFailures: [] });
    assert.match(
      v,
      /^neither path failed: pull held with p99 scrape 0\.41 s of a 10 s timeout; push \(per-event UDP\) held: 10 of 10 orders delivered/,
    );
  });

  it('pull failed first, push held', () => {
    const v = verdictSentence({
      ...base,
      config: { pushMode: 'aggregated', transport: 'tcp', flushIntervalMs: 10_000 },
      paths: { pull: ok(10), push: ok(10) },
      firstFailures: [f('pull', 'failed-scrape', 12.34)],
    });
    assert.match(
      v,
      /^pull failed first: scrapes began failing \(up == 0\) 12\.3 s after the open \(no orders lost\); push \(aggregated TCP\) held/,
    );
  });

  it('both failed: ordered by the first signal, with the gap', () => {
    const v = verdictSentence({
      ...base,
      paths: { pull: lossy(100, 99), push: lossy(100, 50) },
      firstFailures: [
        f('push', 'kernel-udp-drop', 1),
        f('pull', 'slow-scrape', 4.5),
        f('pull', 'failed-scrape', 6),
      ],
    });
    assert.match(
      v,
      /^push \(per-event UDP\) failed first: .*1\.0 s after the open \(lost 50\.0% of orders\); pull followed 3\.5 s later: a scrape took over half its timeout 4\.5 s after the open \(lost 1\.00% of orders\)$/,
    );
  });

  it('failures within one probe tick of each other are not ordered', () => {
    const v = verdictSentence({
      ...base,
      paths: { pull: lossy(100, 60), push: lossy(100, 3) },
      firstFailures: [f('pull', 'prometheus-unresponsive', 11.2), f('push', 'kernel-udp-drop', 11.2)],
    });
    assert.equal(
      v,
      'both paths failed within the same second, 11.2 s after the open: pull — Prometheus stopped answering queries (lost 40.0% of orders); push (per-event UDP) — kernel receive-buffer drops began (lost 97.0% of orders)',
    );
  });

  it('a path that only lost data (no signal) counts as failed, after any path with a signal', () => {
    const v = verdictSentence({
      ...base,
      paths: { pull: lossy(100, 90), push: ok(100) },
      firstFailures: [],
    });
    assert.match(v, /^pull failed first: lost 10\.0% of orders with no failure signal observed; push/);
    const both = verdictSentence({
      ...base,
      paths: { pull: lossy(100, 90), push: lossy(100, 90) },
      firstFailures: [],
    });
    assert.match(both, /^both paths lost data without a failure signal/);
  });

  it('push off: only pull is judged', () => {
    const v = verdictSentence({
      ...base,
      config: { pushMode: 'off', transport: 'udp', flushIntervalMs: 10_000 },
      paths: { pull: ok(5), push: accountPath(0, 0, 'l', 'd') },
      firstFailures: [],
    });
    assert.equal(v, 'pull held with p99 scrape 0.41 s of a 10 s timeout; push was off (--push-mode off)');
  });

  it('a run that failed before its accounting: what had failed by then, no loss claims', () => {
    const v = partialVerdict('LAB_ERR_PROMETHEUS: query timed out', {
      config: base.config,
      firstFailures: [
        f('push', 'collector-drop', -4.2),
        f('pull', 'alert:ScrapeDurationNearTimeout', -6.6),
        f('push', 'kernel-udp-drop', 3.8),
      ],
    });
    assert.equal(
      v,
      'run failed before completing (LAB_ERR_PROMETHEUS: query timed out); by then: first pull: alert ScrapeDurationNearTimeout fired 6.6 s before the open; then push (per-event UDP): the collector began dropping lines 4.2 s before the open',
    );
    assert.match(
      partialVerdict('x', { config: base.config, firstFailures: [] }),
      /no failure signal had been observed/,
    );
  });

  it('phrases', () => {
    assert.equal(whenPhrase(-3.14), '3.1 s before the open');
    assert.equal(whenPhrase(0.01), 'at the open');
    assert.equal(signalPhrase('alert:SampleLimitHit'), 'alert SampleLimitHit fired');
    assert.equal(signalPhrase('unknown-thing'), 'unknown-thing');
  });
});

describe('verdict with loss by cause (run@2)', () => {
  const withCauses = (emitted: number, delivered: number, causes: [string, number][]) => {
    const a = accountPath(emitted, delivered, 'l', 'd');
    a.causes = causes.map(([cause, orders]) => ({
      cause,
      orders,
      share: orders / a.lost,
      countedBy: '',
      estimate: false,
    }));
    return a;
  };
  const budgets = (setBy: 'default' | 'user', limit: number | null) => ({
    pull: { seriesStored: 1, seriesLimit: limit, setBy, failsBy: '' },
    push: { seriesStored: 1, seriesLimit: limit, setBy, failsBy: '' },
  });

  it('names the dominant cause and its share, and keeps the first signal (the issue-10 run)', () => {
    const v = verdictSentence({
      ...base,
      paths: {
        pull: ok(3_061_597),
        push: withCauses(3_061_597, 1_273_634, [
          ['kernel-rcvbuf', 34_036],
          ['collector-refused:max_series', 1_753_927],
          ['unexplained', 0],
        ]),
      },
      firstFailures: [f('push', 'kernel-udp-drop', 1.9)],
      budgets: budgets('default', null),
    });
    assert.equal(
      v,
      'push (per-event UDP) failed first: lost 58.4% of orders — 98.1% of that refused by the collector (max_series); first sign: kernel receive-buffer drops began 1.9 s after the open; pull held with p99 scrape 0.41 s of a 10 s timeout',
    );
  });

  it('says what share could not be verified, never "no orders lost"', () => {
    const v = verdictSentence({
      ...base,
      paths: {
        pull: withCauses(11_346_259, 4_850_768, [
          ['unverified', 6_495_491],
          ['unexplained', 0],
        ]),
        push: ok(10),
      },
      firstFailures: [f('pull', 'prometheus-unresponsive', 5.5)],
    });
    assert.match(v, /^pull failed first: 57\.2% of orders could not be verified/);
    assert.match(v, /first sign: Prometheus stopped answering queries 5\.5 s after the open/);
    assert.doesNotMatch(v, /no orders lost/);
  });

  /** Push lost 40 of 100 orders to the collector's series limit; who set that limit decides the verdict. */
  const refusedAtSeriesLimit = (b: ReturnType<typeof budgets>) =>
    verdictSentence({
      ...base,
      paths: {
        pull: ok(100),
        push: withCauses(100, 60, [
          ['collector-refused:max_series', 40],
          ['unexplained', 0],
        ]),
      },
      firstFailures: [f('push', 'collector-drop', 2)],
      budgets: b,
    });

  it('a loss to the budget the user set is a configured limit, not the path failing', () => {
    const v = refusedAtSeriesLimit(budgets('user', 5000));
    assert.match(v, /^neither path failed: /);
    assert.match(v, /lost 40\.0% of orders to the series budget you set \(5,000\): a configured limit/);
  });

  it('pull over its sample_limit (up == 0 from the budget) is the same configured limit, not pull failing first', () => {
    const v = verdictSentence({
      ...base,
      paths: {
        pull: withCauses(100, 0, [
          ['scrape-over-limit', 100],
          ['unexplained', 0],
        ]),
        push: withCauses(100, 60, [
          ['collector-refused:max_series', 40],
          ['unexplained', 0],
        ]),
      },
      firstFailures: [f('pull', 'failed-scrape', -36.6), f('push', 'collector-drop', 2)],
      budgets: budgets('user', 1200),
    });
    assert.match(
      v,
      /^neither path failed: pull lost 100\.0% of orders to the series budget you set \(1,200\)/,
    );
  });

  it('the same refusals at a limit nobody chose are a failure of the path', () => {
    const v = refusedAtSeriesLimit(budgets('default', null));
    assert.match(v, /^push \(per-event UDP\) failed first: lost 40\.0% of orders — 100\.0% of that refused/);
  });

  it('a path that held but whose stored data trailed the orders says so', () => {
    const pull = ok(100);
    pull.visibility = { p50Seconds: 12, p90Seconds: 24, seconds: 120, neverCaughtUp: 0, method: '' };
    const v = verdictSentence({
      ...base,
      paths: { pull, push: ok(100) },
      firstFailures: [],
      scrapeIntervalSeconds: 5,
    });
    assert.match(
      v,
      /pull held with p99 scrape 0\.41 s of a 10 s timeout, but what Prometheus had stored trailed the orders by 24 s at p90/,
    );
    pull.visibility.p90Seconds = 8;
    assert.doesNotMatch(
      verdictSentence({
        ...base,
        paths: { pull, push: ok(100) },
        firstFailures: [],
        scrapeIntervalSeconds: 5,
      }),
      /trailed/,
    );
  });

  it('a path Prometheus stored none of during the burst says so, though nothing was lost', () => {
    const push = ok(100);
    push.visibility = { p50Seconds: null, p90Seconds: null, seconds: 120, neverCaughtUp: 120, method: '' };
    const v = verdictSentence({
      ...base,
      paths: { pull: ok(100), push },
      firstFailures: [],
      scrapeIntervalSeconds: 5,
    });
    assert.match(v, /push \(per-event UDP\) held: .*, but Prometheus stored none of it during the burst/);
  });

  it('more delivered than emitted carries its explanation (OTLP delta duplicates)', () => {
    const push = {
      ...ok(100),
      delivered: 130,
      lost: -30,
      lossPct: -30,
      overDelivery: 'retried exports counted twice',
    };
    const pull = ok(100);
    const v = verdictSentence({ ...base, paths: { pull, push }, firstFailures: [] });
    assert.match(
      v,
      /^push \(per-event UDP\) failed first: 30 more orders delivered than emitted \(retried exports counted twice\) with no failure signal observed/,
    );
  });

  it('an interrupted run says where it was interrupted', () => {
    assert.match(
      partialVerdict('LAB_ERR_INTERRUPTED: interrupted by SIGINT', {
        config: base.config,
        firstFailures: [f('pull', 'slow-scrape', 3)],
        interruptedDuring: 'peak',
      }),
      /^run interrupted during peak \(the numbers are partial\); by then: first pull: a scrape took over half its timeout 3\.0 s after the open$/,
    );
  });
});
