import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attributeLoss } from '../src/analysis/causes.ts';
import { causeOfSignal, signalImpact } from '../src/analysis/impact.ts';

describe('impact: the loss cause a failure signal points at', () => {
  const table: [string, string | null][] = [
    ['kernel-udp-drop', 'kernel-rcvbuf'],
    ['datagram-loss', 'kernel-rcvbuf'],
    ['agent-udp-drop', 'agent-rcvbuf'],
    ['collector-drop', 'collector-refused'],
    ['send-error', 'send-error'],
    ['failed-scrape', 'scrape-failed'],
    ['sample-limit', 'scrape-over-limit'],
    ['interval-stretch', 'prometheus-overloaded'],
    ['prometheus-unresponsive', 'prometheus-overloaded'],
    ['died:producer-3', 'target-died'],
    ['died:collector', 'target-died'],
    ['slow-scrape', null],
    ['collector-unresponsive', null],
    ['alert:InstanceDown', null],
    ['something-new', null],
  ];
  for (const [signal, cause] of table)
    it(`${signal} → ${cause ?? '—'}`, () => assert.equal(causeOfSignal(signal), cause));

  const causes = attributeLoss(1000, [
    { cause: 'kernel-rcvbuf', orders: 500, countedBy: 'x', estimate: false },
    { cause: 'collector-refused:series-limit', orders: 200, countedBy: 'x', estimate: true },
    { cause: 'collector-refused:parse-error', orders: 100, countedBy: 'x', estimate: true },
  ]);

  it('sums every refusal reason for collector-drop, and the exact cause otherwise', () => {
    assert.equal(signalImpact('collector-drop', causes), 300);
    assert.equal(signalImpact('kernel-udp-drop', causes), 500);
    assert.equal(signalImpact('datagram-loss', causes), 500);
  });
  it('0 when the cause lost nothing; null when the signal has no cause or the record no causes (run@1)', () => {
    assert.equal(signalImpact('send-error', causes), 0);
    assert.equal(signalImpact('slow-scrape', causes), null);
    assert.equal(signalImpact('kernel-udp-drop', undefined), null);
  });
});
