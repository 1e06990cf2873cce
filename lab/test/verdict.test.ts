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
  config: { pushMode: 'per-event' as const, transport: 'udp' as const },
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
      config: { pushMode: 'aggregated', transport: 'tcp' },
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
      config: { pushMode: 'off', transport: 'udp' },
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
