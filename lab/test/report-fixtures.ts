// run@2 records for the report tests (the run@1 ones come from fixtures.ts): loss by cause, visibility,
// budgets, false pages, pull resolution, an interrupted run. Hand-made, no I/O.
import assert from 'node:assert/strict';
import { attributeLoss } from '../src/analysis/causes.ts';
import type { RunRecord } from '../src/core/record.ts';
import { record, series } from './fixtures.ts';

/** A run@2 record: push lost 1,000 orders (kernel 600 exact, series limit ≈ 300, unexplained 100); pull 200. */
export function record2(o: Partial<RunRecord> = {}): RunRecord {
  const base = record({
    series: series(-10, 20, (sec) => ({
      hostMemAvailable: (20 - sec / 10) * 2 ** 30,
      rss: { prometheus: (1 + sec / 40) * 2 ** 30, collector: 2 ** 28 },
      alerts: sec >= 5 ? [{ name: 'UdpReceiveErrors', state: sec < 7 ? 'pending' : 'firing', count: 2 }] : [],
      // a probe gap: the collector did not answer for three ticks
      ...(sec >= 6 && sec <= 8 ? { collector: null } : {}),
    })),
  });
  const pushCauses = attributeLoss(1000, [
    {
      cause: 'kernel-rcvbuf',
      orders: 600,
      countedBy: '600 datagrams sent but never received',
      estimate: false,
    },
    {
      cause: 'collector-refused:series-limit',
      orders: 300,
      countedBy: '300 lines refused by the collector (series-limit)',
      estimate: true,
    },
  ]);
  const pullCauses = attributeLoss(200, [
    {
      cause: 'target-died',
      orders: 200,
      countedBy: 'ledger − stored orders_total of 1 pod(s)',
      estimate: false,
    },
  ]);
  return {
    ...base,
    schema: 'pushpull-lab/run@2',
    paths: {
      pull: {
        ...base.paths.pull,
        delivered: 4800,
        lost: 200,
        lossPct: 4,
        causes: pullCauses,
        visibility: {
          p50Seconds: 7.5,
          p90Seconds: 14,
          seconds: 20,
          neverCaughtUp: 0,
          method: 'orders_total as stored, per scrape',
        },
      },
      push: {
        ...base.paths.push,
        causes: pushCauses,
        visibility: {
          p50Seconds: 1.2,
          p90Seconds: null,
          seconds: 20,
          neverCaughtUp: 3,
          method: "the collector's orders, per probe",
        },
      },
    },
    firstFailures: [
      ...base.firstFailures,
      { path: 'push', signal: 'collector-drop', secondsAfterBurst: 2.5, detail: 'series rejected' },
      { path: 'pull', signal: 'slow-scrape', secondsAfterBurst: 3, detail: 'p99 over half the timeout' },
      { path: 'pull', signal: 'died:producer-1', secondsAfterBurst: 4, detail: 'producer-1 exited' },
    ],
    budgets: {
      pull: {
        seriesStored: 31_570,
        seriesLimit: 3_158,
        setBy: 'user',
        failsBy: 'a scrape over sample_limit is discarded whole',
      },
      push: {
        seriesStored: 100_000,
        seriesLimit: 100_000,
        setBy: 'user',
        failsBy: 'a line for a new series is refused',
      },
    },
    falsePages: [{ alert: 'UdpReceiveErrors', path: 'push', firstFiringS: 5.2, maxFiring: 2 }],
    pullResolution: { expectedPerPod: 4, medianPerPod: 3, minPerPod: 1, podsWithNone: 0 },
    ...o,
  };
}

/** A page that loads nothing: no external script, stylesheet, image or frame; scripts and styles inline. */
export function assertSelfContained(html: string): void {
  assert.ok(!/<(link|img|iframe|object|embed)\b/i.test(html), 'no external element');
  assert.ok(!/<script\b[^>]*\bsrc=/i.test(html), 'no script src');
  assert.ok(!/\b(src|href)\s*=\s*["']?(https?:)?\/\//i.test(html), 'no src/href to a URL');
  assert.ok(!/@import|url\(\s*["']?(https?:)?\/\//i.test(html), 'no CSS import or remote url()');
}
